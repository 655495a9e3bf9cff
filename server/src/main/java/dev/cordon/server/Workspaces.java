package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.disk.WorkspaceQuota;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds each agent's workspace with its disk quota before its sandbox starts: the workspace
 * becomes a loop-mounted ext4 image, {@code agents/<name>/workspace.img}, of the policy's {@code
 * disk_mb} (outside the sandbox: only the workspace itself is mounted in). The mounts made here are
 * undone when the daemon stops. Thread-safe.
 */
final class Workspaces implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Workspaces.class);

    private final Home home;
    private final WorkspaceQuota quota;
    private final boolean unenforcedAllowed;
    private final Set<Path> attached = ConcurrentHashMap.newKeySet();
    /**
     * Mounting holds it shared, {@link #close} exclusively: a session that was still starting its
     * sandbox when the daemon stopped would otherwise mount a workspace after close had unmounted
     * the others, and leave it mounted (and its loop device taken) after the daemon is gone.
     */
    private final ReadWriteLock mounting = new ReentrantReadWriteLock();

    private boolean closed;

    Workspaces(Home home, WorkspaceQuota quota, boolean unenforcedAllowed) {
        this.home = home;
        this.quota = quota;
        this.unenforcedAllowed = unenforcedAllowed;
    }

    /**
     * Mounts {@code workspace}'s quota of {@code bytes} (0: none), creating, growing or migrating
     * its image as needed. A quota once set stays mounted at its size when the policy drops it, so
     * the agent's files do not vanish behind an empty directory.
     *
     * @throws SandboxException if this host cannot enforce the quota and the operator did not opt
     *     out, or the image cannot be made (the message says why and what to do)
     */
    void prepare(Agent agent, Path workspace, long bytes, int uid) {
        Path image = home.agent(agent.name()).resolve("workspace.img");
        long size = bytes;
        if (size == 0) {
            if (!Files.exists(image)) {
                return;
            }
            try {
                size = Files.size(image);
            } catch (IOException e) {
                throw new SandboxException("cannot read the size of " + image + ": " + e.getMessage(), e);
            }
        }
        if (!quota.support().hard()) {
            if (unenforcedAllowed) {
                return;
            }
            throw new SandboxException("agent " + agent.name() + " has a workspace quota (sandbox.disk_mb) that this"
                    + " host cannot enforce: " + quota.support().detail() + ". Fix: "
                    + quota.support().fix()
                    + ", or opt out in cordon.yaml: sandbox.unenforced_limits: [disk]");
        }
        WorkspaceQuota.Attachment done;
        mounting.readLock().lock();
        try {
            if (closed) {
                throw new SandboxException(
                        "the daemon is stopping: agent " + agent.name() + "'s workspace is not mounted");
            }
            done = quota.attach(workspace, image, size, uid);
            attached.add(workspace);
        } finally {
            mounting.readLock().unlock();
        }
        if (done.changed()) {
            LOG.info("workspace of {}: {} ({} MiB quota)", agent.name(), done.steps(), size >> 20);
        }
    }

    /**
     * Unmounts {@code name}'s workspace quota if this daemon mounted it (its files stay in {@code
     * workspace.img}), so that its folder can move (a deleted agent's archive). Blocks up to a few
     * seconds while a stopping sandbox still holds it, then unmounts lazily.
     *
     * @throws SandboxException if the unmount fails
     */
    void release(AgentName name) {
        Path workspace = home.workspace(name);
        if (attached.remove(workspace)) {
            quota.detach(workspace);
        }
    }

    /**
     * Unmounts every workspace this daemon mounted, after any mount in progress; later {@link
     * #prepare} calls fail. Never throws.
     */
    @Override
    public void close() {
        mounting.writeLock().lock(); // waits for mounts in progress; none start after
        try {
            closed = true;
            for (Path workspace : attached) {
                try {
                    quota.detach(workspace);
                } catch (RuntimeException e) {
                    LOG.warn("could not unmount the workspace {}: {}", workspace, e.getMessage());
                }
            }
            attached.clear();
        } finally {
            mounting.writeLock().unlock();
        }
    }
}
