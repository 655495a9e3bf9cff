package dev.cordon.core.file;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Files the agents sent, kept on the host by content: {@code DIR/<sha256>}, written once, read by
 * delivery until the platform has them. A file is in the vault before the message that carries it
 * is stored, so a restart before delivery still delivers it. Thread-safe: a file appears under its
 * name only whole (written to a temporary name, then moved).
 */
public final class FileVault {
    private final Path dir;

    /** A vault in {@code dir}, created (owner-only) if missing. */
    public FileVault(Path dir) {
        this.dir = dir;
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the file vault " + dir, e);
        }
    }

    /** The folder the files are in. */
    public Path dir() {
        return dir;
    }

    /** A stored file: its SHA-256 (lower-case hex) and size in bytes. */
    public record Blob(String sha256, long size) {}

    /** What {@link #put} stopped at: the source held more than the limit. */
    public static final class TooLarge extends Exception {
        private static final long serialVersionUID = 1L;

        TooLarge(long max) {
            super("larger than " + max + " bytes");
        }
    }

    /**
     * Copies at most {@code max} bytes of {@code source} into the vault. Blocks while it reads.
     *
     * @throws TooLarge if the source has more than {@code max} bytes; nothing is kept then
     * @throws IOException if reading or writing fails; nothing is kept then
     */
    public Blob put(ReadableByteChannel source, long max) throws IOException, TooLarge {
        MessageDigest sha = sha256();
        Path temp = Files.createTempFile(dir, "incoming-", ".part");
        try {
            long size = 0;
            try (OutputStream out = Files.newOutputStream(temp)) {
                ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
                int n;
                while ((n = source.read(buffer)) != -1) {
                    size += n;
                    if (size > max) {
                        throw new TooLarge(max);
                    }
                    buffer.flip();
                    sha.update(buffer.duplicate());
                    out.write(buffer.array(), 0, buffer.limit());
                    buffer.clear();
                }
            }
            String hex = HexFormat.of().formatHex(sha.digest());
            Path target = dir.resolve(hex);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException e) {
                // The same content is already kept.
            }
            return new Blob(hex, size);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** The stored bytes of {@code sha256}, or empty if the vault does not have them. */
    public Optional<Path> path(String sha256) {
        if (!sha256.matches("[0-9a-f]{64}")) {
            return Optional.empty();
        }
        Path file = dir.resolve(sha256);
        return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
    }

    /**
     * Opens the stored bytes of {@code sha256}.
     *
     * @throws IOException if the vault does not have them (the message names the file)
     */
    public InputStream open(String sha256) throws IOException {
        Path file =
                path(sha256).orElseThrow(() -> new IOException("the file vault has no file " + sha256 + " in " + dir));
        return Channels.newInputStream(Files.newByteChannel(file));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
