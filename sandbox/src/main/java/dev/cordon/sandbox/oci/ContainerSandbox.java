package dev.cordon.sandbox.oci;

import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.sandbox.cgroup.Cgroup;
import dev.cordon.sandbox.process.HostProcesses;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
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

    /**
     * Starts {@code argv} (the runtime, in the foreground) in {@code dir} with an empty environment
     * but {@code PATH}, its output copied to the spec's log, and returns its sandbox.
     *
     * @throws IOException if the process cannot be started
     */
    static ContainerSandbox start(
            List<String> argv, Path dir, SandboxSpec spec, Cgroup cgroup, Runnable kill, Runnable cleanUp)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(argv)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.PIPE)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        // The runtime passes its own output to the sandbox; none of the daemon's environment goes along.
        builder.environment().clear();
        builder.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        Process process = HostProcesses.spawn(builder);
        CompletableFuture<Void> logged = HostProcesses.copyToLog(process, spec.log(), spec.id());
        return new ContainerSandbox(spec.id(), process, logged, cgroup, kill, cleanUp);
    }

    /**
     * What a start that failed with {@code e} throws, once the groups and {@code dir} are removed:
     * {@code e} itself when it is a {@link SandboxException}, else one that names {@code runtime}.
     */
    static SandboxException startFailed(Exception e, Cgroup cgroup, Path dir, String runtime, String sandboxId) {
        if (cgroup != null) {
            try {
                cgroup.close();
            } catch (SandboxException cleanup) {
                e.addSuppressed(cleanup);
            }
        }
        OciBackend.deleteTree(dir);
        if (e instanceof SandboxException se) {
            return se;
        }
        return new SandboxException(
                "could not start " + runtime + " for sandbox " + sandboxId + ": " + e.getMessage()
                        + " (run ./cordon doctor)",
                e);
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
