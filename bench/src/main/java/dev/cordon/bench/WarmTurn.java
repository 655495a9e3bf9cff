package dev.cordon.bench;

import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.server.Daemon;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Turn overhead through a real daemon (real SQLite, real bubblewrap sandbox, real runner) with the
 * fake Anthropic server in this JVM, measured from the control client sending {@code Say} to the
 * model request's head arriving at the fake server ({@link RecordedRequest#receivedNanos}, same
 * clock).
 *
 * <pre>
 * java -cp 'bench/target/lib/*' dev.cordon.bench.WarmTurn [--runs 200] [--warmup 20] [--cold-runs 20]
 *      [--runner-lib DIR] [--keep]
 * </pre>
 *
 * Warm turns reuse one running sandbox. Cold turns ({@code --cold-runs}, 0 to skip) use a second
 * daemon whose sessions hibernate after 1 s idle, so each message starts a fresh sandbox: Say →
 * model request then covers store, launch, runner start (with the AOT cache, trained before the
 * first measured turn), Ready, StartTurn and the runner's first model call.
 */
public final class WarmTurn {
    private static final String AGENT = "main";

    private WarmTurn() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Options.parse(args, List.of("--keep"));
        int runs = Integer.parseInt(options.getOrDefault("--runs", "200"));
        int warmup = Integer.parseInt(options.getOrDefault("--warmup", "20"));
        int coldRuns = Integer.parseInt(options.getOrDefault("--cold-runs", "20"));
        Path runnerLib = Options.runnerLib(options);
        Path root = Files.createTempDirectory("cw");
        System.setProperty("cordon.logdir", root.resolve("logs").toString());
        System.out.printf(
                "WarmTurn: %d warm turns (+%d warm-up), %d cold turns; runner jars %s; %s, %d CPUs; load %s%n",
                runs,
                warmup,
                coldRuns,
                runnerLib,
                Runtime.version(),
                Runtime.getRuntime().availableProcessors(),
                Stats.load());
        Stats say = new Stats("warm: Say sent -> model request");
        Stats accepted = new Stats("warm: Say sent -> Accepted received");
        Stats afterAck = new Stats("warm: Accepted received -> model req");
        Stats early = new Stats("warm: Say -> model req, first 25%");
        Stats late = new Stats("warm: Say -> model req, last 25%");
        Stats turn = new Stats("warm: Say sent -> Reply received");
        Stats cold = new Stats("cold: Say sent -> model request");
        Stats coldTurn = new Stats("cold: Say sent -> Reply received");
        int failures = 0;
        try (FakeModelServer model = FakeModelServer.start()) {
            Path home = root.resolve("warm");
            Daemon daemon = Daemon.start(home, env(model), runnerLib);
            try (Client client = new Client(daemon.controlSocket())) {
                client.attach();
                // The first turn starts the sandbox (and the AOT training); wait for both to settle.
                measure(client, model, "hello", null, null, null, null, null);
                awaitCache(home);
                for (int i = 0; i < warmup; i++) {
                    measure(client, model, "warm-up " + i, null, null, null, null, null);
                }
                for (int i = 0; i < runs; i++) {
                    Stats part = i < runs / 4 ? early : i >= runs - runs / 4 ? late : null;
                    if (!measure(client, model, "message " + i, say, accepted, turn, afterAck, part)) {
                        // The sandbox died mid-turn (see docs/benchmarks.md); the next turn would be
                        // a cold one, so re-warm without measuring.
                        failures++;
                        measure(client, model, "re-warm " + i, null, null, null, null, null);
                        i--;
                    }
                }
            } finally {
                daemon.close();
            }
            if (coldRuns > 0) {
                Path coldHome = Files.createDirectories(root.resolve("cold"));
                Files.writeString(coldHome.resolve("cordon.yaml"), "sandbox:\n  idle_timeout_seconds: 1\n");
                // Reuse the trained cache: same jars, JDK and flags give the same key.
                copyCache(home, coldHome);
                Daemon coldDaemon = Daemon.start(coldHome, env(model), runnerLib);
                try (Client client = new Client(coldDaemon.controlSocket())) {
                    client.attach();
                    for (int i = -1; i < coldRuns; i++) {
                        client.awaitNoLiveSandbox();
                        if (!measure(
                                client,
                                model,
                                "cold " + i,
                                i < 0 ? null : cold,
                                null,
                                i < 0 ? null : coldTurn,
                                null,
                                null)) {
                            failures++;
                            i--;
                        }
                    }
                } finally {
                    coldDaemon.close();
                }
            }
        } finally {
            if (options.containsKey("--keep")) {
                System.out.println("kept " + root);
            } else {
                ColdStart.deleteTree(root);
            }
        }
        System.out.printf("load at end %s; failed turns (not measured, redone): %d%n%n", Stats.load(), failures);
        System.out.println(Stats.header("interval (ms)"));
        for (Stats s : List.of(say, early, late, accepted, afterAck, turn, cold, coldTurn)) {
            if (s.count() > 0) {
                System.out.println(s.row());
            }
        }
    }

    private static Map<String, String> env(FakeModelServer model) {
        return Map.of(
                "ANTHROPIC_API_KEY",
                "bench-key",
                "ANTHROPIC_BASE_URL",
                model.baseUrl().toString());
    }

    /**
     * One message: Say, wait for the reply, record the intervals (null: do not record).
     *
     * @return false if the turn failed (nothing recorded)
     */
    private static boolean measure(
            Client client,
            FakeModelServer model,
            String text,
            Stats toRequest,
            Stats toAccepted,
            Stats toReply,
            Stats acceptedToRequest,
            Stats toRequestAgain)
            throws IOException, InterruptedException {
        model.enqueue(Scripted.text("ok"));
        int before = model.requests().size();
        String id = "m-" + System.nanoTime();
        long sent = System.nanoTime();
        client.send(new ControlRequest.Say(AGENT, id, text));
        ControlEvent.Accepted ack = client.await(ControlEvent.Accepted.class);
        long acceptedAt = System.nanoTime();
        ControlEvent.Reply reply = client.await(ControlEvent.Reply.class);
        long repliedAt = System.nanoTime();
        client.send(new ControlRequest.ReplyAck(reply.outboundId()));
        if (reply.inReplyTo() != ack.inboundId()) {
            throw new IllegalStateException("reply to another message: " + reply);
        }
        if (reply.failed()) {
            System.out.println("turn failed: " + reply.text());
            return false;
        }
        List<RecordedRequest> requests = model.requests();
        if (requests.size() != before + 1) {
            throw new IllegalStateException("expected one model request, got " + (requests.size() - before));
        }
        long arrived = requests.getLast().receivedNanos();
        if (toRequest != null) {
            toRequest.add(arrived - sent);
        }
        if (toAccepted != null) {
            toAccepted.add(acceptedAt - sent);
        }
        if (toReply != null) {
            toReply.add(repliedAt - sent);
        }
        if (acceptedToRequest != null) {
            // Negative when the request reached the model before the client saw Accepted.
            acceptedToRequest.add(arrived - acceptedAt);
        }
        if (toRequestAgain != null) {
            toRequestAgain.add(arrived - sent);
        }
        return true;
    }

    private static void awaitCache(Path home) throws InterruptedException, IOException {
        Path dir = home.resolve("cache/aot");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (System.nanoTime() < deadline) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.list(dir)) {
                    if (files.anyMatch(p -> p.getFileName().toString().endsWith(".aot"))) {
                        return;
                    }
                }
            }
            Thread.sleep(200);
        }
        System.out.println("warning: the AOT cache was not trained within 4 minutes");
    }

    private static void copyCache(Path from, Path to) throws IOException {
        Path source = from.resolve("cache/aot");
        if (!Files.isDirectory(source)) {
            return;
        }
        Path target = Files.createDirectories(to.resolve("cache/aot"));
        try (Stream<Path> files = Files.list(source)) {
            for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".aot"))
                    .toList()) {
                Files.copy(p, target.resolve(p.getFileName()));
            }
        }
    }

    /** The bench's own control-socket client: the daemon's real frames. */
    static final class Client implements AutoCloseable {
        private final FrameChannel<ControlEvent, ControlRequest> channel;
        private final BlockingQueue<ControlEvent> events = new LinkedBlockingQueue<>();

        Client(Path socket) throws IOException {
            SocketChannel sc = SocketChannel.open(StandardProtocolFamily.UNIX);
            sc.connect(UnixDomainSocketAddress.of(socket));
            channel = new FrameChannel<>(
                    Channels.newInputStream(sc), Channels.newOutputStream(sc), ControlEvent.class, sc);
            Thread.ofVirtual().start(() -> {
                try {
                    ControlEvent e;
                    while ((e = channel.receive()) != null) {
                        events.add(e);
                    }
                } catch (IOException | RuntimeException e) {
                    // closed
                }
            });
        }

        void send(ControlRequest request) throws IOException {
            channel.send(request);
        }

        void attach() throws IOException, InterruptedException {
            send(new ControlRequest.Attach(AGENT, false));
            await(ControlEvent.Attached.class);
        }

        /** Waits for the next event of {@code type}, dropping others (deltas). */
        <T extends ControlEvent> T await(Class<T> type) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (true) {
                ControlEvent e = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (e == null) {
                    throw new IllegalStateException("no " + type.getSimpleName() + " within 120 s");
                }
                if (e instanceof ControlEvent.Failure f) {
                    throw new IllegalStateException("daemon said: " + f.message());
                }
                if (type.isInstance(e)) {
                    return type.cast(e);
                }
            }
        }

        void awaitNoLiveSandbox() throws IOException, InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                send(new ControlRequest.Status());
                if (await(ControlEvent.StatusReport.class).liveSandboxes() == 0) {
                    return;
                }
                Thread.sleep(100);
            }
            throw new IllegalStateException("the session did not hibernate within 30 s");
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
