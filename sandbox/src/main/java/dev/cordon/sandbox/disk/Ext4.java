package dev.cordon.sandbox.disk;

import dev.cordon.core.sandbox.SandboxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The host programs behind a quota, each by absolute path, and the few ways this package uses them.
 * Every method blocks until its program exits and throws {@link SandboxException} with the
 * program's stderr when it fails.
 */
record Ext4(Path mkfs, Path e2fsck, Path resize2fs, Path mount, Path umount, Path cp) {

    /** Formatting, checking and resizing take seconds even for large images; a hang is a bug. */
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(10);

    /** A migration copies the whole workspace; the quota bounds how long that can take. */
    private static final Duration COPY_TIMEOUT = Duration.ofHours(1);

    /**
     * The mount options. nodev and nosuid: the agent owns the filesystem's root, and nothing in a
     * workspace should act as a device or gain privileges. Not noexec: agents run the scripts and
     * programs they build there (./gradlew, node_modules/.bin).
     */
    static final String MOUNT_OPTIONS = "loop,nodev,nosuid";

    /**
     * Formats {@code image} (a regular file) as ext4 filling the whole file.
     *
     * <p>{@code -m 0}: no blocks reserved for root, who never writes there; the agent gets the whole
     * quota. The journal is kept, so a host crash costs a journal replay, not an fsck before the next
     * mount; {@code lazy_journal_init} skips zeroing it, which is safe on a fresh sparse file (its
     * holes read as zeros) and keeps a new image's disk use under a MiB instead of 32–64 MiB.
     */
    void format(Path image) {
        check(
                TOOL_TIMEOUT,
                List.of(
                        mkfs.toString(),
                        "-q",
                        "-F",
                        "-m",
                        "0",
                        "-L",
                        "cordon-ws",
                        "-E",
                        "lazy_itable_init=1,lazy_journal_init=1",
                        "--",
                        image.toString()),
                "format the workspace image " + image);
    }

    /** Mounts {@code image} on {@code target} through a loop device (util-linux sets it up with autoclear). */
    void mount(Path image, Path target) {
        check(
                TOOL_TIMEOUT,
                List.of(mount.toString(), "-t", "ext4", "-o", MOUNT_OPTIONS, "--", image.toString(), target.toString()),
                "mount the workspace image " + image + " on " + target);
    }

    /** Unmounts {@code target}; its loop device is freed when no other mount namespace holds the filesystem. */
    void unmount(Path target) {
        Exec.Result result = Exec.run(TOOL_TIMEOUT, List.of(umount.toString(), "--", target.toString()));
        if (!result.ok()) {
            throw new SandboxException("cannot unmount the workspace quota at " + target + " (" + result.why()
                    + "); if a host process has files open there, find it with: fuser -vm " + target);
        }
    }

    /**
     * Unmounts {@code target} for good: a sandbox that was just killed can hold the mount busy for
     * a moment (its mount namespace is torn down after its last process is gone), so a busy unmount
     * is retried until {@code patience} runs out, and then done lazily: the mount leaves the host's
     * namespace at once and the loop device is freed when the last holder lets go. Data is never
     * lost either way; what is written is in the image.
     *
     * @return false if the unmount had to be lazy
     */
    boolean release(Path target, Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        while (true) {
            Exec.Result result = Exec.run(TOOL_TIMEOUT, List.of(umount.toString(), "--", target.toString()));
            if (result.ok()) {
                return true;
            }
            if (!result.why().contains("busy") || System.nanoTime() > deadline) {
                break;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        Exec.Result lazy = Exec.run(TOOL_TIMEOUT, List.of(umount.toString(), "--lazy", "--", target.toString()));
        if (!lazy.ok()) {
            throw new SandboxException("cannot unmount the workspace quota at " + target + " (" + lazy.why()
                    + "); if a host process has files open there, find it with: fuser -vm " + target);
        }
        return false;
    }

    /** Checks an unmounted image, repairing what is safe to repair ({@code -p}); resize2fs insists on it. */
    void fsck(Path image) {
        Exec.Result result = Exec.run(TOOL_TIMEOUT, List.of(e2fsck.toString(), "-f", "-p", "--", image.toString()));
        // 0: clean; 1: errors corrected. Anything else needs a person.
        if (result.exitCode() > 1) {
            throw new SandboxException("the workspace image " + image + " has errors e2fsck -p cannot fix ("
                    + result.why() + "); run " + e2fsck + " -f " + image + " by hand while it is unmounted");
        }
    }

    /** Resizes the (unmounted, checked) filesystem in {@code image} to {@code bytes}. */
    void resize(Path image, long bytes) {
        check(
                TOOL_TIMEOUT,
                List.of(resize2fs.toString(), "--", image.toString(), (bytes >> 10) + "K"),
                "resize the filesystem in " + image + " to " + Sizes.mib(bytes));
    }

    /**
     * Copies the contents of directory {@code from} into directory {@code to}, keeping owners, modes,
     * times, symlinks, hard links and holes ({@code cp -a}); symlinks are copied, never followed.
     *
     * @return the result; the caller decides what a failure means (ENOSPC is expected)
     */
    Exec.Result copyContents(Path from, Path to) {
        return Exec.run(COPY_TIMEOUT, List.of(cp.toString(), "-a", "--", from + "/.", to + "/"));
    }

    private static void check(Duration timeout, List<String> argv, String what) {
        Exec.Result result = Exec.run(timeout, argv);
        if (!result.ok()) {
            throw new SandboxException("cannot " + what + ": " + result.command() + " failed (" + result.why() + ")");
        }
    }
}
