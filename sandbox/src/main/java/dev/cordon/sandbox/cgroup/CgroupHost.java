package dev.cordon.sandbox.cgroup;

import dev.cordon.core.sandbox.Limit;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * This host's cgroups as Cordon uses them: which layout is mounted, which {@link Limit}s can be
 * enforced here (and why not, for each that cannot), and the factory for per-sandbox groups.
 *
 * <p>Groups live at {@code <this process's group>/cordon/<sandbox-id>}, in every hierarchy that
 * carries one of the controllers used (memory, pids, cpu, and cpuacct for usage on v1). The
 * {@code cordon} parent is created on demand and left in place: removing it would race with a
 * concurrent {@link #create}.
 *
 * <p>On cgroup v2 the kernel lets a group hand controllers to its children only if it holds no
 * process itself (the "no internal processes" rule; the root group is exempt). When the daemon is
 * alone in a delegated group that has not enabled them yet, the first {@link #create} moves the
 * daemon into the leaf {@code <group>/cordon-daemon} and enables the controllers on {@code <group>};
 * a later {@link #detect()} recognises that leaf and uses its parent again.
 *
 * <p>Thread-safe. One instance per daemon is enough; detection reads the kernel's files once.
 */
public interface CgroupHost {

    /** Which cgroup hierarchies are mounted. */
    enum Layout {
        /** One {@code cgroup2} hierarchy holds every controller (most current distributions). */
        V2,
        /** Controllers on v1 hierarchies plus a {@code cgroup2} mount that holds few or none. */
        HYBRID,
        /** Only v1 hierarchies. */
        V1,
        /** No cgroup filesystem is mounted: nothing can be enforced. */
        NONE
    }

    /**
     * Whether one limit can be enforced here.
     *
     * @param detail for an enforceable limit, where and how; otherwise why not
     * @param fix what the operator can do about it; empty when {@code enforceable}
     */
    record Support(Limit limit, boolean enforceable, String detail, String fix) {}

    /** The mounted layout. */
    Layout layout();

    /** Every {@link Limit}, in declaration order, with whether it is enforceable here. */
    Map<Limit, Support> support();

    /** The limits that can be enforced here. */
    default java.util.Set<Limit> enforceable() {
        java.util.Set<Limit> enforceable = java.util.EnumSet.noneOf(Limit.class);
        support().values().stream().filter(Support::enforceable).forEach(s -> enforceable.add(s.limit()));
        return enforceable;
    }

    /** The limits {@code limits} requires that this host cannot enforce; empty when it can start. */
    default List<Support> unenforceable(Limits limits) {
        List<Support> missing = new ArrayList<>();
        for (Limit limit : limits.required()) {
            Support support = support().get(limit);
            if (!support.enforceable()) {
                missing.add(support);
            }
        }
        return missing;
    }

    /**
     * Creates the groups of one sandbox, with {@code limits} written before anything can join them.
     * A stale group with the same id (left by a daemon that crashed) is emptied and replaced.
     *
     * <p>An id of the form {@code <...>-<pid>-<n>} names the process that owns the group: see
     * {@link #reclaimInBackground}, which the first create of a host starts if nothing did before.
     *
     * <p>Blocks on a few file writes (and, for a stale group, up to a few seconds of killing).
     *
     * @param sandboxId a file-name-safe id, unique among live sandboxes ({@code [A-Za-z0-9._-]}, at most
     *     100 characters); {@code <...>-<pid of this process>-<n>} for the group to be reclaimed if
     *     this process dies without closing it
     * @throws SandboxException if a limit that {@code limits} requires is not enforceable here (callers
     *     check {@link #unenforceable} first and refuse, or drop it with {@link Limits#without} when the
     *     operator opted out), or if the kernel refused a write; no group is left behind in either case
     */
    Cgroup create(String sandboxId, Limits limits);

    /**
     * Starts removing, once per host and in the background, the groups that a daemon which is gone
     * left under {@code cordon/}: a daemon killed with SIGKILL closes none of its sandboxes, whose
     * groups stay empty and which no later daemon reuses. A group goes if its id ends in {@code
     * -<pid>-<n>}, that pid no longer runs (or runs a process started after the group was made), and
     * nothing runs in it. The bubblewrap backend starts this when it is made, which every daemon
     * does at start; otherwise a host's first {@link #create} does. It logs how many it removed.
     */
    void reclaimInBackground();

    /**
     * Detects the layout from {@code /proc/mounts} and {@code /proc/self/cgroup}. Reads files only;
     * nothing is created or moved until {@link #create}.
     *
     * @throws SandboxException if {@code /proc} cannot be read
     */
    static CgroupHost detect() {
        return detect(Path.of("/"));
    }

    /**
     * As {@link #detect()}, reading {@code proc/} and the cgroup mounts under {@code root} instead of
     * {@code /}: a sample tree in tests (such as {@code cordon doctor}'s). Groups created from such a
     * host cannot {@link #create} groups (it throws {@link SandboxException}): no kernel stands behind a
     * sample tree, and its {@code cgroup.procs} files name pids of no sandbox.
     */
    static CgroupHost detect(Path root) {
        boolean real = root.toAbsolutePath().normalize().equals(Path.of("/"));
        return Detector.detect(root, real ? Kernel.real() : Kernel.inspectOnly(), Clock.systemUTC());
    }
}
