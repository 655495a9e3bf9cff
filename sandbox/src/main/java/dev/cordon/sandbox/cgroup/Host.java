package dev.cordon.sandbox.cgroup;

import dev.cordon.core.sandbox.Limit;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxException;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** The detected host; makes sandbox groups in the hierarchies detection found usable. */
final class Host implements CgroupHost {
    /** The CFS period every quota is expressed in: 100 ms, the kernel's default. */
    static final long PERIOD_MICROS = 100_000;

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,100}");

    private final Layout layout;
    private final Map<Limit, Support> support;
    private final List<Hierarchy> hierarchies;
    private final Kernel kernel;
    private final Clock clock;

    Host(Layout layout, Map<Limit, Support> support, List<Hierarchy> hierarchies, Kernel kernel, Clock clock) {
        this.layout = layout;
        this.support = Collections.unmodifiableMap(new EnumMap<>(support));
        this.hierarchies = List.copyOf(hierarchies);
        this.kernel = kernel;
        this.clock = clock;
    }

    @Override
    public Layout layout() {
        return layout;
    }

    @Override
    public Map<Limit, Support> support() {
        return support;
    }

    List<Hierarchy> hierarchies() {
        return hierarchies;
    }

    @Override
    public Cgroup create(String sandboxId, Limits limits) {
        if (!ID.matcher(sandboxId).matches() || sandboxId.equals(".") || sandboxId.equals("..")) {
            throw new IllegalArgumentException("sandbox id is not a safe group name: " + sandboxId);
        }
        List<Support> missing = unenforceable(limits);
        if (!missing.isEmpty()) {
            throw new SandboxException("sandbox " + sandboxId + " requires limits this host cannot enforce: "
                    + missing.stream()
                            .map(s -> s.limit().name().toLowerCase(java.util.Locale.ROOT) + " (" + s.detail() + ")")
                            .collect(Collectors.joining("; "))
                    + ". Fix the host (./cordon doctor), or have the operator opt out of these limits explicitly");
        }
        List<Group.Node> created = new ArrayList<>();
        try {
            // Serialised per host: v2 delegation (moving the daemon, enabling controllers) must happen once.
            synchronized (this) {
                for (Hierarchy hierarchy : hierarchies) {
                    prepareParent(hierarchy);
                    Group.Node node =
                            new Group.Node(hierarchy, hierarchy.parent().resolve(sandboxId));
                    if (Files.exists(node.dir())) {
                        // Left by a daemon that crashed: nothing in it may survive into the new sandbox.
                        Group.empty(List.of(node), kernel, clock);
                    }
                    kernel.mkdir(node.dir());
                    created.add(node);
                    writeLimits(node, limits);
                }
            }
            return new Group(sandboxId, created, kernel, clock);
        } catch (IOException | RuntimeException e) {
            try {
                Group.empty(created, kernel, clock);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e instanceof SandboxException se
                    ? se
                    : new SandboxException(
                            "could not create the cgroups of sandbox " + sandboxId + ": " + e.getMessage(), e);
        }
    }

    private void prepareParent(Hierarchy hierarchy) throws IOException {
        if (!hierarchy.v2()) {
            ensureGroup(hierarchy.parent());
            return;
        }
        Set<String> wanted = new LinkedHashSet<>(hierarchy.controllers());
        Path group = hierarchy.group();
        Set<String> missing = missing(group, wanted);
        if (!missing.isEmpty()) {
            if (!Detector.isRootGroup(group)) {
                moveSelfOut(group);
            }
            enable(group, missing);
        }
        ensureGroup(hierarchy.parent());
        Set<String> missingBelow = missing(hierarchy.parent(), wanted);
        if (!missingBelow.isEmpty()) {
            enable(hierarchy.parent(), missingBelow);
        }
    }

    /** Moves the daemon into the {@code cordon-daemon} leaf so that {@code group} may enable controllers. */
    private void moveSelfOut(Path group) throws IOException {
        List<Long> pids = ProcFiles.parsePids(Files.readString(group.resolve("cgroup.procs")));
        long self = kernel.selfPid();
        if (pids.isEmpty()) {
            return;
        }
        if (!pids.equals(List.of(self))) {
            throw new SandboxException("cannot enable controllers in " + group + ": it holds other processes than"
                    + " this daemon (" + pids + "), and cgroup v2 forbids controllers for children of a group with"
                    + " processes. Start the daemon alone in its group (systemd-run --user --scope -p Delegate=yes)");
        }
        Path leaf = group.resolve(Hierarchy.DAEMON_LEAF);
        ensureGroup(leaf);
        write(leaf.resolve("cgroup.procs"), Long.toString(self));
    }

    private static Set<String> missing(Path group, Set<String> wanted) {
        Set<String> missing = new LinkedHashSet<>(wanted);
        missing.removeAll(Detector.enabledForChildren(group));
        return missing;
    }

    private static void enable(Path group, Set<String> controllers) throws IOException {
        write(
                group.resolve("cgroup.subtree_control"),
                controllers.stream().map(c -> "+" + c).collect(Collectors.joining(" ")));
    }

    private void ensureGroup(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            kernel.mkdir(dir);
        } catch (FileAlreadyExistsException e) {
            // Another daemon thread or process made it first: fine, it is the same group.
        }
    }

    private static void writeLimits(Group.Node node, Limits limits) throws IOException {
        Path dir = node.dir();
        Hierarchy hierarchy = node.hierarchy();
        if (hierarchy.v2()) {
            if (hierarchy.has("memory") && limits.memoryBytes() != 0) {
                write(dir.resolve("memory.max"), Long.toString(limits.memoryBytes()));
                // Without this a sandbox at its limit would page out to swap instead of being OOM-killed.
                if (Files.exists(dir.resolve("memory.swap.max"))) {
                    write(dir.resolve("memory.swap.max"), "0");
                }
            }
            if (hierarchy.has("pids") && limits.maxPids() != 0) {
                write(dir.resolve("pids.max"), Integer.toString(limits.maxPids()));
            }
            if (hierarchy.has("cpu") && limits.cpuMillicores() != 0) {
                write(dir.resolve("cpu.max"), quotaMicros(limits) + " " + PERIOD_MICROS);
            }
            return;
        }
        if (hierarchy.has("memory") && limits.memoryBytes() != 0) {
            write(dir.resolve("memory.limit_in_bytes"), Long.toString(limits.memoryBytes()));
            // memsw caps memory plus swap; it must be set after (and be at least) the memory limit.
            if (Files.exists(dir.resolve("memory.memsw.limit_in_bytes"))) {
                write(dir.resolve("memory.memsw.limit_in_bytes"), Long.toString(limits.memoryBytes()));
            }
        }
        if (hierarchy.has("pids") && limits.maxPids() != 0) {
            write(dir.resolve("pids.max"), Integer.toString(limits.maxPids()));
        }
        if (hierarchy.has("cpu") && limits.cpuMillicores() != 0) {
            write(dir.resolve("cpu.cfs_period_us"), Long.toString(PERIOD_MICROS));
            write(dir.resolve("cpu.cfs_quota_us"), Long.toString(quotaMicros(limits)));
        }
    }

    static long quotaMicros(Limits limits) {
        return limits.cpuMillicores() * PERIOD_MICROS / 1000;
    }

    /** Writes a control file; never creates one (a misspelt name must fail, not make a plain file). */
    static void write(Path file, String value) throws IOException {
        Files.writeString(file, value, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }
}
