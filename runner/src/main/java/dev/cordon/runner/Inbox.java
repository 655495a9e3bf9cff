package dev.cordon.runner;

import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.RunnerMessage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Writes the files people send into the workspace, as {@code inbox/<inbound id>/<name>}, from the
 * host's {@link HostMessage.PutFile} pieces. The writing happens here, inside the sandbox, so the
 * kernel's view of the sandbox bounds it: a link the agent planted ({@code inbox -> /etc}) leads
 * at worst to another place inside the sandbox. The folders of the inbox are Cordon's: a link or a
 * file where one of them belongs is removed and a real folder made, and links are never followed,
 * so the file lands where the model is told it is. Called from the one thread that reads the
 * host's messages, in their order.
 */
final class Inbox {
    private static final Pattern PATH = Pattern.compile("inbox/[0-9]{1,19}/[^/\\x00-\\x1f\\x7f]{1,255}");

    private final Path workspace;
    private final Consumer<RunnerMessage> host;

    Inbox(Path workspace, Consumer<RunnerMessage> host) {
        this.workspace = workspace;
        this.host = host;
    }

    /** Writes one piece; after the last (or on the first failure) tells the host how it went. */
    void put(HostMessage.PutFile piece) {
        try {
            Path file = file(piece.path());
            if (piece.offset() == 0) {
                folder(file.getParent().getParent());
                folder(file.getParent());
                removeUnlessRegular(file);
            }
            OpenOption[] how = piece.offset() == 0
                    ? new OpenOption[] {
                        StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS
                    }
                    : new OpenOption[] {StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS};
            try (OutputStream out = Files.newOutputStream(file, how)) {
                out.write(piece.data());
            }
            if (piece.last()) {
                host.accept(new RunnerMessage.FileWritten(piece.path(), null));
            }
        } catch (IOException | RuntimeException e) {
            host.accept(new RunnerMessage.FileWritten(piece.path(), e.toString()));
        }
    }

    private Path file(String path) throws IOException {
        if (!PATH.matcher(path).matches() || path.endsWith("/.") || path.endsWith("/..")) {
            throw new IOException("not a path in the inbox: " + path);
        }
        return workspace.resolve(path);
    }

    /** Makes {@code dir} a real folder: whatever else is there (a link, a file) is removed first. */
    private static void folder(Path dir) throws IOException {
        BasicFileAttributes a = attributes(dir);
        if (a != null && a.isDirectory()) {
            return;
        }
        if (a != null) {
            Files.delete(dir); // a link is removed, never followed
        }
        Files.createDirectory(dir);
    }

    private static void removeUnlessRegular(Path file) throws IOException {
        BasicFileAttributes a = attributes(file);
        if (a != null && !a.isRegularFile()) {
            try {
                Files.delete(file);
            } catch (DirectoryNotEmptyException e) {
                throw new IOException("a folder that is not empty is where the file belongs: " + file, e);
            }
        }
    }

    private static BasicFileAttributes attributes(Path path) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
