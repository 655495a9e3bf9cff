package dev.cordon.runner.tools;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.Lock;

/**
 * The agent's own memory: {@code MEMORY.md} in its workspace, kept by the agent (the {@code
 * remember} tool appends to it; {@code edit} and {@code write} condense or correct it) and shown to
 * the model at the end of the system prompt of every turn. It lives in the workspace, so it
 * outlives sandboxes, sessions and restarts. Read and written inside the sandbox only: the host
 * never opens this agent-written file. Thread-safe.
 */
public final class Memory {
    public static final String FILE = "MEMORY.md";
    /** The most of the file the prompt shows, and the size {@code remember} will not grow it past. */
    public static final int MAX_BYTES = 16 * 1024;

    private final Path file;
    private final Lock lock;

    public Memory(Path workspace) {
        this(workspace, new FileLocks());
    }

    Memory(Path workspace, FileLocks locks) {
        this.file = workspace.resolve(FILE);
        this.lock = locks.lockFor(file);
    }

    /**
     * The memory as the system prompt's last section, or "" when there is none. The same file
     * gives the same bytes, so the prompt stays byte-stable (and cacheable) until the memory changes.
     */
    public String section() {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return "";
        }
        byte[] head;
        boolean cut;
        try (InputStream in = Files.newInputStream(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            head = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException e) {
            return "\n\n## Your memory (/workspace/" + FILE + ")\n[could not be read: " + Text.describe(e) + "]\n";
        }
        cut = head.length > MAX_BYTES;
        String text = new String(head, 0, Math.min(head.length, MAX_BYTES), StandardCharsets.UTF_8).strip();
        if (text.isEmpty()) {
            return "";
        }
        return "\n\n## Your memory (/workspace/" + FILE + ", kept by you across conversations)\n" + text + "\n"
                + (cut
                        ? "[the rest is not shown: the file is over " + (MAX_BYTES / 1024) + " KiB; condense it]\n"
                        : "");
    }

    /** Appends {@code fact} as one line; refuses when the file would outgrow {@link #MAX_BYTES}. */
    ToolOutput remember(String fact) {
        String line = "- " + fact.strip().replaceAll("\\s*\\R\\s*", " ") + "\n";
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        lock.lock();
        try {
            if (Files.isSymbolicLink(file) || (Files.exists(file) && !Files.isRegularFile(file))) {
                return ToolOutput.error(FILE + " is not a regular file; remove it, then remember again.");
            }
            long size = Files.exists(file) ? Files.size(file) : 0;
            if (size + bytes.length > MAX_BYTES) {
                return ToolOutput.error("Your memory is full (" + size + " of " + MAX_BYTES + " bytes). Condense "
                        + FILE + " with edit or write, then remember again.");
            }
            Files.write(
                    file,
                    bytes,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS);
            return ToolOutput.ok("Remembered. " + FILE + " now holds " + Text.count(size + bytes.length, "byte")
                    + "; it is shown to you at the start of every conversation.");
        } catch (IOException e) {
            return ToolOutput.error("Cannot write " + FILE + ": " + Text.describe(e));
        } finally {
            lock.unlock();
        }
    }
}
