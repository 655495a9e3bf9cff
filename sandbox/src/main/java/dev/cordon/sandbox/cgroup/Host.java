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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The detected host; makes sandbox groups in the hierarchies detection found usable. */
final class Host implements CgroupHost {
    private static final Logger LOG = LoggerFactory.getLogger(Host.class);

    /** The CFS period every quota is expressed in: 100 ms, the kernel's default. */
    static final long PERIOD_MICROS = 100_000;

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,100}");

    /** An id that names its owner: {@code <anything>-<owner pid>-<n>} ({@link CgroupHost#reclaimInBackground}). */
    private static final Pattern OWNED = Pattern.compile(".+-(\\d{1,10})-\\d+");

    private final Layout layout;
    private final Map<Limit, Support> support;
    private final List<Hierarchy> hierarchies;
    private final Kernel kernel;
    private final Clock clock;
    private final AtomicBoolean reclaimed = new AtomicBoolean();
    private volatile Thread reclaimer;

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
        reclaimInBackground();
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

    /**
     * Removes the groups under {@code cordon/} that a daemon which is gone left behind: those whose
     * id names an owner pid ({@code <...>-<pid>-<n>}) that no longer runs, or now belongs to a
     * process that started after the group was made, and that hold no process. Its own sandboxes'
     * groups are removed on close; a daemon killed with SIGKILL never closes them, and a later one
     * never makes a group of the same id (its pid is another), so without this they would stay
     * until the host reboots. Best effort: a group the kernel will not remove (a process is still
     * in it) stays.
     *
     * @return how many groups were removed, counting each hierarchy's separately
     */
    int reclaimStale() {
        int removed = 0;
        for (Hierarchy hierarchy : hierarchies) {
            List<Path> groups;
            try (Stream<Path> children = Files.list(hierarchy.parent())) {
                groups = children.filter(Files::isDirectory).toList();
            } catch (IOException e) {
                continue; // no sandbox was ever made here
            }
            for (Path group : groups) {
                Matcher owned = OWNED.matcher(group.getFileName().toString());
                if (!owned.matches()) {
                    continue;
                }
                long owner = Long.parseLong(owned.group(1));
                try {
                    Instant made = Files.getLastModifiedTime(group).toInstant();
                    if (owner != kernel.selfPid() && !kernel.mayOwn(owner, made) && removeTree(group)) {
                        removed++;
                    }
                } catch (IOException | RuntimeException e) {
                    // gone meanwhile, or not ours to remove
                }
            }
        }
        if (removed > 0) {
            LOG.info("removed {} cgroups left by daemons that are gone", removed);
        }
        return removed;
    }

    @Override
    public void reclaimInBackground() {
        if (reclaimed.compareAndSet(false, true)) {
            // Off the caller's thread: after a day of crashes there may be thousands, a few ms each.
            reclaimer = Thread.ofVirtual().name("cgroup-reclaim").start(this::reclaimStale);
        }
    }

    /** Waits for the removal {@link #reclaimInBackground} started, if it did (for tests). */
    void awaitReclaimed() throws InterruptedException {
        Thread started = reclaimer;
        if (started != null) {
            started.join();
        }
    }

    /** Removes {@code group} and the groups below it; false if one holds a process (EBUSY). */
    private boolean removeTree(Path group) throws IOException {
        List<Path> children;
        try (Stream<Path> entries = Files.list(group)) {
            children = entries.filter(Files::isDirectory).toList();
        }
        for (Path child : children) {
            if (!removeTree(child)) {
                return false;
            }
        }
        try {
            kernel.rmdir(group);
            return true;
        } catch (IOException e) {
            return false;
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
