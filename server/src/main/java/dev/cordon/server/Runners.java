package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.session.RunnerLink;
import dev.cordon.sandbox.Sandboxes;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts runners the way the daemon does (same sandbox, mounts, flags and AOT cache handling) but
 * without a daemon: for benchmarks and diagnostics. Each {@link #launch} is a fresh bubblewrap
 * sandbox with a runner that has said Ready. Thread-safe.
 */
public final class Runners {
    /** The daemon's default runner heap ({@code runner.heap_mb}). */
    public static final int DEFAULT_HEAP_MB = 256;

    private static final AgentName AGENT = new AgentName("bench");

    private final SandboxedRunners launcher;
    private final Agent agent;
    private final int uid;

    private Runners(SandboxedRunners launcher, Agent agent, int uid) {
        this.launcher = launcher;
        this.agent = agent;
        this.uid = uid;
    }

    /** The JVM flags the daemon gives its runners with {@code heapMb} of heap. */
    public static List<String> defaultJvmFlags(int heapMb) {
        return SandboxedRunners.defaultJvmFlags(heapMb);
    }

    /**
     * Runners in bubblewrap sandboxes whose state (AOT cache, run directories, logs, a workspace)
     * lives in {@code homeDir}, created if missing.
     *
     * @param runnerLib the directory of the runner's jars
     * @param jvmFlags the runner JVM's flags (see {@link #defaultJvmFlags})
     * @param aot whether to use the AOT cache (trained in the background on first launch, or by
     *     {@link #awaitAotCache})
     * @throws IOException if the home cannot be created
     */
    public static Runners bubblewrap(Path homeDir, Path runnerLib, List<String> jvmFlags, boolean aot)
            throws IOException {
        return bubblewrap(homeDir, runnerLib, jvmFlags, aot, Limits.DEFAULTS);
    }

    /**
     * As {@link #bubblewrap(Path, Path, List, boolean)}, with {@code limits} instead of the
     * daemon's default limits ({@link Limits#DEFAULTS}, what an agent without a policy gets).
     */
    public static Runners bubblewrap(Path homeDir, Path runnerLib, List<String> jvmFlags, boolean aot, Limits limits)
            throws IOException {
        return on(Sandboxes.bubblewrap(), homeDir, runnerLib, jvmFlags, aot, limits);
    }

    /** As {@link #bubblewrap(Path, Path, List, boolean, Limits)}, in sandboxes of {@code backend}. */
    public static Runners on(
            SandboxBackend backend, Path homeDir, Path runnerLib, List<String> jvmFlags, boolean aot, Limits limits)
            throws IOException {
        Home home = new Home(homeDir);
        home.create();
        Files.createDirectories(home.workspace(AGENT));
        Agent agent = new Agent(new AgentId(1), AGENT, Instant.now());
        boolean root = Bubblewrap.isRoot();
        // As the daemon does with its default sandbox.uid_base: root hands the sandbox its own uid.
        int uid = root ? 200_000 + 1 : Bubblewrap.effectiveUid();
        SandboxedRunners.Identity identity = new SandboxedRunners.Identity() {
            @Override
            public int uid(Agent a) {
                return uid;
            }

            @Override
            public boolean chown() {
                return root;
            }

            @Override
            public Limits limits(Agent a) {
                return limits;
            }
        };
        SandboxedRunners launcher = new SandboxedRunners(
                home, backend, runnerLib, Path.of(System.getProperty("java.home")), identity, jvmFlags, aot);
        return new Runners(launcher, agent, uid);
    }

    /**
     * Makes sure the AOT cache for this configuration exists, training it now if needed. Blocks
     * up to {@code timeout}.
     *
     * @return whether a cache is installed
     */
    public boolean awaitAotCache(Duration timeout) throws InterruptedException {
        try {
            return launcher.aotCache(uid).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    /**
     * Starts a runner in a new sandbox and returns once it said Ready. Blocks.
     *
     * @throws dev.cordon.core.sandbox.SandboxException if it did not start
     */
    public Runner launch() {
        Session session = new Session(new SessionId(1), agent.id(), new ChatId(1), "bench", Instant.now());
        return new Runner(launcher.launch(agent, session));
    }

    /** A runner that said Ready. Closing it stops its sandbox. */
    public static final class Runner implements AutoCloseable {
        private final RunnerLink link;

        private Runner(RunnerLink link) {
            this.link = link;
        }

        /** Memory charged to the runner's sandbox now (its cgroup), or -1 where the backend cannot tell. */
        public long memoryBytes() {
            return link.usage().map(ResourceUsage::memoryBytes).orElse(-1L);
        }

        /** Asks the runner to shut down and stops its sandbox. Idempotent. */
        @Override
        public void close() {
            link.close();
        }
    }
}
