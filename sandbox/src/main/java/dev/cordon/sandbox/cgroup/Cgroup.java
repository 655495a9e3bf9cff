package dev.cordon.sandbox.cgroup;

import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.SandboxException;
import java.nio.file.Path;
import java.util.List;

/**
 * One sandbox's groups (one per hierarchy on v1, one on v2), created with its limits already set.
 *
 * <p>Processes join by writing their pid to each of {@link #procsFiles()}; {@link #wrap} builds a
 * command that does so before it executes anything, so no sandboxed code ever runs outside the
 * group. Children inherit the group; a process inside cannot leave it (the files belong to the
 * host, and bwrap's cgroup namespace hides them).
 *
 * <p>Thread-safe. {@link #usage()} and {@link #oomKilled()} may be called while processes run and
 * after they exit, until {@link #close()}.
 */
public interface Cgroup extends AutoCloseable {

    /** The id this group was created for. */
    String sandboxId();

    /**
     * The {@code cgroup.procs} file of each group, one per hierarchy. Writing a pid to all of them
     * moves that process, with all its threads, into the sandbox's groups.
     */
    List<Path> procsFiles();

    /**
     * {@code command} prefixed with a {@code /bin/sh} that writes its own pid to every {@link
     * #procsFiles()} and then {@code exec}s {@code command}: the process {@link ProcessBuilder}
     * starts is in the group before {@code command}'s first instruction, keeps its pid (so {@code
     * bwrap --die-with-parent} still watches the daemon), and takes no environment variable from
     * the wrapper. If a join fails the wrapper prints why on stderr and exits 125 without running
     * {@code command}.
     */
    default List<String> wrap(List<String> command) {
        return JoinScript.wrap(procsFiles(), command);
    }

    /**
     * Current usage, read from the kernel.
     *
     * @throws SandboxException if the group's files cannot be read (after {@link #close()}, say)
     */
    ResourceUsage usage();

    /**
     * Whether the kernel's OOM killer has killed a process in this group. v2 reads {@code oom_kill}
     * in {@code memory.events}; v1 reads {@code oom_kill} in {@code memory.oom_control} (Linux 4.13+)
     * and on older kernels falls back to the failure counters, which also count reclaimed overruns.
     * False when memory is not limited by a group here.
     */
    boolean oomKilled();

    /**
     * Kills every process left in the groups (SIGKILL, repeated until they are empty) and removes the
     * groups. Idempotent; blocks up to a few seconds.
     *
     * @throws SandboxException if a process survives or a group cannot be removed within the deadline;
     *     the groups are then left for a later {@link CgroupHost#create} with the same id to clear
     */
    @Override
    void close();
}
