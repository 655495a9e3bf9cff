package dev.cordon.core;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/** Files only the daemon's user may read: keys, the secret vault. */
public final class PrivateFiles {
    private static final Set<PosixFilePermission> GROUP_OR_OTHER = Set.of(
            PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_EXECUTE);

    private PrivateFiles() {}

    /**
     * Replaces {@code file} with {@code content} atomically and durably: written to a sibling made
     * 0600 from the start (never readable by others, not even for a moment), forced to disk, renamed
     * over the file, and the rename forced too. Missing parent directories are made 0700.
     */
    public static void write(Path file, byte[] content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        createDirectories(dir);
        Path temp = dir.resolve(file.getFileName() + ".new");
        Files.deleteIfExists(temp); // left by a crash during an earlier attempt
        Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            out.write(java.nio.ByteBuffer.wrap(content));
            out.force(true);
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true); // the rename itself survives a power cut
        }
    }

    /** Makes {@code dir} and missing parents, each new one 0700. */
    public static void createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Path parent = dir.getParent();
        if (parent != null) {
            createDirectories(parent);
        }
        try {
            Files.createDirectory(
                    dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            // made meanwhile by someone else: fine
        }
    }

    /**
     * The permissions of {@code file} that let group or others in, as {@code ls} shows them
     * ({@code rw-r--r--}); empty when there are none, or the file system has no POSIX permissions.
     */
    public static Optional<String> openPermissions(Path file) throws IOException {
        Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException e) {
            return Optional.empty();
        }
        Set<PosixFilePermission> open = new HashSet<>(permissions);
        open.retainAll(GROUP_OR_OTHER);
        return open.isEmpty() ? Optional.empty() : Optional.of(PosixFilePermissions.toString(permissions));
    }
}
