package dev.cordon.server;

import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.core.sandbox.SandboxSpec.Mount;
import dev.cordon.core.session.RunnerLauncher;
import dev.cordon.core.session.RunnerLink;
import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.ProtocolException;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.sandbox.k8s.PodBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts each session's runner in a fresh sandbox and hands back its channel.
 *
 * <p>The channel (invariant 2) is a Unix socket in a directory made for this one sandbox and
 * bind-mounted at {@code /run/cordon}. The host accepts exactly one connection on it and then
 * closes the listener, so nothing else — not a second process in the sandbox, not another
 * sandbox — can speak for this session. Inside, the runner sees: read-only {@code /usr}, the
 * runner's jars and the JDK (read-only), a generated {@code /etc} (read-only, no host accounts), its
 * agent's workspace (read-write), the runner's AOT cache (read-only, once trained) and nothing else
 * of the host: not the Cordon home, not other agents' workspaces.
 *
 * <p><b>AOT cache.</b> The runner reaches Ready about twice as fast, on less than half the CPU,
 * from a JDK AOT cache ({@code -XX:AOTCache}) holding its classes already loaded and linked
 * (docs/benchmarks.md). The cache is only valid for the exact class path (same jars, same order,
 * same path inside the sandbox), the same JDK and the same JVM flags it was trained with, so it
 * lives at {@code <home>/cache/aot/<key>.aot} where the key hashes all of these. A launch that
 * finds no cache for its key starts without one and, once its runner is up, has one trained in
 * the background (once per daemon, as that agent's uid); the next launches use it. Training never
 * blocks or fails a launch: a training that fails is logged, and that key is not retried until the
 * daemon restarts. The JVM is only given a cache that this class installed whole (written to the
 * side, renamed into place), because a cache the JVM rejects costs more than none: it then drops
 * the JDK's own CDS archive too (measured: 2.2 s instead of 1.3 s for the training workload).
 */
final class SandboxedRunners implements RunnerLauncher {
    private static final Logger LOG = LoggerFactory.getLogger(SandboxedRunners.class);
    static final String SOCKET_DIR = "/run/cordon";

    /** The runner's egress relay inside the sandbox, on the sandbox's own loopback (docs/egress.md). */
    static final int PROXY_PORT = 3128;

    static final String RUNNER_LIB = "/opt/cordon/lib";
    /** Where the cache is mounted (read-only) inside a runner's sandbox. */
    static final String AOT_CACHE = "/opt/cordon/aot/runner.aot";
    /** Where the training sandbox writes its cache (its only writable mount besides a scratch workspace). */
    static final String AOT_TRAIN_DIR = "/opt/cordon/aot-train";
    /** Bump when the training workload or the key recipe changes, so old caches are not reused. */
    private static final String AOT_RECIPE = "cordon-runner-aot-1";

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration TRAIN_TIMEOUT = Duration.ofMinutes(3);
    private static final AtomicLong SANDBOX_IDS = new AtomicLong();

    private final Home home;
    private final SandboxBackend backend;
    private final Path runnerLib;
    private final Path javaHome;
    private final Identity identity;
    private final List<String> jvmFlags;
    private final boolean aot;
    /** Where a session goes when its backend is a pod (docs/deploy-kubernetes.md). */
    private final PodRunners pods;

    /** Cache keys trained (or being trained, or failed) by this instance: each is tried once. */
    private final Map<String, CompletableFuture<Boolean>> trainings = new ConcurrentHashMap<>();
    /** Held while a cache is installed into the home; {@link #close} takes it to stop that for good. */
    private final Object installing = new Object();
    /** Set under {@link #installing}; a training that sees it stops. */
    private volatile boolean closed;

    SandboxedRunners(Home home, SandboxBackend backend, Path runnerLib, Path javaHome, Identity identity, int heapMb) {
        this(home, backend, runnerLib, javaHome, identity, defaultJvmFlags(heapMb), true);
    }

    /**
     * @param jvmFlags the runner JVM's flags, before the class path; they are part of the cache key
     * @param aot whether to use (and train) the AOT cache
     */
    SandboxedRunners(
            Home home,
            SandboxBackend backend,
            Path runnerLib,
            Path javaHome,
            Identity identity,
            List<String> jvmFlags,
            boolean aot) {
        this.home = home;
        this.backend = backend;
        this.runnerLib = runnerLib;
        this.javaHome = javaHome;
        this.identity = identity;
        this.jvmFlags = List.copyOf(jvmFlags);
        this.aot = aot;
        this.pods = new PodRunners(this.jvmFlags);
    }

    /**
     * The runner's JVM flags. Serial GC and a capped heap keep an idle runner near 40 MB; C1 only
     * ({@code TieredStopAtLevel=1}) because a turn is short and I/O bound; no {@code -Xshare}
     * option, because any {@code -Xshare} together with {@code -XX:AOTCache} stops the JVM at start.
     * {@code -XX:-UsePerfData} skips the hsperfdata file nobody can read in a sandbox (no measurable
     * effect on start). {@code ArchiveRelocationMode=0} maps the AOT cache at its own address instead
     * of relocating it to a random one: relocating rewrites its pointers and so turns most of its
     * pages into private copies, about 20 MB per runner; unrelocated, about half stays clean and is
     * shared by every runner (docs/benchmarks.md §7.3). The randomization it gives up would only
     * guard the runner's JVM against code that already runs in the same sandbox. docs/benchmarks.md
     * compares the alternatives.
     */
    static List<String> defaultJvmFlags(int heapMb) {
        return List.of(
                "-XX:+UseSerialGC",
                "-Xmx" + heapMb + "m",
                "-XX:TieredStopAtLevel=1",
                "-XX:-UsePerfData",
                "-XX:+UnlockDiagnosticVMOptions",
                "-XX:ArchiveRelocationMode=0");
    }

    /** Who an agent's sandbox runs as, and under which limits. */
    interface Identity {
        int uid(Agent agent);

        /** Whether the daemon must hand files to {@link #uid} (it runs as root). */
        boolean chown();

        /**
         * The agent's resource limits, with any the operator opted out of and this host cannot
         * enforce already dropped. Read at every sandbox start, so a policy edit applies to the next one.
         *
         * @throws SandboxException if the agent's policy file is invalid (fail closed)
         */
        default Limits limits(Agent agent) {
            return Limits.DEFAULTS;
        }

        /**
         * Extra host folders the agent's policy asks for, checked against the operator's allowlist
         * right before the start (a symlink may have changed since the policy was written).
         *
         * @throws SandboxException naming the path and the rule when a request is refused
         */
        default List<Mount> extraMounts(Agent agent, List<Mount> systemMounts) {
            return List.of();
        }

        /**
         * Readies the agent's workspace before anything is written to it or the sandbox starts
         * (mounts its disk quota).
         *
         * @throws SandboxException if the workspace cannot be bounded as the policy asks
         */
        default void prepareWorkspace(Agent agent, Path workspace) {}

        /**
         * Environment variables for the agent's sandbox beyond the fixed ones: for each vault secret
         * its policy lists, {@code NAME=cordon-secret-NAME}, so tools reading {@code $GITHUB_TOKEN}
         * send the placeholder the egress proxy swaps (never the value: invariant 4).
         */
        default Map<String, String> environment(Agent agent) {
            return Map.of();
        }

        /**
         * The backend the agent's sandbox runs in; {@code fallback} (the launcher's own) unless its
         * policy asks for another.
         *
         * @throws SandboxException if the policy requires a backend or wall this host lacks
         */
        default SandboxBackend backend(Agent agent, SandboxBackend fallback) {
            return fallback;
        }
    }

    @Override
    public RunnerLink launch(Agent agent, Session session) {
        String id = agent.name() + "-s" + session.id().value() + "-" + sandboxIdSuffix();
        int uid = identity.uid(agent);
        Path runDir = home.sandboxRunDir(id);
        Path socket = runDir.resolve("host.sock");
        Path workspace = home.workspace(agent.name());
        SandboxBackend chosen = identity.backend(agent, backend);
        if (chosen instanceof PodBackend pod) {
            return pods.launch(
                    pod,
                    id,
                    uid,
                    environment(identity.environment(agent)),
                    identity.extraMounts(agent, List.of()),
                    identity.limits(agent),
                    home.sandboxLog(id));
        }
        ServerSocketChannel listener = null;
        Sandbox sandbox = null;
        try {
            ClassPath classPath = classPath();
            Path cache = aot ? installedCache(classPath) : null;
            identity.prepareWorkspace(agent, workspace);
            Files.createDirectories(runDir);
            Path etc = writeEtc(runDir.resolve("etc"), uid);
            listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            listener.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            if (identity.chown()) {
                Owners.chown(socket, uid);
                Owners.chownTree(workspace, uid);
            }
            List<Mount> mounts = mounts(etc, runDir, workspace);
            mounts.addAll(identity.extraMounts(agent, List.copyOf(mounts)));
            List<String> extraFlags = List.of();
            if (cache != null) {
                mounts.add(new Mount(cache, AOT_CACHE, Mode.READ_ONLY));
                extraFlags = List.of("-XX:AOTCache=" + AOT_CACHE);
            }
            sandbox = chosen.start(new SandboxSpec(
                    id,
                    mounts,
                    command(classPath, extraFlags),
                    environment(identity.environment(agent)),
                    uid,
                    uid,
                    "cordon",
                    "/workspace",
                    home.sandboxLog(id),
                    identity.limits(agent)));
            SocketChannel connection = accept(listener, sandbox, id);
            // One connection per sandbox: nobody else gets to connect.
            listener.close();
            Files.deleteIfExists(socket);
            FrameChannel<RunnerMessage, HostMessage> channel = new FrameChannel<>(
                    Channels.newInputStream(connection),
                    Channels.newOutputStream(connection),
                    RunnerMessage.class,
                    connection);
            RunnerMessage hello = channel.receive();
            if (!(hello instanceof RunnerMessage.Ready)) {
                throw new SandboxException("runner in " + id + " sent " + hello + " instead of Ready");
            }
            if (aot && cache == null) {
                // Only now: training competes for CPU, and a launch that fails should not start one.
                trainings.computeIfAbsent(classPath.key(), key -> train(classPath, uid));
            }
            return new SandboxLink(id, sandbox, channel, () -> deleteQuietly(runDir));
        } catch (IOException | ProtocolException | SandboxException e) {
            if (sandbox != null) {
                sandbox.close();
            }
            closeQuietly(listener);
            deleteQuietly(runDir);
            if (e instanceof SandboxException se) {
                throw se;
            }
            throw new SandboxException(
                    "runner for " + agent.name() + " did not start: " + e.getMessage() + tail(home.sandboxLog(id)), e);
        }
    }

    /**
     * Makes sure an AOT cache for the current jars, JDK and flags exists, training one now if
     * needed (at most once per key and instance). Never throws.
     *
     * @param uid the host uid the training sandbox runs as
     * @return completes with whether a cache is installed; never exceptionally
     */
    CompletableFuture<Boolean> aotCache(int uid) {
        try {
            ClassPath classPath = classPath();
            if (Files.isRegularFile(cacheFile(classPath.key()))) {
                return CompletableFuture.completedFuture(true);
            }
            return trainings.computeIfAbsent(classPath.key(), key -> train(classPath, uid));
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("cannot look for the runner's AOT cache: {}", e.toString());
            return CompletableFuture.completedFuture(false);
        }
    }

    /** The installed cache for {@code classPath}, or null. */
    private Path installedCache(ClassPath classPath) {
        Path cache = cacheFile(classPath.key());
        return Files.isRegularFile(cache) ? cache : null;
    }

    private Path cacheFile(String key) {
        return home.root().resolve("cache").resolve("aot").resolve(key + ".aot");
    }

    /**
     * Trains a cache in the background, in a sandbox made like a runner's (same mounts, JDK, class
     * path, flags, LANG) plus a writable directory for the cache. Scratch files, the training's log
     * included, live in the JVM's temp directory and the finished cache is renamed into the home in
     * one step: the home never holds half a cache, and a test's temporary home is not written to
     * while it is being deleted. A training whose home disappears, or whose daemon closes, is stopped.
     */
    private CompletableFuture<Boolean> train(ClassPath classPath, int uid) {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        Thread.ofVirtual().name("aot-train-" + classPath.key()).start(() -> {
            try {
                done.complete(trainNow(classPath, uid));
            } catch (IOException | RuntimeException e) {
                LOG.warn("training the runner's AOT cache failed; runners start without it: {}", e.toString());
                done.complete(false);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                done.complete(false);
            }
        });
        return done;
    }

    private boolean trainNow(ClassPath classPath, int uid) throws IOException, InterruptedException {
        long started = System.nanoTime();
        Path scratch = Files.createTempDirectory(
                "cordon-aot-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        // Unique on the host, not just in this daemon: the id names the sandbox's cgroups, and
        // several daemons (tests) in one JVM may train the same key at once. It ends in this JVM's
        // pid, so that a later daemon removes the groups if this one is killed
        // (CgroupHost#reclaimInBackground).
        String id = "aot-train-" + classPath.key().substring(0, 8) + "-" + sandboxIdSuffix();
        sweepAbandonedScratch(scratch);
        Sandbox sandbox = null;
        try {
            Path runDir = Files.createDirectories(scratch.resolve("run"));
            Path workspace = Files.createDirectories(scratch.resolve("workspace"));
            Path out = Files.createDirectories(scratch.resolve("out"));
            Path log = scratch.resolve("training.log");
            Path etc = writeEtc(runDir.resolve("etc"), uid);
            if (identity.chown()) {
                Owners.chown(workspace, uid);
                Owners.chown(out, uid);
            }
            List<Mount> mounts = mounts(etc, runDir, workspace);
            mounts.add(new Mount(out, AOT_TRAIN_DIR, Mode.READ_WRITE));
            List<String> command = new ArrayList<>();
            // Training must never slow a live session down; niceness is not part of the cache.
            command.addAll(List.of("/usr/bin/nice", "-n", "19"));
            command.addAll(command(classPath, List.of("-XX:AOTCacheOutput=" + AOT_TRAIN_DIR + "/runner.aot")));
            sandbox = backend.start(new SandboxSpec(
                    id,
                    mounts,
                    command,
                    environment(Map.of("CORDON_AOT_TRAIN", "1")),
                    uid,
                    uid,
                    "cordon",
                    "/workspace",
                    log));
            Integer status = null;
            long deadline = System.nanoTime() + TRAIN_TIMEOUT.toNanos();
            while (status == null) {
                if (closed || !Files.isDirectory(home.root())) {
                    return false;
                }
                if (System.nanoTime() > deadline) {
                    throw new SandboxException(
                            "AOT training " + id + " took more than " + TRAIN_TIMEOUT.toSeconds() + " s" + tail(log));
                }
                try {
                    status = sandbox.exit().get(1, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    // check the home and the deadline again
                } catch (ExecutionException e) {
                    throw new SandboxException("AOT training " + id + " failed: " + e.getCause(), e.getCause());
                }
            }
            Path trained = out.resolve("runner.aot");
            if (status != 0 || !Files.isRegularFile(trained, LinkOption.NOFOLLOW_LINKS) || Files.size(trained) == 0) {
                throw new SandboxException(
                        "AOT training " + id + " exited with status " + status + " and no cache" + tail(log));
            }
            long megabytes = Files.size(trained) >> 20;
            if (!install(trained, scratch.resolve("install.aot"), classPath.key())) {
                return false;
            }
            LOG.info(
                    "trained the runner's AOT cache {} ({} MB) in {} ms",
                    classPath.key(),
                    megabytes,
                    (System.nanoTime() - started) / 1_000_000);
            return true;
        } finally {
            if (sandbox != null) {
                sandbox.close();
            }
            deleteQuietly(scratch);
        }
    }

    /**
     * {@code <pid>-<n>}, unique in this JVM (several daemons in one, as in tests, each number their
     * sandboxes from the same counter): the end of every sandbox id, which names its cgroups and so
     * their owner, for a later daemon to reclaim them if this one is killed
     * (CgroupHost#reclaimInBackground).
     */
    static String sandboxIdSuffix() {
        return ProcessHandle.current().pid() + "-" + SANDBOX_IDS.incrementAndGet();
    }

    /**
     * Deletes the scratch directories of trainings cut short because their JVM exited (a test run
     * that ended mid-training): those older than twice the training timeout, owned by this user.
     */
    private static void sweepAbandonedScratch(Path current) {
        long cutoff = System.currentTimeMillis() - 2 * TRAIN_TIMEOUT.toMillis();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(current.getParent(), "cordon-aot-*")) {
            Object me = Files.getAttribute(current, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            for (Path dir : dirs) {
                if (!dir.equals(current)
                        && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                        && me.equals(Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS))
                        && Files.getLastModifiedTime(dir, LinkOption.NOFOLLOW_LINKS)
                                        .toMillis()
                                < cutoff) {
                    deleteQuietly(dir);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            // best effort: what is left is only disk space in the temp directory
        }
    }

    /**
     * Puts a trained cache in place: read-only, owned by the daemon's user (the training sandbox
     * wrote it as an agent uid), renamed atomically; older caches of this home are removed (a
     * running sandbox keeps its bind-mounted copy).
     *
     * @param staging a free path next to {@code trained}, outside the home
     * @return false, having done nothing to the home, if the home has gone meanwhile
     */
    /**
     * The daemon is closing: from now on no cache is installed into the home. A training still
     * running finishes in its scratch directory and is dropped; one being installed now is waited
     * for, so nothing writes into the home after the daemon's close (a test deletes it then).
     */
    void close() {
        synchronized (installing) {
            closed = true;
        }
    }

    private boolean install(Path trained, Path staging, String key) throws IOException {
        // A copy, not a move: the copy belongs to the daemon's user, not to the uid that trained it.
        Files.copy(trained, staging, StandardCopyOption.REPLACE_EXISTING);
        // World-readable because each agent has its own uid; nothing in it is secret (JDK and runner classes).
        Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("r--r--r--"));
        synchronized (installing) {
            return !closed && Files.isDirectory(home.root()) && installNow(staging, key);
        }
    }

    private boolean installNow(Path staging, String key) throws IOException {
        Path target = cacheFile(key);
        Path dir = target.getParent();
        Files.createDirectories(dir);
        try {
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            // The temp directory is on another file system: copy next to the target, then rename.
            Path partial = dir.resolve("." + key + ".partial");
            Files.copy(staging, partial, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        try (DirectoryStream<Path> old = Files.newDirectoryStream(dir, "*.aot")) {
            for (Path p : old) {
                if (!p.equals(target)) {
                    Files.deleteIfExists(p);
                }
            }
        }
        return true;
    }

    private List<Mount> mounts(Path etc, Path runDir, Path workspace) {
        List<Mount> mounts = new ArrayList<>();
        mounts.add(new Mount(etc, "/etc", Mode.READ_ONLY));
        // Debian's alternatives (/usr/bin/awk -> /etc/alternatives/awk -> /usr/bin/mawk): only
        // symlinks into /usr, but without them common tools are missing inside.
        Path alternatives = Path.of("/etc/alternatives");
        if (Files.isDirectory(alternatives)) {
            mounts.add(new Mount(alternatives, "/etc/alternatives", Mode.READ_ONLY));
        }
        if (!javaHome.startsWith("/usr")) {
            mounts.add(new Mount(javaHome, javaHome.toString(), Mode.READ_ONLY));
        }
        mounts.add(new Mount(runnerLib, RUNNER_LIB, Mode.READ_ONLY));
        mounts.add(new Mount(runDir, SOCKET_DIR, Mode.READ_ONLY));
        mounts.add(new Mount(workspace, "/workspace", Mode.READ_WRITE));
        return mounts;
    }

    private List<String> command(ClassPath classPath, List<String> extraFlags) {
        List<String> command = new ArrayList<>();
        command.add(javaHome.resolve("bin/java").toString());
        command.addAll(jvmFlags);
        command.addAll(extraFlags);
        command.addAll(List.of("-cp", classPath.value(), "dev.cordon.runner.Main"));
        return command;
    }

    /**
     * The sandbox's environment. LANG must be the same when training and using a cache. The proxy
     * variables point every tool that honours them (curl, git, pip, npm, the JDK's HttpClient with
     * -Djava.net.useSystemProxies) at the runner's relay on the sandbox's own loopback, the only
     * way out; a tool that ignores them has no route at all.
     */
    private static Map<String, String> environment(Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(Map.of(
                "HOME", "/workspace",
                "USER", "agent",
                "PATH", "/usr/local/bin:/usr/bin:/bin",
                "LANG", "C.UTF-8",
                "TMPDIR", "/tmp",
                "CORDON_SOCKET", SOCKET_DIR + "/host.sock",
                "CORDON_WORKSPACE", "/workspace",
                "CORDON_PROXY_PORT", String.valueOf(PROXY_PORT)));
        String proxy = "http://127.0.0.1:" + PROXY_PORT;
        for (String name : List.of("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")) {
            env.put(name, proxy);
        }
        env.put("NO_PROXY", "localhost,127.0.0.1,::1");
        env.put("no_proxy", "localhost,127.0.0.1,::1");
        extra.forEach(env::putIfAbsent);
        return env;
    }

    /**
     * The runner's class path as seen inside the sandbox, and the AOT cache key that goes with it.
     * The list is explicit and sorted: a {@code lib/*} wildcard expands in an unspecified order, and
     * an AOT cache needs the same jars in the same order.
     */
    private record ClassPath(String value, String key) {}

    private ClassPath classPath() throws IOException {
        List<Path> jars;
        try (Stream<Path> files = Files.list(runnerLib)) {
            jars = files.filter(p -> p.getFileName().toString().endsWith(".jar"))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .toList();
        }
        if (jars.isEmpty()) {
            throw new IOException("no runner jars in " + runnerLib + " (build with ./mvnw package)");
        }
        StringBuilder value = new StringBuilder();
        StringBuilder recipe = new StringBuilder(AOT_RECIPE).append('\n');
        for (Path jar : jars) {
            value.append(value.isEmpty() ? "" : ":")
                    .append(RUNNER_LIB)
                    .append('/')
                    .append(jar.getFileName());
            recipe.append(describe(jar));
        }
        recipe.append(value).append('\n');
        // The JDK: its path, its release file (version, vendor) and its class library.
        recipe.append(javaHome).append('\n');
        Path release = javaHome.resolve("release");
        if (Files.isRegularFile(release)) {
            recipe.append(Files.readString(release));
        }
        recipe.append(describe(javaHome.resolve("lib/modules")));
        // Logging flags do not change what a cache holds; leaving them out lets -Xlog check a cache.
        recipe.append(String.join(
                        " ",
                        jvmFlags.stream().filter(f -> !f.startsWith("-Xlog")).toList()))
                .append('\n');
        recipe.append(environment(Map.of()).get("LANG")).append('\n');
        return new ClassPath(value.toString(), HexFormat.of().formatHex(sha256(recipe.toString()), 0, 12));
    }

    private static String describe(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        return file.getFileName() + " " + a.size() + " " + a.lastModifiedTime().toMillis() + "\n";
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private SocketChannel accept(ServerSocketChannel listener, Sandbox sandbox, String id) throws IOException {
        CompletableFuture<SocketChannel> accepted = new CompletableFuture<>();
        Thread.ofVirtual().name("accept-" + id).start(() -> {
            try {
                accepted.complete(listener.accept());
            } catch (IOException e) {
                accepted.completeExceptionally(e);
            }
        });
        CompletableFuture<Object> first = CompletableFuture.anyOf(accepted, sandbox.exit());
        try {
            Object result = first.get(READY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (result instanceof SocketChannel sc) {
                return sc;
            }
            throw new SandboxException("sandbox " + id + " exited with status " + result
                    + " before its runner connected" + tail(home.sandboxLog(id)));
        } catch (TimeoutException e) {
            throw new SandboxException("runner in " + id + " did not connect within " + READY_TIMEOUT.toSeconds() + " s"
                    + tail(home.sandboxLog(id)));
        } catch (ExecutionException e) {
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SandboxException("interrupted while starting " + id);
        }
    }

    private static Path writeEtc(Path etc, int uid) throws IOException {
        Files.createDirectories(etc);
        Files.writeString(
                etc.resolve("passwd"),
                "root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n" + "agent:x:" + uid + ":" + uid
                        + ":agent:/workspace:/bin/bash\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\nagent:x:" + uid + ":\n");
        Files.writeString(etc.resolve("hostname"), "cordon\n");
        Files.writeString(etc.resolve("hosts"), "127.0.0.1 localhost cordon\n::1 localhost\n");
        Files.writeString(etc.resolve("nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files\n");
        // Mount point for the host's /etc/alternatives (mounts() binds it read-only over this).
        Files.createDirectories(etc.resolve("alternatives"));
        return etc;
    }

    private static String tail(Path log) {
        try {
            if (!Files.exists(log)) {
                return "";
            }
            List<String> lines = Files.readAllLines(log);
            return "\n--- last lines of " + log + " ---\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "";
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                // best effort on an error path
            }
        }
    }

    static void deleteQuietly(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort: a leftover run directory holds nothing secret and is replaced next time
        }
    }
}
