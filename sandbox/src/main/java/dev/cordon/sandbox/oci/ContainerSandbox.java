package dev.cordon.sandbox.oci;

import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.cgroup.Cgroup;
import dev.cordon.sandbox.process.HostProcesses;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sandbox whose process is a container runtime in the foreground (runc, crun, runsc, podman)
 * and whose limits are Cordon's cgroups: its exit, OOM record and usage, read from the groups and
 * kept past their removal. What differs per runtime is how to kill the container and how to clean
 * up after it. Thread-safe.
 */
final class ContainerSandbox implements Sandbox {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerSandbox.class);

    private final String id;
    private final Process process;
    private final Cgroup cgroup;
    private final Runnable kill;
    private final Runnable cleanUp;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean oomKilled;
    private volatile ResourceUsage lastUsage;

    /**
     * @param logged completes when the process's output has been copied to the log
     * @param cgroup the sandbox's groups, or null when it has none (no limits on a host without cgroups)
     * @param kill kills the container while the runtime still runs (best effort, never throws)
     * @param cleanUp removes the container and its files once the runtime has exited (best effort)
     */
    ContainerSandbox(
            String id,
            Process process,
            CompletableFuture<Void> logged,
            Cgroup cgroup,
            Runnable kill,
            Runnable cleanUp) {
        this.id = id;
        this.process = process;
        this.cgroup = cgroup;
        this.kill = kill;
        this.cleanUp = cleanUp;
        // Not Process.onExit(): it completes through the common ForkJoinPool (see the bubblewrap backend).
        Thread.ofVirtual().name("exit-" + id).start(() -> {
            int status = HostProcesses.awaitExit(process);
            logged.completeOnTimeout(null, 2, TimeUnit.SECONDS).join();
            oomKilled = oomKilled || readOomKilled();
            exit.complete(status);
        });
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public CompletableFuture<Integer> exit() {
        return exit;
    }

    @Override
    public boolean oomKilled() {
        return oomKilled || readOomKilled();
    }

    private boolean readOomKilled() {
        try {
            return cgroup != null && !closed.get() && cgroup.oomKilled();
        } catch (SandboxException e) {
            return false;
        }
    }

    @Override
    public Optional<ResourceUsage> usage() {
        if (cgroup == null || closed.get()) {
            return Optional.ofNullable(lastUsage);
        }
        try {
            return Optional.of(cgroup.usage());
        } catch (SandboxException e) {
            return Optional.ofNullable(lastUsage);
        }
    }

    /**
     * Kills the container (then everything left in the groups), cleans up after it and removes the
     * groups. Idempotent; blocks until the runtime has exited or 10 s have passed.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            awaitExit();
            return;
        }
        if (cgroup != null) {
            try {
                oomKilled = oomKilled || cgroup.oomKilled();
                lastUsage = cgroup.usage();
            } catch (SandboxException e) {
                // the group may already be gone; the last reading stays empty
            }
        }
        if (process.isAlive()) {
            kill.run();
        }
        awaitExit();
        process.destroyForcibly();
        cleanUp.run();
        if (cgroup != null) {
            try {
                cgroup.close();
            } catch (SandboxException e) {
                LOG.warn("could not remove the cgroups of sandbox {}", id, e);
            }
        }
    }

    private void awaitExit() {
        try {
            exit.get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("sandbox {} did not exit within 10 s of being killed", id);
        }
    }
}
