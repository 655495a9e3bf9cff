package dev.cordon.core.file;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Reads a file an agent names from its workspace, on the host, without trusting anything the agent
 * wrote (DESIGN.md invariant 1): the agent may have made any name a symbolic link to the host's
 * files, a FIFO, a device or a huge file, and may keep changing them while the host reads.
 *
 * <p>So the path is walked one name at a time from an open handle on the workspace ({@code openat}
 * through {@link SecureDirectoryStream}), each step with {@code O_NOFOLLOW}: a link anywhere on
 * the way is refused, never followed, and no {@code ..} is accepted. Each name is checked with
 * {@code lstat} before it is opened, so a FIFO or device is refused without being opened (opening
 * a FIFO would block). The file is copied into the {@link FileVault} up to the limit, and its
 * identity (device and inode) is checked again after the copy: a name swapped while the host read
 * is refused. What remains: a regular file swapped for a FIFO in the instant between the check and
 * the open would hold the reading thread until a writer appears (a virtual thread of that one tool
 * call; nothing of the host is read).
 */
public final class WorkspaceFile {
    /** The longest path the agent may name, in characters. */
    static final int MAX_PATH = 1024;

    private WorkspaceFile() {}

    /** The agent's file could not be taken; the message says why, for the agent. */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        public Refused(String message) {
            super(message);
        }
    }

    /** A copied file: its name (the path's last name), and its bytes in the vault. */
    public record Copied(String name, FileVault.Blob blob) {}

    /**
     * The names of {@code path} below the workspace: {@code /workspace/a/b}, {@code a/b} and {@code
     * ./a/b} all give {@code [a, b]}.
     *
     * @throws Refused if the path is empty, too long, outside {@code /workspace}, or has {@code ..},
     *     an empty name or a control character
     */
    static List<String> names(String path) throws Refused {
        if (path.isBlank() || path.length() > MAX_PATH) {
            throw new Refused("path must be 1 to " + MAX_PATH + " characters, a file in /workspace");
        }
        if (path.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new Refused("path '" + clip(path) + "' has a control character");
        }
        String rest = path;
        if (rest.startsWith("/")) {
            if (!rest.startsWith("/workspace/")) {
                throw new Refused(
                        "path '" + clip(path) + "' is outside /workspace; only files of your workspace can be sent");
            }
            rest = rest.substring("/workspace/".length());
        }
        List<String> names = new ArrayList<>();
        for (String name : rest.split("/", -1)) {
            if (name.equals("..")) {
                throw new Refused("path '" + clip(path) + "' has '..'; name the file inside /workspace directly");
            }
            if (name.isEmpty() || name.equals(".")) {
                continue;
            }
            names.add(name);
        }
        if (names.isEmpty()) {
            throw new Refused("path '" + clip(path) + "' names no file");
        }
        return names;
    }

    /**
     * Copies the workspace file at {@code path} (as the agent sees it, see {@link #names}) into
     * {@code vault}. Blocks while it reads.
     *
     * @param workspace the agent's workspace on the host
     * @throws Refused if the path is bad, a name on the way is a link or missing, the file is not a
     *     regular file, is larger than {@code max} bytes, or changed while it was read
     * @throws IOException if the host cannot read or store it for another reason
     */
    public static Copied copy(Path workspace, String path, long max, FileVault vault) throws Refused, IOException {
        List<String> names = names(path);
        List<DirectoryStream<Path>> open = new ArrayList<>();
        try {
            DirectoryStream<Path> root = Files.newDirectoryStream(workspace);
            open.add(root);
            if (!(root instanceof SecureDirectoryStream<Path> dir)) {
                throw new IOException("this host's file system cannot open a file without following links"
                        + " (no SecureDirectoryStream); sending files is not possible here");
            }
            for (int i = 0; i < names.size() - 1; i++) {
                Path name = Path.of(names.get(i));
                BasicFileAttributes attributes = lstat(dir, name, path);
                if (!attributes.isDirectory()) {
                    throw new Refused("'" + clip(String.join("/", names.subList(0, i + 1))) + "' in path '" + clip(path)
                            + "' is " + kind(attributes) + ", not a folder; links are never followed");
                }
                dir = dir.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
                open.add(dir);
            }
            Path last = Path.of(names.getLast());
            BasicFileAttributes before = lstat(dir, last, path);
            if (!before.isRegularFile()) {
                throw new Refused("'" + clip(path) + "' is " + kind(before)
                        + "; only a regular file can be sent, and links are never followed");
            }
            if (before.size() > max) {
                throw new Refused("'" + clip(path) + "' has " + before.size() + " bytes; the limit is " + max
                        + " bytes (files.max_mb in cordon.yaml)");
            }
            FileVault.Blob blob;
            try (SeekableByteChannel in =
                    dir.newByteChannel(last, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
                blob = vault.put(in, max);
            } catch (FileVault.TooLarge e) {
                throw new Refused("'" + clip(path) + "' grew past the limit of " + max + " bytes while it was read");
            }
            BasicFileAttributes after = lstat(dir, last, path);
            if (!Objects.equals(before.fileKey(), after.fileKey()) || !after.isRegularFile()) {
                throw new Refused(
                        "'" + clip(path) + "' was replaced while it was read; send it again once it is still");
            }
            return new Copied(names.getLast(), blob);
        } catch (FileSystemException e) {
            if (e instanceof NoSuchFileException) {
                throw new Refused("there is no file '" + clip(path) + "' in your workspace");
            }
            // ELOOP (a link swapped in after the check) or ENOTDIR: the name changed under us.
            throw new Refused("'" + clip(path) + "' cannot be opened without following a link or it changed while"
                    + " it was opened (" + e.getReason() + ")");
        } finally {
            for (DirectoryStream<Path> d : open.reversed()) {
                d.close();
            }
        }
    }

    private static BasicFileAttributes lstat(SecureDirectoryStream<Path> dir, Path name, String path)
            throws IOException, Refused {
        try {
            return dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .readAttributes();
        } catch (NoSuchFileException e) {
            throw new Refused("there is no file '" + clip(path) + "' in your workspace");
        }
    }

    private static String kind(BasicFileAttributes a) {
        if (a.isSymbolicLink()) {
            return "a symbolic link";
        }
        if (a.isDirectory()) {
            return "a folder";
        }
        if (a.isRegularFile()) {
            return "a regular file";
        }
        return "a special file (FIFO, socket or device)";
    }

    static String clip(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
