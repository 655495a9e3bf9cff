package dev.cordon.sandbox.oci;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes one sandbox's OCI bundle: {@code config.json} and an empty, read-only root filesystem that
 * holds only the mount points and the {@code /bin -> usr/bin} style links of the host. No image: the
 * host's {@code /usr} is bind-mounted read-only, and everything else the sandbox sees is a mount the
 * spec names, as with bubblewrap.
 *
 * <p>What each part of the config is for:
 *
 * <ul>
 *   <li>namespaces pid, network (loopback only), ipc, uts, mount, cgroup. No user namespace: the
 *       daemon runs the runtime as root and the process runs as the spec's unprivileged uid, with no
 *       capability in any set and {@code noNewPrivileges}, so no setuid binary or file capability
 *       gives one back (every bind is also {@code nosuid}).
 *   <li>{@code root.readonly}, {@code /tmp} and {@code /dev/shm} as sized tmpfs (pages there are
 *       charged to the memory limit), {@code /proc} with the kernel's leaky files masked and its
 *       control files read-only, no {@code /sys} at all.
 *   <li>seccomp: Cordon's own denylist ({@code Seccomp.ociProfile()}), the same as bubblewrap's.
 *   <li>rlimits: no core dumps (a dump would write the process's memory into the workspace) and a
 *       bounded number of open files.
 *   <li>{@code linux.resources}: the spec's memory, pids and CPU limits, in the cgroup the backend
 *       has already made with the same limits (so usage can be read and everything killed from the
 *       host whatever the runtime does).
 * </ul>
 */
final class Bundle {
    static final String OWNER_FILE = "owner";
    static final long SHM_BYTES = 64L * 1024 * 1024;
    static final long TMP_BYTES = 256L * 1024 * 1024;
    private static final long PERIOD_MICROS = 100_000;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private Bundle() {}

    /**
     * Creates {@code dir} with {@code config.json} and {@code rootfs/} for {@code spec} run by {@code
     * runtime} (which decides the command's wrapper, the cgroup's limits and what goes into {@code
     * linux.resources}).
     *
     * @param cgroupsPath the runtime's {@code linux.cgroupsPath}, or null for none
     * @throws SandboxException if a mount source is missing or the files cannot be written
     */
    static void write(
            Path dir,
            SandboxSpec spec,
            OciRuntime runtime,
            String cgroupsPath,
            Map<String, Object> seccomp,
            long maxOpenFiles,
            String owner) {
        try {
            List<Object> mounts = new ArrayList<>(systemMounts(spec.limits()));
            for (SandboxSpec.Mount m : rootfs(dir, spec)) {
                mounts.add(bind(m.source(), m.target(), m.mode()));
            }
            Path rootfs = dir.resolve("rootfs");
            if (runtime.emulatesKernel()) {
                // gVisor mounts its own (emulated) /sys read-write when the bundle names none.
                Files.createDirectories(rootfs.resolve("sys"));
                mounts.add(Map.of(
                        "destination",
                        "/sys",
                        "type",
                        "sysfs",
                        "source",
                        "sysfs",
                        "options",
                        List.of("ro", "nosuid", "noexec", "nodev")));
            }
            Map<String, Object> config = new LinkedHashMap<>();
            config.put("ociVersion", "1.0.2");
            config.put("process", process(spec, runtime.args(spec.command()), maxOpenFiles));
            config.put("root", Map.of("path", "rootfs", "readonly", true));
            config.put("hostname", spec.hostname());
            config.put("mounts", mounts);
            config.put("annotations", Map.of("dev.cordon.owner", owner));
            config.put("linux", linux(runtime.hostLimits(spec.limits()), cgroupsPath, seccomp));
            JSON.writerWithDefaultPrettyPrinter()
                    .writeValue(dir.resolve("config.json").toFile(), config);
            Files.writeString(dir.resolve(OWNER_FILE), owner);
        } catch (IOException | tools.jackson.core.JacksonException e) {
            throw new SandboxException(
                    "cannot write the OCI bundle of sandbox " + spec.id() + " in " + dir + ": " + e, e);
        }
    }

    /**
     * Creates {@code dir/rootfs}: the mount points of the host's system directories and of the
     * spec's mounts, and the host's {@code /bin -> usr/bin} style links, all owned by root.
     *
     * @return the binds the sandbox needs besides {@code /usr}: the host's system directories that
     *     are not links (read-only), then the spec's mounts
     * @throws SandboxException if a mount source of the spec does not exist
     */
    static List<SandboxSpec.Mount> rootfs(Path dir, SandboxSpec spec) throws IOException {
        Path rootfs = Files.createDirectories(dir.resolve("rootfs"));
        List<SandboxSpec.Mount> binds = new ArrayList<>();
        for (String dirName : List.of("bin", "sbin", "lib", "lib64", "lib32", "libx32")) {
            Path host = Path.of("/", dirName);
            if (Files.isSymbolicLink(host)) {
                Files.createSymbolicLink(rootfs.resolve(dirName), Files.readSymbolicLink(host));
            } else if (Files.isDirectory(host)) {
                binds.add(new SandboxSpec.Mount(host, "/" + dirName, SandboxSpec.Mode.READ_ONLY));
                Files.createDirectories(rootfs.resolve(dirName));
            }
        }
        for (String point : List.of("proc", "dev", "tmp", "usr")) {
            Files.createDirectories(rootfs.resolve(point));
        }
        // runc gives a tmpfs the mode of the directory it covers, whatever its mode= option says.
        Files.setPosixFilePermissions(rootfs.resolve("tmp"), PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setAttribute(rootfs.resolve("tmp"), "unix:mode", 01777);
        for (SandboxSpec.Mount m : spec.mounts()) {
            if (!Files.exists(m.source())) {
                throw new SandboxException("mount source " + m.source() + " for " + m.target() + " does not exist");
            }
            // The runtime would create missing mount points itself, but gVisor's gofer does not:
            // make every one here (directories 0755 root, so the sandbox uid can traverse them).
            Path point = rootfs.resolve(m.target().substring(1));
            if (Files.isDirectory(m.source())) {
                Files.createDirectories(point);
            } else {
                Files.createDirectories(point.getParent());
                if (!Files.exists(point)) {
                    Files.createFile(point);
                }
            }
            binds.add(m);
        }
        return binds;
    }

    private static Map<String, Object> process(SandboxSpec spec, List<String> args, long maxOpenFiles) {
        Map<String, Object> process = new LinkedHashMap<>();
        process.put("terminal", false);
        process.put("user", Map.of("uid", spec.uid(), "gid", spec.gid()));
        process.put("args", args);
        process.put(
                "env",
                spec.env().entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue())
                        .sorted()
                        .toList());
        process.put("cwd", spec.workDir());
        // Every set empty: not even the runtime's default (CAP_KILL, CAP_NET_BIND_SERVICE, ...).
        process.put(
                "capabilities",
                Map.of(
                        "bounding",
                        List.of(),
                        "effective",
                        List.of(),
                        "inheritable",
                        List.of(),
                        "permitted",
                        List.of(),
                        "ambient",
                        List.of()));
        process.put(
                "rlimits",
                List.of(
                        Map.of("type", "RLIMIT_CORE", "hard", 0, "soft", 0),
                        Map.of("type", "RLIMIT_NOFILE", "hard", maxOpenFiles, "soft", maxOpenFiles)));
        process.put("noNewPrivileges", true);
        return process;
    }

    private static List<Object> systemMounts(Limits limits) {
        long tmp = limits.memoryBytes() == 0 ? TMP_BYTES : Math.min(TMP_BYTES, limits.memoryBytes() / 4);
        return List.of(
                Map.of(
                        "destination",
                        "/proc",
                        "type",
                        "proc",
                        "source",
                        "proc",
                        "options",
                        List.of("nosuid", "noexec", "nodev")),
                Map.of(
                        "destination",
                        "/dev",
                        "type",
                        "tmpfs",
                        "source",
                        "tmpfs",
                        "options",
                        List.of("nosuid", "strictatime", "mode=755", "size=65536k")),
                Map.of(
                        "destination",
                        "/dev/pts",
                        "type",
                        "devpts",
                        "source",
                        "devpts",
                        "options",
                        List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620")),
                Map.of(
                        "destination",
                        "/dev/shm",
                        "type",
                        "tmpfs",
                        "source",
                        "shm",
                        "options",
                        List.of("nosuid", "noexec", "nodev", "mode=1777", "size=" + SHM_BYTES)),
                Map.of(
                        "destination",
                        "/tmp",
                        "type",
                        "tmpfs",
                        "source",
                        "tmpfs",
                        "options",
                        List.of("nosuid", "nodev", "mode=1777", "size=" + tmp)),
                bind(Path.of("/usr"), "/usr", SandboxSpec.Mode.READ_ONLY));
    }

    private static Map<String, Object> bind(Path source, String target, SandboxSpec.Mode mode) {
        return Map.of(
                "destination",
                target,
                "type",
                "bind",
                "source",
                source.toString(),
                "options",
                List.of("rbind", mode == SandboxSpec.Mode.READ_ONLY ? "ro" : "rw", "nosuid", "nodev"));
    }

    private static Map<String, Object> linux(Limits limits, String cgroupsPath, Map<String, Object> seccomp) {
        Map<String, Object> linux = new LinkedHashMap<>();
        Map<String, Object> resources = new LinkedHashMap<>();
        resources.put("devices", List.of(Map.of("allow", false, "access", "rwm")));
        if (limits.memoryBytes() != 0) {
            resources.put("memory", Map.of("limit", limits.memoryBytes()));
        }
        if (limits.maxPids() != 0) {
            resources.put("pids", Map.of("limit", limits.maxPids()));
        }
        if (limits.cpuMillicores() != 0) {
            resources.put(
                    "cpu", Map.of("quota", limits.cpuMillicores() * PERIOD_MICROS / 1000, "period", PERIOD_MICROS));
        }
        linux.put("resources", resources);
        if (cgroupsPath != null) {
            linux.put("cgroupsPath", cgroupsPath);
        }
        linux.put(
                "namespaces",
                List.of("pid", "network", "ipc", "uts", "mount", "cgroup").stream()
                        .map(type -> Map.of("type", type))
                        .toList());
        if (seccomp != null) {
            linux.put("seccomp", seccomp);
        }
        linux.put(
                "maskedPaths",
                List.of(
                        "/proc/acpi",
                        "/proc/asound",
                        "/proc/kcore",
                        "/proc/keys",
                        "/proc/latency_stats",
                        "/proc/timer_list",
                        "/proc/timer_stats",
                        "/proc/sched_debug",
                        "/proc/scsi",
                        "/sys/firmware"));
        linux.put("readonlyPaths", List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"));
        return linux;
    }
}
