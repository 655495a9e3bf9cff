package dev.cordon.bench;

import dev.cordon.server.Daemon;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.Scripted;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Warm message latency, inbound stored → the runner has it, through a real in-process daemon
 * (SQLite, bubblewrap, the runner with its AOT cache) on the fake model server with no think time.
 * {@link Probe} timestamps the way inside the daemon on the bench's clock; a Unix-socket round trip
 * between two processes ({@link PingPong}) and a synced 4 KiB append on the home's disk ({@link
 * DiskProbe}) are measured after every message as baselines.
 *
 * <pre>
 * java -cp 'bench/target/lib/*' dev.cordon.bench.SessionLatency [--runs 300] [--warmup 30]
 *      [--sessions 4] [--pings 10] [--runner-lib DIR] [--keep]
 * </pre>
 *
 * The runner's receipt itself is not visible from the host: the first thing a runner does with a
 * turn is to send its model request, so "the runner's answer back" (the host read that frame) is an
 * upper bound of "the runner has it", and "StartTurn written" a lower bound.
 */
public final class SessionLatency {
    private SessionLatency() {}

    /** The intervals of one run, in table order. */
    static final class Rows {
        final Map<String, Stats> rows = new LinkedHashMap<>();

        Stats row(String name) {
            return rows.computeIfAbsent(name, Stats::new);
        }

        /** Records the way of one message; false if a mark is missing (nothing recorded then). */
        boolean add(String prefix, Probe.Marks m, long say, long accepted, long model) {
            if (m.stored == 0 || m.woken == 0 || m.claimed == 0 || m.sent == 0 || m.back == 0) {
                return false;
            }
            row(prefix + "stored -> runner's answer back (upper)").add(m.back - m.stored);
            row(prefix + "stored -> StartTurn written (lower)").add(m.sent - m.stored);
            row(prefix + "  stored -> woken (worker claims)").add(m.woken - m.stored);
            row(prefix + "  woken -> claimed").add(m.claimed - m.woken);
            row(prefix + "  claimed -> StartTurn write begins").add(m.sendStart - m.claimed);
            row(prefix + "  StartTurn write").add(m.sent - m.sendStart);
            row(prefix + "  written -> runner's answer back").add(m.back - m.sent);
            row(prefix + "  answer back -> request at model").add(model - m.back);
            row(prefix + "Say sent -> stored").add(m.stored - say);
            row(prefix + "Say sent -> Accepted received").add(accepted - say);
            row(prefix + "Say sent -> model request").add(model - say);
            return true;
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Options.parse(args, List.of("--keep"));
        int runs = Options.integer(options, "--runs", 300);
        int warmup = Options.integer(options, "--warmup", 30);
        int sessions = Options.integer(options, "--sessions", 4);
        int pings = Options.integer(options, "--pings", 10);
        Path runnerLib = Options.runnerLib(options);
        Path root = Files.createTempDirectory(Path.of("/tmp"), "cl");
        System.setProperty("cordon.logdir", root.resolve("logs").toString());
        System.out.printf(
                "SessionLatency: %d warm messages (+%d warm-up) round robin over %d sessions; %s%n",
                runs, warmup, sessions, Stats.machine());
        Rows rows = new Rows();
        Stats rtt = new Stats("baseline: Unix socket round trip, 2 JVMs");
        Stats fsync = new Stats("baseline: fsync of a 4 KiB append");
        int failures = 0;
        try (FakeModelServer model = FakeModelServer.start()) {
            Path home = root.resolve("home");
            List<String> agents = BenchHomes.create(home, BenchHomes.NO_QUOTA, "s", sessions);
            Probe probe = new Probe();
            Daemon daemon = Daemon.start(home, BenchHomes.env(model), runnerLib, probe.probes());
            List<ControlClient> clients = new ArrayList<>();
            try (PingPong pingPong = PingPong.start(root)) {
                for (String agent : agents) {
                    ControlClient client = new ControlClient(daemon.controlSocket());
                    client.attach(agent);
                    clients.add(client);
                    // The first message starts the session's sandbox (and the AOT training).
                    send(client, model, agent, probe, null, null);
                }
                BenchHomes.awaitCache(home);
                for (int i = 0; i < warmup + runs; i++) {
                    int s = i % sessions;
                    boolean measured = i >= warmup;
                    Probe.Marks marks = send(clients.get(s), model, agents.get(s), probe, measured ? rows : null, null);
                    if (marks == null) {
                        failures++;
                        if (measured) {
                            i--;
                        }
                        continue;
                    }
                    for (int p = 0; p < pings; p++) {
                        long trip = pingPong.roundTrip();
                        if (measured) {
                            rtt.add(trip);
                        }
                    }
                    // What each synced SQLite commit on the way (inbound, audit, claim) waits for.
                    Stats one = DiskProbe.fsyncs(home, 1, "fsync");
                    if (measured) {
                        fsync.add((long) (one.medianMillis() * 1e6));
                    }
                }
            } finally {
                for (ControlClient c : clients) {
                    c.close();
                }
                daemon.close();
            }
        } finally {
            BenchHomes.cleanUp(root, options);
        }
        System.out.printf("load at end %s; failed turns (not measured, redone): %d%n%n", Stats.load(), failures);
        System.out.println(Stats.header("interval (ms)", 42));
        for (Stats s : rows.rows.values()) {
            System.out.println(s.row(42));
        }
        System.out.printf(
                Locale.ROOT,
                "%-42s %5d %9.3f %9.3f %9.3f %9.3f %9.3f%n",
                rtt.name(),
                rtt.count(),
                rtt.medianMillis(),
                rtt.percentileMillis(95),
                rtt.percentileMillis(99),
                rtt.minMillis(),
                rtt.maxMillis());
        System.out.println(fsync.row(42));
        double base = rtt.medianMillis();
        System.out.println();
        for (String name : List.of(
                "stored -> runner's answer back (upper)",
                "stored -> StartTurn written (lower)",
                "  written -> runner's answer back")) {
            System.out.printf(
                    Locale.ROOT,
                    "%-42s median %.2f x the round trip%n",
                    name.strip(),
                    rows.row(name).medianMillis() / base);
        }
    }

    /**
     * Sends one message on {@code client} and waits for its reply; records its way in {@code rows}
     * (under {@code prefix}) unless null.
     *
     * @return its marks, or null if the turn failed
     */
    static Probe.Marks send(
            ControlClient client, FakeModelServer model, String agent, Probe probe, Rows rows, String prefix)
            throws IOException, InterruptedException {
        model.enqueue(Scripted.text("ok"));
        int before = model.requests().size();
        ControlClient.Exchange x = client.exchange(agent, "hello");
        if (x.reply().failed()) {
            System.out.println("turn failed: " + x.reply().text());
            return null;
        }
        long arrived = BenchHomes.modelRequestArrival(model, before);
        Probe.Marks marks = probe.marks(x.ack().inboundId());
        if (rows != null && !rows.add(prefix == null ? "" : prefix, marks, x.sent(), x.accepted(), arrived)) {
            throw new IllegalStateException(
                    "a probe mark is missing for inbound " + x.ack().inboundId());
        }
        return marks;
    }
}
