package dev.cordon.sandbox.disk;

import dev.cordon.core.sandbox.SandboxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A hard bound on the disk space of an agent's workspace: the workspace directory becomes the
 * mount point of an ext4 filesystem kept in a sparse image file of the quota's size, so a write
 * past the quota fails with {@code ENOSPC} inside the sandbox and the host's disk is untouched.
 *
 * <p>Only a root daemon can do this (it needs {@code mount}, loop devices and {@code mkfs.ext4});
 * {@link #support()} says whether this host can, and if not, why and how to fix it. See
 * docs/resource-limits.md, "Workspace disk quota", and this package's documentation for the gotchas.
 *
 * <p>Thread-safe: calls for the same workspace are serialised inside this instance; calls for
 * different workspaces run in parallel. Two instances (or two daemons) must not manage the same
 * workspace. Every method blocks while it runs external programs ({@code mkfs.ext4}, {@code mount},
 * {@code cp}, ...): milliseconds normally, as long as a copy takes when a workspace is migrated.
 */
public interface WorkspaceQuota {

    /** The smallest quota accepted: ext4 keeps a few MiB for its own metadata and journal. */
    long MIN_BYTES = 16L << 20;

    /** How well this host can bound a workspace's disk use. */
    enum Enforcement {
        /** A loop-mounted ext4 image per workspace: writes past the quota fail with ENOSPC. */
        HARD,
        /** Nothing bounds a workspace here; {@link Support#detail()} says why. */
        UNAVAILABLE
    }

    /**
     * What this host can do.
     *
     * @param detail for {@link Enforcement#HARD}, how; otherwise why not (one line)
     * @param fix what the operator can do about it; empty when {@link Enforcement#HARD}
     */
    record Support(Enforcement enforcement, String detail, String fix) {
        public Support {
            Objects.requireNonNull(enforcement, "enforcement");
            Objects.requireNonNull(detail, "detail");
            Objects.requireNonNull(fix, "fix");
        }

        /** Whether {@link #attach} can bound a workspace here. */
        public boolean hard() {
            return enforcement == Enforcement.HARD;
        }
    }

    /**
     * A mounted workspace's filesystem, as {@code statvfs} reports it.
     *
     * @param usedBytes bytes in use by files, directories and their metadata
     * @param freeBytes what the agent can still write: a little less than {@code totalBytes -
     *     usedBytes}, because ext4 holds back a few clusters (at most 2%) for delayed allocation
     * @param totalBytes what the filesystem can hold: the quota less ext4's own metadata (measured:
     *     about 15% of a 64 MiB quota, 5% of 1 GiB, 2.5% of 10 GiB)
     */
    record Usage(long usedBytes, long freeBytes, long totalBytes) {}

    /** What one {@link #attach} call changed, in the order it happened. */
    enum Step {
        /** A new image was made (and the workspace, if it held files, migrated into it). */
        CREATED,
        /** The files that were in the workspace directory were copied into the new image. */
        MIGRATED,
        /** The image was mounted on the workspace (it was not mounted before). */
        MOUNTED,
        /** The image and its filesystem were grown or shrunk to the requested size. */
        RESIZED,
        /**
         * The size differs from the request but a running sandbox holds the filesystem, so it was not
         * resized; the next {@link #attach} when no sandbox of the agent runs does it.
         */
        RESIZE_DEFERRED
    }

    /**
     * The outcome of {@link #attach}.
     *
     * @param steps what changed; empty when the workspace was already mounted at the requested size
     * @param usage the workspace's filesystem afterwards
     */
    record Attachment(List<Step> steps, Usage usage) {
        public Attachment {
            steps = List.copyOf(steps);
            Objects.requireNonNull(usage, "usage");
        }

        /** Whether this call changed anything. */
        public boolean changed() {
            return !steps.isEmpty();
        }
    }

    /** Whether this host can enforce workspace quotas, detected once when this instance was made. */
    Support support();

    /**
     * Makes {@code workspace} the mount point of an ext4 filesystem of {@code bytes} held in {@code
     * image}, with its root directory owned by {@code uid} (user and group) and mode 0711 (others may
     * pass through, as privileged bwrap must to enter it, but not list it).
     *
     * <ul>
     *   <li>Already mounted from {@code image} at this size: does nothing ({@link
     *       Attachment#changed()} is false).
     *   <li>No image yet: creates it sparse, mode 0600, owned by this process (root), and formats it.
     *       If the workspace directory holds files, they are copied into the image with their owners,
     *       modes and times, and only then does the image replace them; nothing is lost if this
     *       fails or the process dies half-way (the next call finishes or undoes it).
     *   <li>A different size: grows or shrinks image and filesystem, which needs them unmounted
     *       for a moment ({@link Step#RESIZED}); when a running sandbox holds them, the resize is
     *       left for a later call ({@link Step#RESIZE_DEFERRED}).
     *   <li>The directory under the mount is made root's with mode 0700, so a sandbox started
     *       without this mount cannot write to the host's disk through it.
     * </ul>
     *
     * <p>Call it before starting the agent's sandbox (a sandbox started earlier keeps seeing the
     * directory it was given), and before writing anything into the workspace.
     *
     * @param workspace absolute path of the agent's workspace directory; created if absent (its
     *     parent must exist); must not be a symlink
     * @param image absolute path of the image file, outside the workspace and out of the agent's
     *     reach (the daemon uses {@code <home>/agents/<name>/workspace.img}); its directory must exist
     * @param bytes the quota: a whole number of MiB, at least {@link #MIN_BYTES}
     * @param uid the agent's host uid (and gid); not 0
     * @throws IllegalArgumentException for a relative path, a size that is too small or not whole
     *     MiB, or uid 0
     * @throws SandboxException if this host cannot enforce quotas ({@link #support()}); if the
     *     workspace is a symlink, not a directory, or a mount point of something else; if its files
     *     do not fit in {@code bytes}; if {@code bytes} is below what the workspace already uses; if
     *     it is not mounted, holds files, and the image already exists (they would be hidden); or if
     *     a program failed (its stderr is in the message). The workspace is then left as it was, or,
     *     if remounting failed after a resize, unmounted with its root-only mount point.
     */
    Attachment attach(Path workspace, Path image, long bytes, int uid);

    /**
     * Unmounts the quota filesystem from {@code workspace}, leaving the image file as it is. The
     * loop device is released once no sandbox holds the filesystem any more. A mount that stays busy
     * for a few seconds (a sandbox's namespace still being torn down, a host shell inside it) is
     * unmounted lazily, so the workspace is never left mounted. Does nothing when nothing is
     * mounted there.
     *
     * @return whether something was unmounted
     * @throws IllegalArgumentException if {@code workspace} is relative
     * @throws SandboxException if something other than a loop-mounted ext4 filesystem is mounted
     *     there, or even a lazy {@code umount} failed
     */
    boolean detach(Path workspace);

    /**
     * How much of a mounted workspace's quota is used.
     *
     * @throws IllegalArgumentException if {@code workspace} is relative
     * @throws SandboxException if no quota filesystem is mounted on {@code workspace}
     */
    Usage usage(Path workspace);

    /**
     * Detects what this host can do: reads {@code /proc}, looks for {@code /dev/loop-control} and the
     * e2fsprogs, and, when all is there, formats and mounts a small probe image in a temporary
     * directory (tens of milliseconds) so that {@link Enforcement#HARD} means a mount has worked.
     * Never throws: a failure is reported in {@link #support()}.
     */
    static WorkspaceQuota detect() {
        return new LoopQuota(Detection.detect(Path.of("/")));
    }
}
