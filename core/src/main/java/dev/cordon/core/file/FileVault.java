package dev.cordon.core.file;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Files agents and people sent, kept on the host by content: {@code DIR/<sha256>}, read by delivery
 * until the platform has them and by a turn until the runner has them. A file is in the vault
 * before the message that carries it is stored, so a restart before delivery still delivers it.
 * Thread-safe: a file appears under its name only whole (written to a temporary name, then moved).
 *
 * <p>{@link #sweep} deletes the files no stored message needs any more (docs/agents.md, "How long
 * files are kept"). Putting the same bytes again writes the file anew, so its modification time is
 * when it was last put.
 */
public final class FileVault {
    private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{64}");
    private static final String PART_PREFIX = "incoming-";
    private static final String PART_SUFFIX = ".part";
    /** A file the sweep moved aside to delete it ({@link #deleteUnlessRenewed}). */
    private static final String ASIDE_PREFIX = "sweeping-";

    private final Path dir;
    /**
     * Held by {@link #put} while it moves a file into place and by {@link #sweep} from reading a
     * file's time to deleting it: a file put meanwhile is newer than the sweep's cutoff, never lost.
     */
    private final ReentrantLock names = new ReentrantLock();
    /** For tests: runs in {@link #sweep} between finding a file old and moving it aside. */
    Runnable beforeMovingAside = () -> {};

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
        Path temp = Files.createTempFile(dir, PART_PREFIX, PART_SUFFIX);
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
            names.lock();
            try {
                // Replaces a file of the same content, which makes its time this put's.
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException e) {
                // The same content is already kept (where a move cannot replace): this put renews it.
                Files.setLastModifiedTime(target, FileTime.from(Instant.now()));
            } finally {
                names.unlock();
            }
            return new Blob(hex, size);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** The stored bytes of {@code sha256}, or empty if the vault does not have them. */
    public Optional<Path> path(String sha256) {
        if (!DIGEST.matcher(sha256).matches()) {
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

    /** Files and bytes. */
    public record Usage(long files, long bytes) {}

    /** What the vault holds now: its stored files (not unfinished downloads) and their bytes. */
    public Usage usage() throws IOException {
        long files = 0;
        long bytes = 0;
        try (Stream<Path> listed = Files.list(dir)) {
            for (Path file : (Iterable<Path>) listed::iterator) {
                if (DIGEST.matcher(file.getFileName().toString()).matches()) {
                    try {
                        BasicFileAttributes attributes =
                                Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                        if (attributes.isRegularFile()) {
                            files++;
                            bytes += attributes.size();
                        }
                    } catch (IOException e) {
                        // swept meanwhile
                    }
                }
            }
        }
        return new Usage(files, bytes);
    }

    /** What {@link #sweep} deleted: files and their bytes; unfinished downloads count as files too. */
    public record Swept(int files, long bytes) {}

    /**
     * Deletes every file last put before {@code before} whose digest is not in {@code inUse}, and
     * every unfinished download (a temporary file a crash left) older than that. A file an earlier
     * sweep moved aside and did not finish with is put back first, then judged like the others.
     * Anything else in the folder is left alone. {@code inUse} comes from the store ({@code Store.filesInUse}): a
     * message stored after it was read carries a file put just before, so newer than {@code before}.
     *
     * @throws IOException if the folder cannot be listed; a file that cannot be deleted is skipped
     */
    public Swept sweep(Instant before, Set<String> inUse) throws IOException {
        for (Path file : list()) {
            String name = file.getFileName().toString();
            if (name.startsWith(ASIDE_PREFIX) && name.endsWith(PART_SUFFIX)) {
                putBack(file, name.substring(ASIDE_PREFIX.length(), name.length() - PART_SUFFIX.length()));
            }
        }
        int files = 0;
        long bytes = 0;
        for (Path file : list()) {
            String name = file.getFileName().toString();
            boolean stored = DIGEST.matcher(name).matches();
            boolean part = name.startsWith(PART_PREFIX) && name.endsWith(PART_SUFFIX);
            if (!(stored && !inUse.contains(name)) && !part) {
                continue;
            }
            names.lock();
            try {
                BasicFileAttributes attributes =
                        Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (attributes.isRegularFile()
                        && attributes.lastModifiedTime().toInstant().isBefore(before)) {
                    if (part || deleteUnlessRenewed(file, name, before)) {
                        if (part) {
                            Files.delete(file);
                        }
                        files++;
                        bytes += attributes.size();
                    }
                }
            } catch (IOException e) {
                // gone meanwhile, or not ours to delete: the next sweep sees it again
            } finally {
                names.unlock();
            }
        }
        return new Swept(files, bytes);
    }

    private List<Path> list() throws IOException {
        try (Stream<Path> listed = Files.list(dir)) {
            return listed.toList();
        }
    }

    /**
     * Puts back a file a sweep moved aside and did not finish with (the daemon stopped between
     * moving it and deleting it or moving it back): it may be a copy another replica had just put
     * again, which a message needs. Back in place it is judged like any other. If the same bytes are
     * in place again meanwhile, the copy aside is dropped; what is in place is never replaced, since
     * a copy put just now must keep its new time.
     */
    private void putBack(Path aside, String name) {
        if (!DIGEST.matcher(name).matches()) {
            return;
        }
        Path file = dir.resolve(name);
        names.lock();
        try {
            if (!Files.isRegularFile(aside, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            try {
                // A hard link never replaces: unlike a rename, it fails if another replica put the
                // same bytes in place since the check.
                Files.createLink(file, aside);
            } catch (FileAlreadyExistsException e) {
                // the same bytes are in place: the copy aside is not needed
            } catch (UnsupportedOperationException | FileSystemException e) {
                // a volume without hard links: a plain move, which refuses a file in place too
                if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                    Files.move(aside, file);
                    return;
                }
            }
            Files.delete(aside);
        } catch (IOException e) {
            // gone meanwhile (another replica's sweep put it back or deleted it): nothing to do
        } finally {
            names.unlock();
        }
    }

    /**
     * Deletes a stored file found old, unless the same bytes were put again in the meantime by
     * another process that shares the folder (replicas on one volume, docs/store.md), which this
     * process's lock does not hold back: the file is moved aside first, and put back if the one
     * moved turns out to be new. Returns whether it was deleted.
     */
    private boolean deleteUnlessRenewed(Path file, String name, Instant before) throws IOException {
        Path aside = dir.resolve(ASIDE_PREFIX + name + PART_SUFFIX);
        beforeMovingAside.run();
        Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
        if (Files.getLastModifiedTime(aside, LinkOption.NOFOLLOW_LINKS)
                .toInstant()
                .isBefore(before)) {
            Files.delete(aside);
            return true;
        }
        Files.move(aside, file, StandardCopyOption.ATOMIC_MOVE);
        return false;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
