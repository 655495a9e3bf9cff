package dev.cordon.sandbox.cgroup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A sample host under a temporary root: {@code proc/mounts}, {@code proc/self/cgroup} and group
 * directories with the control files the kernel would show, plus a {@link Kernel} whose mkdir fills
 * new groups with those files and whose kill only takes a pid off the sample's lists (it never
 * signals a real process). Pids are alive unless a test adds them to {@link #gone}.
 */
final class FakeCgroupFs implements Kernel {
    static final long SELF = 4242;

    static final Map<String, String> V2_FILES = Map.ofEntries(
            Map.entry("cgroup.procs", ""),
            Map.entry("cgroup.controllers", ""),
            Map.entry("cgroup.subtree_control", ""),
            Map.entry("cgroup.type", "domain\n"),
            Map.entry("cgroup.kill", ""),
            Map.entry("memory.max", "max\n"),
            Map.entry("memory.swap.max", "max\n"),
            Map.entry("memory.current", "1048576\n"),
            Map.entry("memory.peak", "2097152\n"),
            Map.entry("memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"),
            Map.entry("pids.max", "max\n"),
            Map.entry("pids.current", "3\n"),
            Map.entry("cpu.max", "max 100000\n"),
            Map.entry("cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"));

    static final Map<String, Map<String, String>> V1_FILES = Map.of(
            "memory",
                    Map.of(
                            "memory.limit_in_bytes", "9223372036854771712\n",
                            "memory.memsw.limit_in_bytes", "9223372036854771712\n",
                            "memory.usage_in_bytes", "1048576\n",
                            "memory.max_usage_in_bytes", "2097152\n",
                            "memory.failcnt", "0\n",
                            "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"),
            "pids", Map.of("pids.max", "max\n", "pids.current", "3\n"),
            "cpu", Map.of("cpu.cfs_period_us", "100000\n", "cpu.cfs_quota_us", "-1\n"),
            "cpuacct", Map.of("cpuacct.usage", "1500000\n"));

    final Path root;
    final Set<Path> unwritable = new HashSet<>();
    final List<Long> killed = new ArrayList<>();
    /** Pids of processes that have exited; every other pid is alive. */
    final Set<Long> gone = new HashSet<>();

    private final Map<Path, Map<String, String>> templates = new LinkedHashMap<>();

    FakeCgroupFs(Path root, String mounts, String selfCgroup) throws IOException {
        this.root = root;
        Files.createDirectories(root.resolve("proc/self"));
        Files.writeString(root.resolve("proc/mounts"), mounts);
        Files.writeString(root.resolve("proc/self/cgroup"), selfCgroup);
    }

    /** A path of the sample host ({@code /sys/fs/cgroup/x} → {@code <root>/sys/fs/cgroup/x}). */
    Path path(String absolute) {
        return root.resolve(absolute.substring(1));
    }

    /** Declares a v2 hierarchy at {@code mountPoint}; groups made under it get v2 files. */
    FakeCgroupFs v2(String mountPoint) {
        templates.put(path(mountPoint), V2_FILES);
        return this;
    }

    /** Declares a v1 hierarchy at {@code mountPoint} for {@code controllers}. */
    FakeCgroupFs v1(String mountPoint, String... controllers) {
        Map<String, String> files = new LinkedHashMap<>(Map.of("cgroup.procs", "", "tasks", ""));
        for (String controller : controllers) {
            files.putAll(V1_FILES.get(controller));
        }
        templates.put(path(mountPoint), files);
        return this;
    }

    /** Creates the group at {@code absolute} (and its ancestors) as the kernel shows it. */
    Path group(String absolute, Map<String, String> overrides) throws IOException {
        Path dir = path(absolute);
        Files.createDirectories(dir);
        for (Map.Entry<String, String> file : template(dir).entrySet()) {
            Files.writeString(dir.resolve(file.getKey()), file.getValue());
        }
        // A null value removes the file: a kernel or group that does not have it.
        for (Map.Entry<String, String> file : overrides.entrySet()) {
            if (file.getValue() == null) {
                Files.deleteIfExists(dir.resolve(file.getKey()));
            } else {
                Files.writeString(dir.resolve(file.getKey()), file.getValue());
            }
        }
        return dir;
    }

    static String read(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Map<String, String> template(Path dir) {
        for (Map.Entry<Path, Map<String, String>> t : templates.entrySet()) {
            if (dir.startsWith(t.getKey())) {
                return t.getValue();
            }
        }
        throw new IllegalStateException("no hierarchy declared for " + dir);
    }

    @Override
    public long selfPid() {
        return SELF;
    }

    @Override
    public boolean canWrite(Path dir) {
        return !unwritable.contains(dir);
    }

    @Override
    public void mkdir(Path dir) throws IOException {
        Files.createDirectory(dir);
        for (Map.Entry<String, String> file : template(dir).entrySet()) {
            Files.writeString(dir.resolve(file.getKey()), file.getValue());
        }
    }

    @Override
    public void rmdir(Path dir) throws IOException {
        if (!read(dir.resolve("cgroup.procs")).isEmpty()) {
            throw new IOException(dir + ": Device or resource busy");
        }
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path entry : entries.toList()) {
                if (Files.isDirectory(entry)) {
                    throw new DirectoryNotEmptyException(dir.toString());
                }
                Files.delete(entry);
            }
        }
        Files.delete(dir);
    }

    @Override
    public boolean mayOwn(long pid, java.time.Instant made) {
        return !gone.contains(pid);
    }

    @Override
    public void kill(long pid) {
        killed.add(pid);
        try (Stream<Path> files = Files.walk(root)) {
            for (Path procs : files.filter(p -> p.endsWith("cgroup.procs")).toList()) {
                List<String> kept = Files.readAllLines(procs).stream()
                        .filter(line -> !line.trim().equals(Long.toString(pid)))
                        .toList();
                Files.write(procs, kept);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
