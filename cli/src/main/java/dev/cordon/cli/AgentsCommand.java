package dev.cordon.cli;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "agents",
        description = "Your agents: list, create, show, edit their instructions, share a folder, delete"
                + " (docs/agents.md).",
        mixinStandardHelpOptions = true)
final class AgentsCommand {
    /** The most of an agent's memory file {@code show} prints. */
    static final int SHOW_BYTES = 16 * 1024;

    @ParentCommand
    CordonCommand root;

    @Command(
            name = "list",
            description = "Every agent with its sessions, memory and policy.",
            mixinStandardHelpOptions = true)
    int list() {
        AccessClient.table(
                root.context().out(),
                // MEMORY.md: the agent's own notes, not RAM (that is per sandbox: ./cordon sessions list)
                List.of("AGENT", "SESSIONS", "MEMORY.md", "POLICY"),
                listing().stream()
                        .map(a -> List.of(
                                a.name(),
                                a.liveSessions() + " live / " + a.sessions(),
                                a.memoryBytes() < 0 ? "none" : a.memoryBytes() + " B",
                                a.policy()))
                        .toList(),
                "No agents.");
        return Exit.OK;
    }

    @Command(
            name = "create",
            description = "Create an agent: its folder, workspace and AGENTS.md. Names are lower case letters,"
                    + " digits and dashes, starting with a letter (at most 32).",
            mixinStandardHelpOptions = true)
    int create(
            @Parameters(index = "0", paramLabel = "NAME") String name,
            @Option(
                            names = "--instructions",
                            paramLabel = "TEXT",
                            description = "its AGENTS.md (default: a short starting text to edit)")
                    String instructions) {
        return AccessClient.change(root, new ControlRequest.AgentsCreate(name, instructions));
    }

    @Command(
            name = "share",
            description = "Lend agent READER a folder of OWNER's workspace, read-only at /shared/OWNER/FOLDER from"
                    + " READER's next sandbox start; nothing else of OWNER's crosses (docs/agents.md).",
            mixinStandardHelpOptions = true)
    int share(
            @Parameters(index = "0", paramLabel = "OWNER") String owner,
            @Parameters(index = "1", paramLabel = "FOLDER", description = "relative to OWNER's workspace")
                    String folder,
            @Option(names = "--with", paramLabel = "READER", required = true) String reader) {
        return AccessClient.change(root, new ControlRequest.AgentsShare(owner, folder, reader, false));
    }

    @Command(
            name = "unshare",
            description = "Take a shared folder back; it is gone from READER's next sandbox start.",
            mixinStandardHelpOptions = true)
    int unshare(
            @Parameters(index = "0", paramLabel = "OWNER") String owner,
            @Parameters(index = "1", paramLabel = "FOLDER") String folder,
            @Option(names = "--with", paramLabel = "READER", required = true) String reader) {
        return AccessClient.change(root, new ControlRequest.AgentsShare(owner, folder, reader, true));
    }

    @Command(
            name = "delete",
            description = "Delete an agent: asks you to type its name (--yes skips that), moves its folder"
                    + " (AGENTS.md, policy, workspace, memory, skills) and its transcripts to archive/ in the"
                    + " Cordon home, unwires its chats and frees the name. Its messages and audit entries stay."
                    + " Refused while it has a live sandbox, unless --force (docs/agents.md).",
            mixinStandardHelpOptions = true)
    int delete(
            @Parameters(index = "0", paramLabel = "NAME") String name,
            @Option(names = "--yes", description = "do not ask for confirmation (for scripts)") boolean yes,
            @Option(names = "--force", description = "stop the agent's live sandboxes first") boolean force) {
        if (!yes && !confirmed(name)) {
            throw new CliException(Exit.USAGE, "cordon: agent " + name + " was not deleted (the name did not match)");
        }
        return AccessClient.change(root, new ControlRequest.AgentsDelete(name, force));
    }

