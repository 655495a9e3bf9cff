package dev.cordon.sandbox.disk;

import dev.cordon.core.sandbox.SandboxException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link WorkspaceQuota} with one loop-mounted ext4 image per workspace.
 *
 * <p>Next to the files the caller names, it uses three of its own, all outside the agent's reach:
 * {@code <image>.new} (an image being built), {@code <image>.mnt} (where a new image is mounted
 * while the workspace's files are copied in) and {@code .<workspace>.pre-quota} beside the workspace
 * (the original directory, between the moment the copy is complete and the moment the image is
 * mounted in its place). Whatever a crash leaves of them, the next {@link #attach} finishes or undoes.
 */
final class LoopQuota implements WorkspaceQuota {
    private static final long MIB = 1L << 20;

    /** How long an unmount may take to free its loop device before we take it as held by a sandbox. */
    private static final long RELEASE_WAIT_MILLIS = 2_000;

    /** How long {@link #detach} retries a busy unmount before it unmounts lazily. */
    private static final Duration DETACH_PATIENCE = Duration.ofSeconds(5);

    private static final Logger LOG = LoggerFactory.getLogger(LoopQuota.class);

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_AND_TRAVERSE = PosixFilePermissions.fromString("rwx--x--x");
    private static final Set<PosixFilePermission> IMAGE_MODE = PosixFilePermissions.fromString("rw-------");

    private final Support support;
    private final Ext4 ext4;
    private final ConcurrentHashMap<Path, ReentrantLock> locks = new ConcurrentHashMap<>();

    LoopQuota(Detection.Host host) {
        this.support = host.support();
        this.ext4 = host.ext4();
    }

    @Override
    public Support support() {
        return support;
    }

    @Override
    public Attachment attach(Path workspace, Path image, long bytes, int uid) {
        requireAbsolute(workspace, "workspace");
        requireAbsolute(image, "image");
        if (bytes < MIN_BYTES || bytes % MIB != 0) {
            throw new IllegalArgumentException("a workspace quota must be a whole number of MiB and at least "
                    + Sizes.mib(MIN_BYTES) + " (ext4 needs room for its own metadata); got " + bytes + " bytes");
        }
        if (uid <= 0) {
            throw new IllegalArgumentException("the workspace's owner must be the agent's uid, never root; got " + uid);
        }
        requireHard("put a disk quota on " + workspace);
        Path ws = workspacePath(workspace);
        Path img = imagePath(image, ws);
        return locked(ws, () -> {
            try {
                return attachLocked(ws, img, bytes, uid);
            } catch (IOException e) {
                throw new SandboxException(
                        "cannot put a disk quota on the workspace " + ws + " (image " + img + "): " + e, e);
            }
        });
    }

    @Override
    public boolean detach(Path workspace) {
        requireAbsolute(workspace, "workspace");
        Path ws = workspacePath(workspace);
        return locked(ws, () -> {
            Optional<MountTable.Entry> top = MountTable.topAt(ws);
            if (top.isEmpty()) {
                return false;
            }
            if (!isLoopExt4(top.get())) {
                throw new SandboxException("cannot detach the disk quota of " + ws + ": what is mounted there ("
                        + top.get().source() + ", " + top.get().type()
                        + ") is not a workspace image; unmount it by hand if it should go");
            }
            requireHard("detach the disk quota of " + ws);
            if (!ext4.release(ws, DETACH_PATIENCE)) {
                LOG.warn(
                        "the workspace {} stayed busy for {} s after its sandboxes ended; unmounted it lazily"
                                + " (its loop device is freed when the last process holding it exits)",
                        ws,
                        DETACH_PATIENCE.toSeconds());
            }
            return true;
        });
    }

    @Override
    public Usage usage(Path workspace) {
        requireAbsolute(workspace, "workspace");
        Path ws = workspacePath(workspace);
        Optional<MountTable.Entry> top = MountTable.topAt(ws);
        if (top.isEmpty() || !isLoopExt4(top.get())) {
            throw new SandboxException("no disk quota is mounted on the workspace " + ws + ": attach it first");
        }
        return usageOf(ws);
    }

    private Attachment attachLocked(Path ws, Path img, long bytes, int uid) throws IOException {
        List<Step> steps = new ArrayList<>();
        Optional<MountTable.Entry> top = MountTable.topAt(ws);
        if (top.isPresent()) {
            requireOurs(top.get(), ws, img);
        } else {
            recover(ws, img);
            if (!Files.exists(ws, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(ws);
            }
            if (!Files.exists(img, LinkOption.NOFOLLOW_LINKS)) {
                create(ws, img, bytes, steps);
            } else if (!Trees.isEmpty(ws)) {
                throw new SandboxException("the workspace " + ws + " is not mounted and holds files, but its image "
                        + img + " already exists: mounting the image would hide them. Move them into the image"
                        + " (mount it elsewhere and copy them in) or out of the workspace, then start the agent again");
            }
            mountOn(ws, img, uid);
            steps.add(Step.MOUNTED);
        }
        // The image is complete and mounted: an original directory kept for a crash is redundant now
        // (also when a daemon died between mounting and deleting it).
        Trees.delete(backupOf(ws));
        long current = Files.size(img);
        if (current != bytes) {
            resize(ws, img, current, bytes, uid, steps);
        }
        return new Attachment(steps, usageOf(ws));
    }

    /**
     * Makes the image: formats it under a temporary name, copies the workspace's files into it, and
     * only then swaps: workspace → backup, image.new → image. The backup is deleted once the image is
     * mounted. A crash at any point leaves a state {@link #recover} understands.
     */
    private void create(Path ws, Path img, long bytes, List<Step> steps) throws IOException {
        Path fresh = freshOf(img);
        Path staging = stagingOf(img);
        boolean migrate = !Trees.isEmpty(ws);
        boolean stagingMounted = false;
        boolean swapped = false;
        try {
            Files.createFile(fresh, PosixFilePermissions.asFileAttribute(IMAGE_MODE));
            try (RandomAccessFile file = new RandomAccessFile(fresh.toFile(), "rw")) {
                file.setLength(bytes); // sparse: disk blocks are used only as the agent writes
            }
            ext4.format(fresh);
            if (migrate) {
                long fileBytes = Trees.fileBytes(ws);
                Files.createDirectory(staging, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
                ext4.mount(fresh, staging);
                stagingMounted = true;
                long free = Files.getFileStore(staging).getUsableSpace();
                if (fileBytes > free) {
                    throw doesNotFit(ws, fileBytes, bytes, free);
                }
                Exec.Result copy = ext4.copyContents(ws, staging);
                if (!copy.ok()) {
                    if (copy.stderr().contains("No space left on device")) {
                        throw doesNotFit(ws, fileBytes, bytes, free);
                    }
                    throw new SandboxException("cannot copy the files of the workspace " + ws
                            + " into its new image: " + copy.command() + " failed (" + copy.why()
                            + "); nothing was changed, fix that and start the agent again");
                }
                ext4.unmount(staging);
                stagingMounted = false;
                Files.delete(staging);
                Path backup = backupOf(ws);
                Files.move(ws, backup, StandardCopyOption.ATOMIC_MOVE);
                swapped = true;
                Files.createDirectory(ws);
            }
            Files.move(fresh, img, StandardCopyOption.ATOMIC_MOVE);
            swapped = false;
        } catch (IOException | RuntimeException e) {
            if (stagingMounted) {
                unmountQuietly(staging);
            }
            try {
                if (swapped) {
                    // The copy was complete but the image is not in place: put the original back.
                    Files.deleteIfExists(ws);
                    Files.move(backupOf(ws), ws, StandardCopyOption.ATOMIC_MOVE);
                }
                if (MountTable.loopDevicesOf(fresh).isEmpty()) {
                    Files.deleteIfExists(fresh);
                }
                Files.deleteIfExists(staging);
            } catch (IOException | RuntimeException cleanup) {
                // The next attach's recover() finishes this clean-up; the first failure is the news.
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        steps.add(Step.CREATED);
        if (migrate) {
            steps.add(Step.MIGRATED);
        }
    }

    /** Finishes or undoes what a daemon that died inside {@link #create} left behind. */
    private void recover(Path ws, Path img) throws IOException {
        Path staging = stagingOf(img);
        if (MountTable.topAt(staging).isPresent()) {
            ext4.unmount(staging);
        }
        Files.deleteIfExists(staging);
        Path fresh = freshOf(img);
        if (Files.exists(fresh, LinkOption.NOFOLLOW_LINKS)) {
            if (!released(fresh)) {
                throw new SandboxException("an unfinished workspace image " + fresh + " is still on a loop device ("
                        + String.join(", ", MountTable.loopDevicesOf(fresh)) + "); detach it (losetup -d) and retry");
            }
            Files.delete(fresh);
        }
        Path backup = backupOf(ws);
        if (Files.exists(backup, LinkOption.NOFOLLOW_LINKS) && !Files.exists(img, LinkOption.NOFOLLOW_LINKS)) {
            // The original moved aside, but its image never got its final name: the original wins.
            if (Files.exists(ws, LinkOption.NOFOLLOW_LINKS)) {
                if (!Trees.isEmpty(ws)) {
                    throw new SandboxException("both the workspace " + ws + " and its earlier contents in " + backup
                            + " hold files (a migration to a disk quota was interrupted); merge them into " + ws
                            + ", delete " + backup + ", and start the agent again");
                }
                Files.delete(ws);
            }
            Files.move(backup, ws, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Mounts {@code img} on {@code ws}; the directory underneath is made root's first, so it fails closed. */
    private void mountOn(Path ws, Path img, int uid) throws IOException {
        Files.setAttribute(ws, "unix:uid", 0, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(ws, "unix:gid", 0, LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(ws, OWNER_ONLY);
        ext4.mount(img, ws);
        try {
            Files.setAttribute(ws, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(ws, "unix:gid", uid, LinkOption.NOFOLLOW_LINKS);
            // Others may pass through but not list: privileged bwrap enters the workspace as uid 0
            // with every capability dropped, before it switches to the agent's uid.
            Files.setPosixFilePermissions(ws, OWNER_AND_TRAVERSE);
        } catch (IOException | RuntimeException e) {
            unmountQuietly(ws);
            throw e;
        }
    }

    /**
     * Resizes offline: ext4 grows online only with CAP_SYS_RESOURCE (root in a container often lacks
     * it; this machine's does) and never shrinks online. A sandbox that holds the filesystem keeps it
     * mounted after the host's unmount, so then the resize waits for a later call.
     */
    private void resize(Path ws, Path img, long current, long bytes, int uid, List<Step> steps) throws IOException {
        Usage before = usageOf(ws);
        if (bytes < current && before.usedBytes() >= bytes) {
            long overhead = current - before.totalBytes();
            long suggested = Sizes.ceilMib((before.usedBytes() + overhead) * 11 / 10);
            throw new SandboxException("cannot shrink the disk quota of " + ws + " to " + Sizes.mib(bytes)
                    + ": the workspace already uses " + Sizes.mib(before.usedBytes()) + " of its " + Sizes.mib(current)
                    + "; set the agent's sandbox.disk_mb to " + suggested
                    + " or more, or delete files from the workspace first. Nothing was changed.");
        }
        ext4.unmount(ws);
        if (!released(img)) {
            ext4.mount(img, ws);
            steps.add(Step.RESIZE_DEFERRED);
            return;
        }
        try {
            ext4.fsck(img);
            if (bytes > current) {
                setLength(img, bytes);
                try {
                    ext4.resize(img, bytes);
                } catch (SandboxException e) {
                    setLength(img, current);
                    throw e;
                }
            } else {
                try {
                    ext4.resize(img, bytes);
                } catch (SandboxException e) {
                    throw new SandboxException(
                            e.getMessage() + "; the workspace uses " + Sizes.mib(before.usedBytes())
                                    + ", and ext4 needs room for its metadata too: choose a larger size",
                            e);
                }
                setLength(img, bytes);
            }
        } catch (IOException | RuntimeException e) {
            remountAfterFailure(ws, img, uid, e);
            throw e;
        }
        mountOn(ws, img, uid);
        steps.add(Step.RESIZED);
    }

    private void remountAfterFailure(Path ws, Path img, int uid, Exception cause) {
        try {
            mountOn(ws, img, uid);
        } catch (IOException | RuntimeException again) {
            cause.addSuppressed(again);
        }
    }

    /** Whether no loop device holds {@code file} any more, waiting briefly for one being torn down. */
    private static boolean released(Path file) {
        long deadline = System.nanoTime() + RELEASE_WAIT_MILLIS * 1_000_000;
        while (!MountTable.loopDevicesOf(file).isEmpty()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SandboxException("interrupted while waiting for the loop device of " + file, e);
            }
        }
        return true;
    }

    private static void setLength(Path file, long bytes) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(bytes);
        }
    }

    private void unmountQuietly(Path target) {
        try {
            ext4.unmount(target);
        } catch (SandboxException e) {
            // The failure that brought us here is what the caller reports; this one is secondary.
        }
    }

    private static SandboxException doesNotFit(Path ws, long fileBytes, long bytes, long free) {
        long overhead = bytes - free;
        long suggested = Sizes.ceilMib((fileBytes + overhead) * 11 / 10);
        return new SandboxException("the files in the workspace " + ws + " (" + Sizes.mib(fileBytes)
                + ") do not fit in a disk quota of " + Sizes.mib(bytes) + ", which leaves " + Sizes.mib(free)
                + " for files after ext4's metadata; raise the agent's sandbox.disk_mb to " + suggested
                + " or more, or delete files from the workspace. Nothing was changed.");
    }

    private static Usage usageOf(Path ws) {
        try {
            FileStore store = Files.getFileStore(ws);
            long total = store.getTotalSpace();
            return new Usage(total - store.getUnallocatedSpace(), store.getUsableSpace(), total);
        } catch (IOException e) {
            throw new SandboxException("cannot read the disk usage of the workspace " + ws + ": " + e, e);
        }
    }

    private static void requireOurs(MountTable.Entry top, Path ws, Path img) {
        if (isLoopExt4(top)
                && MountTable.backingFile(top.source())
                        .filter(img.toString()::equals)
                        .isPresent()) {
            return;
        }
        String backing = MountTable.backingFile(top.source())
                .map(file -> " backed by " + file)
                .orElse("");
        throw new SandboxException("the workspace " + ws + " is already a mount point of " + top.source() + " ("
                + top.type() + ")" + backing + ", not of the image " + img
                + ": unmount it (umount " + ws + ") or configure the image it was made from");
    }

    private static boolean isLoopExt4(MountTable.Entry entry) {
        return entry.type().equals("ext4") && entry.source().startsWith("/dev/loop");
    }

    private void requireHard(String what) {
        if (!support.hard() || ext4 == null) {
            throw new SandboxException("cannot " + what + ": this host cannot enforce workspace disk quotas ("
                    + support.detail() + "); " + support.fix()
                    + ", or set sandbox.disk_mb: 0 for the agent, or list disk in sandbox.unenforced_limits");
        }
    }

    private static void requireAbsolute(Path path, String what) {
        if (!path.isAbsolute()) {
            throw new IllegalArgumentException("the " + what + " path must be absolute: " + path);
        }
    }

    /**
     * The workspace with its parent's symlinks resolved (mountinfo lists real paths). The workspace
     * itself must not be a symlink: the mount would land on wherever it points.
     */
    private static Path workspacePath(Path workspace) {
        Path abs = workspace.normalize();
        if (abs.getParent() == null) {
            throw new IllegalArgumentException("the workspace cannot be /");
        }
        Path ws = realParent(abs, "workspace").resolve(abs.getFileName());
        if (Files.isSymbolicLink(ws)) {
            throw new SandboxException("the workspace " + ws + " is a symlink: a disk quota is mounted on a real"
                    + " directory; replace the link with the directory it points to, then start the agent again");
        }
        if (Files.exists(ws, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(ws, LinkOption.NOFOLLOW_LINKS)) {
            throw new SandboxException("the workspace " + ws + " is not a directory; move it away and retry");
        }
        return ws;
    }

    /** The image path, checked: outside the workspace, and if it exists, a plain file of root's, mode 0600. */
    private static Path imagePath(Path image, Path ws) {
        Path abs = image.normalize();
        Path img = realParent(abs, "image").resolve(abs.getFileName());
        if (img.startsWith(ws)) {
            throw new SandboxException("the workspace image " + img + " is inside the workspace " + ws
                    + ", where the agent could write it; keep it beside the workspace (agents/<name>/workspace.img)");
        }
        if (!Files.exists(img, LinkOption.NOFOLLOW_LINKS)) {
            return img;
        }
        try {
            if (!Files.isRegularFile(img, LinkOption.NOFOLLOW_LINKS)) {
                throw new SandboxException("the workspace image " + img
                        + " is not a regular file (a symlink or a directory?); move it away and retry");
            }
            Object owner = Files.getAttribute(img, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (!owner.equals(0)) {
                throw new SandboxException("the workspace image " + img + " belongs to uid " + owner
                        + ", not root: whoever can write it can corrupt the filesystem the kernel mounts;"
                        + " check who made it, then chown root:root " + img);
            }
            if (!Files.getPosixFilePermissions(img, LinkOption.NOFOLLOW_LINKS).equals(IMAGE_MODE)) {
                Files.setPosixFilePermissions(img, IMAGE_MODE);
            }
        } catch (IOException e) {
            throw new SandboxException("cannot check the workspace image " + img + ": " + e, e);
        }
        return img;
    }

    private static Path realParent(Path abs, String what) {
        try {
            return abs.getParent().toRealPath();
        } catch (NoSuchFileException e) {
            throw new SandboxException("the directory of the " + what + " " + abs + " does not exist; create "
                    + abs.getParent() + " first");
        } catch (IOException e) {
            throw new SandboxException("cannot resolve the directory of the " + what + " " + abs + ": " + e, e);
        }
    }

    private static Path freshOf(Path img) {
        return img.resolveSibling(img.getFileName() + ".new");
    }

    private static Path stagingOf(Path img) {
        return img.resolveSibling(img.getFileName() + ".mnt");
    }

    private static Path backupOf(Path ws) {
        return ws.resolveSibling("." + ws.getFileName() + ".pre-quota");
    }

    private <T> T locked(Path ws, Supplier<T> action) {
        ReentrantLock lock = locks.computeIfAbsent(ws, k -> new ReentrantLock());
        lock.lock();
        try {
            return action.get();
        } finally {
            lock.unlock();
        }
    }
}
