package dev.cordon.sandbox.disk;

import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.disk.WorkspaceQuota.Enforcement;
import dev.cordon.sandbox.disk.WorkspaceQuota.Support;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Whether this host can enforce workspace quotas. Reads {@code proc/self/status}, {@code
 * dev/loop-control} and the program directories under a root ({@code /} on a real host, a sample
 * tree in tests), then, on a real host, proves it by formatting and mounting a small image.
 */
final class Detection {
    /** Where the programs are looked for, in order; never the daemon's PATH. */
    static final List<String> PROGRAM_DIRS = List.of("usr/sbin", "sbin", "usr/bin", "bin");

    private static final int CAP_SYS_ADMIN = 21;
    private static final Set<String> E2FS_PROGRAMS = Set.of("mkfs.ext4", "e2fsck", "resize2fs");
    private static final String E2FSPROGS =
            "install e2fsprogs: sudo apt-get install e2fsprogs (Debian/Ubuntu) or sudo dnf install e2fsprogs (Fedora)";

    private Detection() {}

    /**
     * What was found.
     *
     * @param ext4 the programs, when every one was found; null otherwise
     */
    record Host(Support support, Ext4 ext4) {}

    static Host detect(Path root) {
        boolean real = root.toAbsolutePath().normalize().equals(Path.of("/"));
        return detect(root, real);
    }

    /** As {@link #detect(Path)}; {@code probe} says whether to format and mount a test image. */
    static Host detect(Path root, boolean probe) {
        String status = MountTable.readFile(root.resolve("proc/self/status")).orElse("");
        Optional<Long> uid = field(status, "Uid").flatMap(Detection::effective);
        if (uid.isEmpty()) {
            return unavailable(
                    "cannot read this process's uid from /proc/self/status", "run Cordon on Linux with /proc mounted");
        }
        if (uid.get() != 0) {
            return unavailable(
                    "the daemon runs as uid " + uid.get() + ", and mounting a workspace image needs root",
                    "run the Cordon daemon as root (it still runs every sandbox as the agent's own uid)");
        }
        Optional<Long> capEff = field(status, "CapEff").flatMap(Detection::hex);
        if (capEff.isPresent() && (capEff.get() & (1L << CAP_SYS_ADMIN)) == 0) {
            return unavailable(
                    "root, but without CAP_SYS_ADMIN (a container?), so mount is refused",
                    "run the daemon on the host, or give its container CAP_SYS_ADMIN and the host's loop devices");
        }
        if (!Files.exists(root.resolve("dev/loop-control"))) {
            return unavailable(
                    "no /dev/loop-control: the kernel's loop driver is not loaded, or this container has no loop devices",
                    "sudo modprobe loop; in a container, pass --device /dev/loop-control and the /dev/loopN devices");
        }
        List<String> missing = new ArrayList<>();
        Path mkfs = find(root, "mkfs.ext4", missing);
        Path e2fsck = find(root, "e2fsck", missing);
        Path resize2fs = find(root, "resize2fs", missing);
        Path mount = find(root, "mount", missing);
        Path umount = find(root, "umount", missing);
        Path cp = find(root, "cp", missing);
        if (!missing.isEmpty()) {
            boolean e2fs = missing.stream().anyMatch(E2FS_PROGRAMS::contains);
            return unavailable(
                    String.join(", ", missing) + " not found in /" + String.join(", /", PROGRAM_DIRS),
                    e2fs ? E2FSPROGS : "install util-linux and coreutils (mount, umount, cp)");
        }
        Ext4 ext4 = new Ext4(mkfs, e2fsck, resize2fs, mount, umount, cp);
        if (!probe) {
            return new Host(hard("root, loop devices and e2fsprogs present (not probed)"), ext4);
        }
        return probe(ext4);
    }

    /** Formats, mounts and unmounts a {@link WorkspaceQuota#MIN_BYTES} image in a temporary directory. */
    private static Host probe(Ext4 ext4) {
        Path dir = null;
        Path target = null;
        boolean mounted = false;
        long started = System.nanoTime();
        try {
            dir = Files.createTempDirectory(
                    "cordon-quota-probe-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path image = dir.resolve("probe.img");
            target = Files.createDirectory(dir.resolve("mnt"));
            try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
                file.setLength(WorkspaceQuota.MIN_BYTES);
            }
            ext4.format(image);
            ext4.mount(image, target);
            mounted = true;
            ext4.unmount(target);
            mounted = false;
            double millis = (System.nanoTime() - started) / 1e6;
            return new Host(
                    hard(String.format(
                            Locale.ROOT,
                            "hard: each workspace can be a loop-mounted ext4 image (a probe image was formatted"
                                    + " and mounted in %.0f ms)",
                            millis)),
                    ext4);
        } catch (IOException | SandboxException e) {
            return unavailable(
                    "a probe image could not be formatted and mounted: " + e.getMessage(),
                    "fix what the message says; inside a container the daemon needs CAP_SYS_ADMIN and /dev/loop*");
        } finally {
            if (mounted) {
                try {
                    ext4.unmount(target);
                } catch (SandboxException e) {
                    // Reported above already; a probe mount left behind is harmless and named cordon-quota-probe.
                }
            }
            Trees.deleteQuietly(dir);
        }
    }

    private static Path find(Path root, String program, List<String> missing) {
        for (String dir : PROGRAM_DIRS) {
            if (Files.isExecutable(root.resolve(dir).resolve(program))) {
                return Path.of("/", dir, program);
            }
        }
        missing.add(program);
        return null;
    }

    private static Optional<String> field(String status, String key) {
        for (String line : status.split("\n", -1)) {
            if (line.startsWith(key + ":")) {
                return Optional.of(line.substring(key.length() + 1).trim());
            }
        }
        return Optional.empty();
    }

    // "Uid: real effective saved fs": the effective one decides what the kernel allows.
    private static Optional<Long> effective(String ids) {
        String[] fields = ids.split("\\s+", -1);
        try {
            return Optional.of(Long.parseLong(fields.length > 1 ? fields[1] : fields[0]));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<Long> hex(String value) {
        try {
            return Optional.of(Long.parseUnsignedLong(value, 16));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Support hard(String detail) {
        return new Support(Enforcement.HARD, detail, "");
    }

    private static Host unavailable(String detail, String fix) {
        return new Host(new Support(Enforcement.UNAVAILABLE, detail, fix), null);
    }
}
