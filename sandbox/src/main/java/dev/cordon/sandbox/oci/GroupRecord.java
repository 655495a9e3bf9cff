package dev.cordon.sandbox.oci;

import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.cgroup.Cgroup;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a sandbox's groups said (OOM kills, usage), kept past their removal: the part of closing an
 * OCI or podman sandbox that is about its cgroup. Thread-safe.
 */
final class GroupRecord {
    private static final Logger LOG = LoggerFactory.getLogger(GroupRecord.class);

    private final Cgroup cgroup;
    private final AtomicBoolean closed;
    private volatile boolean oomKilled;
    private volatile ResourceUsage lastUsage;

    /**
     * @param cgroup the sandbox's groups, or null when it has none (no limits on a host without cgroups)
     * @param closed set once the sandbox is closing: the groups are then no longer read
     */
    GroupRecord(Cgroup cgroup, AtomicBoolean closed) {
        this.cgroup = cgroup;
        this.closed = closed;
    }

    /** Reads now whether the OOM killer struck, and remembers a yes. */
    void noteOomKill() {
        oomKilled = oomKilled || read();
    }

    boolean oomKilled() {
        return oomKilled || read();
    }

    private boolean read() {
        try {
            return cgroup != null && !closed.get() && cgroup.oomKilled();
        } catch (SandboxException e) {
            return false;
        }
    }

    Optional<ResourceUsage> usage() {
        if (cgroup == null || closed.get()) {
            return Optional.ofNullable(lastUsage);
        }
        try {
            return Optional.of(cgroup.usage());
        } catch (SandboxException e) {
            return Optional.ofNullable(lastUsage);
        }
    }

    /** Reads the OOM record and usage one last time, before the groups are emptied. */
    void keepLast() {
        if (cgroup != null) {
            try {
                oomKilled = oomKilled || cgroup.oomKilled();
                lastUsage = cgroup.usage();
            } catch (SandboxException e) {
                // the group may already be gone; the last reading stays empty
            }
        }
    }

    /** Kills what is left in the groups and removes them; logs rather than throws. */
    void close(String sandboxId) {
        if (cgroup != null) {
            try {
                cgroup.close();
            } catch (SandboxException e) {
                LOG.warn("could not remove the cgroups of sandbox {}", sandboxId, e);
            }
        }
    }

    /** Waits up to 10 s for {@code exit}; logs when it did not come. */
    static void awaitExit(CompletableFuture<Integer> exit, String sandboxId) {
        try {
            exit.get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("sandbox {} did not exit within 10 s of being killed", sandboxId);
        }
    }
}