    /** Asks for the agent's name on stdin, as a guard against deleting the wrong one. */
    private boolean confirmed(String name) {
        var out = root.context().out();
        out.print("Delete agent " + name + "? Its folder and transcripts move to the archive; its chats stop"
                + " reaching it. Type its name to confirm: ");
        out.flush();
        try {
            java.io.ByteArrayOutputStream typed = new java.io.ByteArrayOutputStream();
            for (int b = root.context().in().read();
                    b != -1 && b != '\n';
                    b = root.context().in().read()) {
                typed.write(b);
            }
            out.println();
            return typed.toString(StandardCharsets.UTF_8).strip().equals(name);
        } catch (IOException e) {
            return false;
        }
    }

    @Command(
            name = "show",
            description = "An agent's folder, sessions, policy, instructions and memory.",
            mixinStandardHelpOptions = true)
    int show(@Parameters(index = "0", paramLabel = "NAME") String name) {
        ControlEvent.AgentRow agent = find(name);
        var out = root.context().out();
        Path folder = Path.of(agent.folder());
        out.printf(Locale.ROOT, "agent     %s%n", agent.name());
        out.printf(Locale.ROOT, "folder    %s%n", folder);
        out.printf(
                Locale.ROOT,
                "sessions  %d live, %d in all (./cordon sessions list)%n",
                agent.liveSessions(),
                agent.sessions());
        out.printf(Locale.ROOT, "policy    %s (./cordon policy explain %s)%n", agent.policy(), agent.name());
        out.println();
        out.println("== AGENTS.md (its instructions; ./cordon agents edit " + agent.name() + ")");
        out.println(ApprovalCards.visible(head(folder.resolve("AGENTS.md"))));
        out.println("== workspace/MEMORY.md (kept by the agent itself)");
        out.println(ApprovalCards.visible(head(folder.resolve("workspace").resolve("MEMORY.md"))));
        return Exit.OK;
    }

    @Command(
            name = "edit",
            description = "Open the agent's AGENTS.md in $VISUAL or $EDITOR (else vi). It applies from the next turn.",
            mixinStandardHelpOptions = true)
    int edit(@Parameters(index = "0", paramLabel = "NAME") String name) {
        Path file = Path.of(find(name).folder()).resolve("AGENTS.md");
        var env = root.context().env();
        String editor = env.getOrDefault("VISUAL", env.getOrDefault("EDITOR", "vi"));
        try {
            // Through the shell, as git does: $EDITOR may carry arguments ("code --wait").
            Process p = new ProcessBuilder("/bin/sh", "-c", editor + " \"$1\"", "editor", file.toString())
                    .inheritIO()
                    .start();
            int status = p.waitFor();
            if (status != 0) {
                throw new CliException(
                        Exit.UNREACHABLE, "cordon: the editor (" + editor + ") exited with status " + status);
            }
        } catch (IOException e) {
            throw new CliException(
                    Exit.UNREACHABLE, "cordon: could not start the editor (" + editor + "): " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Exit.SOFTWARE;
        }
        root.context().out().println("Saved " + file + "; it applies from the agent's next turn.");
        return Exit.OK;
    }

    private List<ControlEvent.AgentRow> listing() {
        return AccessClient.ask(root, new ControlRequest.AgentsList(), ControlEvent.AgentListing.class)
                .agents();
    }

    private ControlEvent.AgentRow find(String name) {
        List<ControlEvent.AgentRow> all = listing();
        return all.stream()
                .filter(a -> a.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new CliException(
                        Exit.UNREACHABLE,
                        "cordon: there is no agent named '" + name + "'; agents: "
                                + all.stream().map(ControlEvent.AgentRow::name).toList()));
    }

    /**
     * The start of a file, or "(none)": never through a symlink and only a regular file (the memory
     * file is the agent's own writing), at most {@link #SHOW_BYTES}.
     */
    static String head(Path file) {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return Files.exists(file, LinkOption.NOFOLLOW_LINKS) ? "(not a regular file; not shown)" : "(none)";
        }
        try (InputStream in = Files.newInputStream(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            byte[] bytes = in.readNBytes(SHOW_BYTES + 1);
            String text = new String(bytes, 0, Math.min(bytes.length, SHOW_BYTES), StandardCharsets.UTF_8).strip();
            return bytes.length > SHOW_BYTES ? text + "\n[... cut at " + SHOW_BYTES / 1024 + " KiB]" : text;
        } catch (IOException e) {
            return "(could not be read: " + e.getMessage() + ")";
        }
    }
}
