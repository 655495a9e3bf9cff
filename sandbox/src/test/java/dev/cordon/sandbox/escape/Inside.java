package dev.cordon.sandbox.escape;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.core.sandbox.SandboxSpec.Mount;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * One agent's sandbox as the daemon would give it: a workspace of its own at {@code /workspace}
 * (a fresh host directory owned by the spec's uid), the spec's uid, the environment {@link #ENV},
 * and whatever else a scenario mounts. {@link #run} starts a sandbox of the backend under test with
 * a bash script and returns what it printed; every run is a new sandbox over the same workspace.
 *
 * <p>Not thread-safe: configure it on one thread. Handles from {@link #start} may run concurrently.
 */
final class Inside {
    /** The probe's command line inside a sandbox set up {@link #withProbe()}. */
    static final String PROBE = "/opt/jdk/bin/java --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC"
            + " -XX:TieredStopAtLevel=1 -Xshare:auto -cp /opt/probe dev.cordon.sandbox.seccomp.SyscallProbe";

    /** The whole environment every sandbox gets. */
    static final Map<String, String> ENV = Map.of("PATH", "/usr/bin:/bin", "HOME", "/workspace", "LANG", "C.UTF-8");

    /** How long a scenario's sandbox may run before the test fails; each is meant to take seconds. */
    static final Duration PATIENCE = Duration.ofSeconds(60);

    private static final String PROBE_CLASS = "dev/cordon/sandbox/seccomp/SyscallProbe.class";
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private final SandboxBackend backend;
    private final Path root;
    private final Path workspace;
    private final int uid;
    private final List<Mount> mounts = new ArrayList<>();
    private Limits limits;
    private String earlierLog = "";

    /**
     * @param hostDir a directory of the test; this sandbox's workspace and logs go in a new directory
     *     below it
     */
    Inside(SandboxBackend backend, Path hostDir, int uid, Limits limits) {
        this.backend = backend;
        this.uid = uid;
        this.limits = limits;
        try {
            this.root = Files.createTempDirectory(hostDir, "sandbox-");
            this.workspace = Files.createDirectory(root.resolve("workspace"));
            giveToSandboxUser(workspace);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        mounts.add(new Mount(workspace, "/workspace", Mode.READ_WRITE));
    }

    /** Whether the test JVM runs as root (and can therefore hand files to other uids). */
    static boolean hostIsRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The host directory mounted at {@code /workspace}. */
    Path workspace() {
        return workspace;
    }

    /** Chowns {@code path} to this sandbox's uid where the host can (as root), as the daemon does with a workspace. */
    Path giveToSandboxUser(Path path) throws IOException {
        if (hostIsRoot()) {
            Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(path, "unix:gid", uid, LinkOption.NOFOLLOW_LINKS);
        }
        return path;
    }

    Inside mount(Path source, String target, Mode mode) {
        mounts.add(new Mount(source, target, mode));
        return this;
    }

    Inside limits(Limits newLimits) {
        this.limits = newLimits;
        return this;
    }

    /**
     * Makes the next sandboxes' log files start with {@code content}, as a log the daemon appends to
     * holds what earlier sandboxes of the same id printed.
     */
    Inside earlierLog(String content) {
        this.earlierLog = content;
        return this;
    }

    /**
     * Mounts this JVM's JDK at {@code /opt/jdk} and {@code SyscallProbe}'s class files at {@code
     * /opt/probe}, both read-only, so a script can run {@link #PROBE}. Skips the test on an
     * architecture without syscall numbers in {@link Syscall}.
     */
    Inside withProbe() {
        assumeTrue(Syscall.knownArchitecture(), "raw syscall numbers are listed for x86_64 and aarch64 only");
        mount(Path.of(System.getProperty("java.home")), "/opt/jdk", Mode.READ_ONLY);
        mount(probeClasses(), "/opt/probe", Mode.READ_ONLY);
        return this;
    }

    /** The probe's class files, copied world-readable (the test class path may not be readable by the sandbox uid). */
    private Path probeClasses() {
        try {
            URL url = Thread.currentThread().getContextClassLoader().getResource(PROBE_CLASS);
            if (url == null) {
                throw new IllegalStateException(PROBE_CLASS + " is not on the test class path");
            }
            Path compiled = Path.of(url.toURI()).getParent();
            Path classes = root.resolve("probe");
            Path pkg =
                    Files.createDirectories(classes.resolve(Path.of(PROBE_CLASS).getParent()));
            try (Stream<Path> files = Files.list(compiled)) {
                for (Path f : files.filter(f -> f.getFileName().toString().startsWith("SyscallProbe"))
                        .toList()) {
                    Files.copy(f, pkg.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            try (Stream<Path> all = Files.walk(classes)) {
                for (Path p : all.toList()) {
                    Files.setPosixFilePermissions(
                            p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
            return classes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code script} in a new sandbox and returns once it has exited and been closed. */
    Result run(String script) {
        try (Running running = start(script)) {
            return running.await();
        }
    }

    /** Starts {@code script} in a new sandbox; the caller closes the handle. */
    Running start(String script) {
        String id = "escape-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        Path log = root.resolve(id + ".log");
        if (!earlierLog.isEmpty()) {
            try {
                Files.writeString(log, earlierLog);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        SandboxSpec spec = new SandboxSpec(
                id, mounts, List.of("/usr/bin/bash", "-c", script), ENV, uid, uid, "cordon", "/workspace", log, limits);
        return new Running(backend.start(spec), log);
    }

    /** A sandbox that is running a script. */
    static final class Running implements AutoCloseable {
        private final Sandbox sandbox;
        private final Path log;

        Running(Sandbox sandbox, Path log) {
            this.sandbox = sandbox;
            this.log = log;
        }

        /** What the script has printed so far. */
        String output() {
            try {
                return Files.exists(log) ? Files.readString(log) : "";
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The CPU time the sandbox's cgroup has used, as the host sees it; fails if the backend cannot tell. */
        long cpuNanos() {
            return usage().cpuNanos();
        }

        /** Waits until the script has printed {@code marker}; fails the test if it never does. */
        void awaitOutput(String marker) throws InterruptedException {
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (!output().contains(marker)) {
                if (System.nanoTime() > deadline || !sandbox.isAlive()) {
                    throw new AssertionError("the sandbox never printed '" + marker + "'; it printed:\n" + output());
                }
                Thread.sleep(20);
            }
        }

        /** What the sandbox's cgroup holds now, as the host sees it; fails if the backend cannot tell. */
        ResourceUsage usage() {
            return sandbox.usage().orElseThrow(() -> new AssertionError("the backend reports no resource usage"));
        }

        /**
         * Waits until the host sees {@code condition} in the sandbox's usage or the sandbox has
         * exited; fails the test if neither happens within {@link #PATIENCE}.
         */
        void awaitUsageOrExit(Predicate<ResourceUsage> condition, String what) throws InterruptedException {
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (sandbox.isAlive() && !condition.test(usage())) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(
                            "the sandbox never showed " + what + " (" + usage() + "); it printed:\n" + output());
                }
                Thread.sleep(50);
            }
        }

        /** Waits for the script to exit; fails the test if it runs longer than {@link #PATIENCE}. */
        Result await() {
            try {
                int exit = sandbox.exit().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
                Result result = new Result(output(), exit, sandbox.oomKilled(), log);
                // The evidence of every scenario, in the test's output file of the surefire report.
                System.out.printf(
                        "--- sandbox %s exited %d%s ---%n%s%n",
                        sandbox.id(), exit, result.oomKilled() ? " (OOM-killed)" : "", result.output());
                return result;
            } catch (TimeoutException e) {
                throw new AssertionError("the sandbox still ran after " + PATIENCE + "; it printed:\n" + output(), e);
            } catch (ExecutionException e) {
                throw new AssertionError("the sandbox failed: " + e.getCause(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }

        /** Whether the sandboxed command has exited. */
        boolean exited() {
            return !sandbox.isAlive();
        }

        @Override
        public void close() {
            sandbox.close();
        }
    }

    /**
     * What a script printed (stdout and stderr), its exit status, whether the kernel OOM-killed
     * anything in it, and the host file its output went to.
     */
    record Result(String output, int exit, boolean oomKilled, Path log) {
        /** The lines the script printed, without the carriage returns a pseudo-terminal adds. */
        List<String> lines() {
            return output.lines().map(l -> l.replace("\r", "")).toList();
        }

        /** The value of the first {@code key=value} line, or fails the test. */
        String value(String key) {
            return lines().stream()
                    .filter(l -> l.startsWith(key + "="))
                    .map(l -> l.substring(key.length() + 1))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no line '" + key + "=…' in:\n" + output));
        }

        /** Probe lines, {@code label result errno}, by label. */
        Map<String, Call> calls() {
            Map<String, Call> calls = new LinkedHashMap<>();
            for (String line : lines()) {
                String[] f = line.split(" ", -1);
                if (f.length == 3 && f[1].matches("-?\\d+") && f[2].matches("\\d+")) {
                    calls.put(f[0], new Call(Long.parseLong(f[1]), Long.parseLong(f[2])));
                }
            }
            return calls;
        }

        /** The probe's report of one call, or fails the test (the probe died before it, or never ran). */
        Call call(String label) {
            Call call = calls().get(label);
            if (call == null) {
                throw new AssertionError("the probe did not report '" + label + "'; the sandbox printed:\n" + output);
            }
            return call;
        }
    }

    /** One raw syscall made inside: its return value and errno (0 when it succeeded). */
    record Call(long result, long errno) {
        boolean succeeded() {
            return result != -1;
        }
    }
}
