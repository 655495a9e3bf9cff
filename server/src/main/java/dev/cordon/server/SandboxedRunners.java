package dev.cordon.server;

import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Session;
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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Starts each session's runner in a fresh sandbox and hands back its channel.
 *
 * <p>The channel (invariant 2) is a Unix socket in a directory made for this one sandbox and
 * bind-mounted at {@code /run/cordon}. The host accepts exactly one connection on it and then
 * closes the listener, so nothing else — not a second process in the sandbox, not another
 * sandbox — can speak for this session. Inside, the runner sees: read-only {@code /usr}, the
 * runner's jars and the JDK (read-only), a generated {@code /etc} (read-only, no host accounts), its
 * agent's workspace (read-write) and nothing else of the host: not the Cordon home, not other
 * agents' workspaces.
 */
final class SandboxedRunners implements RunnerLauncher {
    static final String SOCKET_DIR = "/run/cordon";
    static final String RUNNER_LIB = "/opt/cordon/lib";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final Home home;
    private final SandboxBackend backend;
    private final Path runnerLib;
    private final Path javaHome;
    private final Identity identity;
    private final int heapMb;
    private final AtomicLong counter = new AtomicLong();

    SandboxedRunners(Home home, SandboxBackend backend, Path runnerLib, Path javaHome, Identity identity, int heapMb) {
        this.home = home;
        this.backend = backend;
        this.runnerLib = runnerLib;
        this.javaHome = javaHome;
        this.identity = identity;
        this.heapMb = heapMb;
    }

    /** Which host uid/gid an agent's sandbox runs as. */
    interface Identity {
        int uid(Agent agent);

        /** Whether the daemon must hand files to {@link #uid} (it runs as root). */
        boolean chown();
    }

    @Override
    public RunnerLink launch(Agent agent, Session session) {
        String id = agent.name() + "-s" + session.id().value() + "-"
                + ProcessHandle.current().pid() + "-" + counter.incrementAndGet();
        int uid = identity.uid(agent);
        Path runDir = home.sandboxRunDir(id);
        Path socket = runDir.resolve("host.sock");
        Path workspace = home.workspace(agent.name());
        ServerSocketChannel listener = null;
        Sandbox sandbox = null;
        try {
            Files.createDirectories(runDir);
            Path etc = writeEtc(runDir.resolve("etc"), uid);
            listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            listener.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            if (identity.chown()) {
                Owners.chown(socket, uid);
                Owners.chownTree(workspace, uid);
            }
            List<Mount> mounts = new ArrayList<>();
            mounts.add(new Mount(etc, "/etc", Mode.READ_ONLY));
            if (!javaHome.startsWith("/usr")) {
                mounts.add(new Mount(javaHome, javaHome.toString(), Mode.READ_ONLY));
            }
            mounts.add(new Mount(runnerLib, RUNNER_LIB, Mode.READ_ONLY));
            mounts.add(new Mount(runDir, SOCKET_DIR, Mode.READ_ONLY));
            mounts.add(new Mount(workspace, "/workspace", Mode.READ_WRITE));
            List<String> command = List.of(
                    javaHome.resolve("bin/java").toString(),
                    "-XX:+UseSerialGC",
                    "-Xmx" + heapMb + "m",
                    "-XX:TieredStopAtLevel=1",
                    "-Xshare:auto",
                    "-cp",
                    RUNNER_LIB + "/*",
                    "dev.cordon.runner.Main");
            Map<String, String> env = Map.of(
                    "HOME", "/workspace",
                    "USER", "agent",
                    "PATH", "/usr/local/bin:/usr/bin:/bin",
                    "LANG", "C.UTF-8",
                    "TMPDIR", "/tmp",
                    "CORDON_SOCKET", SOCKET_DIR + "/host.sock",
                    "CORDON_WORKSPACE", "/workspace");
            sandbox = backend.start(
                    new SandboxSpec(id, mounts, command, env, uid, uid, "cordon", "/workspace", home.sandboxLog(id)));
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
            return new Link(id, sandbox, channel, runDir);
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
            paths.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort: a leftover run directory holds nothing secret and is replaced next time
        }
    }

    private static final class Link implements RunnerLink {
        private final String id;
        private final Sandbox sandbox;
        private final FrameChannel<RunnerMessage, HostMessage> channel;
        private final Path runDir;
        private volatile String closedBecause;

        Link(String id, Sandbox sandbox, FrameChannel<RunnerMessage, HostMessage> channel, Path runDir) {
            this.id = id;
            this.sandbox = sandbox;
            this.channel = channel;
            this.runDir = runDir;
        }

        @Override
        public void send(HostMessage message) throws IOException {
            channel.send(message);
        }

        @Override
        public RunnerMessage receive() throws IOException {
            return channel.receive();
        }

        @Override
        public String describeExit() {
            if (closedBecause != null) {
                return closedBecause;
            }
            try {
                Integer status = sandbox.exit().get(2, TimeUnit.SECONDS);
                return "sandbox " + id + " exited with status " + status
                        + (status == 137 ? " (killed, e.g. out of memory)" : "");
            } catch (TimeoutException | ExecutionException e) {
                return "sandbox " + id + " stopped answering";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        }

        @Override
        public void close() {
            if (closedBecause == null) {
                closedBecause = "sandbox " + id + " was stopped by the host";
            }
            try {
                channel.send(new HostMessage.Shutdown("host closed the session"));
            } catch (IOException | RuntimeException e) {
                // already gone
            }
            closeQuietly(channel);
            sandbox.close();
            deleteQuietly(runDir);
        }
    }
}
