package dev.cordon.bench;

import dev.cordon.server.Daemon;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

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
            Daemon daemon = Daemon.start(home, BenchHomes.env(model), runnerLib);
            try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                client.attach(AGENT);
                // The first turn starts the sandbox (and the AOT training); wait for both to settle.
                measure(client, model, "hello", null, null, null, null, null);
                BenchHomes.awaitCache(home);
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
                BenchHomes.copyCache(home, coldHome);
                Daemon coldDaemon = Daemon.start(coldHome, BenchHomes.env(model), runnerLib);
                try (ControlClient client = new ControlClient(coldDaemon.controlSocket())) {
                    client.attach(AGENT);
                    for (int i = -1; i < coldRuns; i++) {
                        client.awaitLive(0, Duration.ofSeconds(30));
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
            BenchHomes.cleanUp(root, options);
        }
        System.out.printf("load at end %s; failed turns (not measured, redone): %d%n%n", Stats.load(), failures);
        System.out.println(Stats.header("interval (ms)"));
        for (Stats s : List.of(say, early, late, accepted, afterAck, turn, cold, coldTurn)) {
            if (s.count() > 0) {
                System.out.println(s.row());
            }
        }
    }

    /**
     * One message: Say, wait for the reply, record the intervals (null: do not record).
     *
     * @return false if the turn failed (nothing recorded)
     */
    private static boolean measure(
            ControlClient client,
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
        ControlClient.Exchange x = client.exchange(AGENT, text);
        if (x.reply().failed()) {
            System.out.println("turn failed: " + x.reply().text());
            return false;
        }
        long arrived = BenchHomes.modelRequestArrival(model, before);
        long sent = x.sent();
        long acceptedAt = x.accepted();
        long repliedAt = x.replied();
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
}
