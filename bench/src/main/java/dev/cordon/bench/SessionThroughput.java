package dev.cordon.bench;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.testkit.FakeModelServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Messages per second sustained across many warm sessions: a real daemon in its own process
 * ({@link DaemonProcess}: SQLite, bubblewrap, a runner per session) on the fake model server (no
 * think time, in this JVM). Each session's client sends a message, waits for its reply, acks it
 * and sends the next. One session alone runs before and after as the baseline; the daemon's CPU
 * time and RSS are read from {@code /proc} every second.
 *
 * <pre>
 * java -cp 'bench/target/lib/*' dev.cordon.bench.SessionThroughput [--sessions 50] [--seconds 60]
 *      [--single-seconds 15] [--tmpfs] [--runner-lib DIR] [--keep]
 * </pre>
 */
public final class SessionThroughput {
    private static final int WARM_UP_SECONDS = 10;
    private static final int STARTING = 4;

    private SessionThroughput() {}

    /** One phase's result. */
    private record Phase(
            String name,
            int sessions,
            int messages,
            double seconds,
            Stats latency,
            long daemonCpu,
            long sandboxCpu,
            long benchCpu,
            List<Long> rssKb) {
        double perSecond() {
            return messages / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Options.parse(args, List.of("--keep", "--tmpfs"));
        int sessions = Options.integer(options, "--sessions", 50);
        int seconds = Options.integer(options, "--seconds", 60);
        int singleSeconds = Options.integer(options, "--single-seconds", 15);
        Path runnerLib = Options.runnerLib(options);
        // --tmpfs: the daemon's home (its SQLite file) in memory, where an fsync costs nothing: a
        // diagnosis of how much the disk limits the rate, not a configuration to run.
        Path root = Files.createTempDirectory(Path.of(options.containsKey("--tmpfs") ? "/dev/shm" : "/tmp"), "ct");
        System.out.printf(
                "SessionThroughput: %d warm sessions for %d s, one session for %d s before and after; home in %s; %s%n",
                sessions, seconds, singleSeconds, root.getParent(), Stats.machine());
        List<Phase> phases = new ArrayList<>();
        List<ControlClient> clients = new ArrayList<>();
        Stats fsyncBefore;
        Stats fsyncAfter;
        try (FakeModelServer model = FakeModelServer.start()) {
            Path home = root.resolve("home");
            List<String> agents = BenchHomes.create(home, BenchHomes.roomFor(sessions), "t", sessions);
            try (DaemonProcess daemon = DaemonProcess.start(home, model, runnerLib)) {
                try {
                    for (String agent : agents) {
                        ControlClient client = new ControlClient(daemon.controlSocket());
                        client.attach(agent);
                        clients.add(client);
                    }
                    long warmStart = System.nanoTime();
                    exchange(clients.getFirst(), agents.getFirst());
                    BenchHomes.awaitCache(home);
                    // A few sandboxes at a time: fifty JVMs starting at once on two CPUs take minutes.
                    for (int from = 1; from < sessions; from += STARTING) {
                        int to = Math.min(sessions, from + STARTING);
                        run(clients.subList(from, to), agents.subList(from, to), 1, Duration.ZERO);
                    }
                    clients.getFirst().awaitLive(sessions, Duration.ofSeconds(60));
                    System.out.printf(
                            Locale.ROOT,
                            "%d sandboxes started in %.1f s (AOT training included)%n",
                            sessions,
                            (System.nanoTime() - warmStart) / 1e9);
                    // Warm the daemon's JIT on the whole load first; not reported.
                    measure("warm-up", daemon, clients, agents, WARM_UP_SECONDS);
                    fsyncBefore = DiskProbe.fsyncs(home, 100, "fsync 4 KiB, before");
                    phases.add(measure(
                            "1 session, before", daemon, clients.subList(0, 1), agents.subList(0, 1), singleSeconds));
                    phases.add(measure(sessions + " sessions", daemon, clients, agents, seconds));
                    phases.add(measure(
                            "1 session, after", daemon, clients.subList(0, 1), agents.subList(0, 1), singleSeconds));
                    fsyncAfter = DiskProbe.fsyncs(home, 100, "fsync 4 KiB, after");
                    if (clients.getFirst().status().liveSandboxes() != sessions) {
                        System.out.println("warning: not every sandbox stayed live");
                    }
                } catch (IllegalStateException e) {
                    // A client waited in vain: say what the daemon holds, and keep its home and logs.
                    try (ControlClient c = new ControlClient(daemon.controlSocket())) {
                        ControlEvent.StatusReport status = c.status();
                        System.out.printf(
                                "%s; the daemon has %d live sandboxes, %d pending messages, %d undelivered replies%n",
                                e.getMessage(),
                                status.liveSandboxes(),
                                status.pendingMessages(),
                                status.undeliveredReplies());
                    }
                    options.put("--keep", "true");
                    throw e;
                }
                for (ControlClient c : clients) {
                    c.close();
                }
            }
        } finally {
            BenchHomes.cleanUp(root, options);
        }
        System.out.printf("load at end %s%n%n", Stats.load());
        System.out.printf(
                "%-18s %5s %6s %8s %9s %9s %11s %11s %11s %13s%n",
                "phase",
                "sess.",
                "msgs",
                "msgs/s",
                "turn p50",
                "turn p99",
                "daemon CPU",
                "daemon ms",
                "sandbox ms",
                "daemon RSS MB");
        for (Phase p : phases) {
            List<Long> rss = p.rssKb().stream().sorted().toList();
            System.out.printf(
                    Locale.ROOT,
                    "%-18s %5d %6d %8.1f %9.1f %9.1f %10.0f%% %11.2f %11.2f %6d-%-6d%n",
                    p.name(),
                    p.sessions(),
                    p.messages(),
                    p.perSecond(),
                    p.latency().medianMillis(),
                    p.latency().percentileMillis(99),
                    100.0 * p.daemonCpu() / (p.seconds() * 1e9),
                    p.daemonCpu() / 1e6 / Math.max(1, p.messages()),
                    p.sandboxCpu() / 1e6 / Math.max(1, p.messages()),
                    rss.isEmpty() ? 0 : rss.getFirst() >> 10,
                    rss.isEmpty() ? 0 : rss.getLast() >> 10);
        }
        System.out.printf(
                "%n%s%n%s%n%s%n", Stats.header("baseline: the disk (ms)"), fsyncBefore.row(), fsyncAfter.row());
        double single = (phases.get(0).perSecond() + phases.get(2).perSecond()) / 2;
        System.out.printf(
                Locale.ROOT,
                "%n%d sessions / 1 session (mean of before and after): %.2f x the messages per second%n"
                        + "(\"daemon ms\", \"sandbox ms\": CPU time per message of the daemon and of all sandboxes;"
                        + " the bench's clients and fake model used %.2f ms per message in the %d-session phase)%n",
                sessions,
                phases.get(1).perSecond() / single,
                phases.get(1).benchCpu() / 1e6 / Math.max(1, phases.get(1).messages()),
                sessions);
    }

    private static Phase measure(
            String name, DaemonProcess daemon, List<ControlClient> clients, List<String> agents, int seconds)
            throws Exception {
        List<Long> rss = new ArrayList<>();
        AtomicBoolean done = new AtomicBoolean();
        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            while (!done.get()) {
                rss.add(ProcStats.statusKb(daemon.pid(), "VmRSS"));
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        long self = ProcessHandle.current().pid();
        long cpu0 = ProcStats.cpuNanos(daemon.pid());
        long sandbox0 = sandboxCpu(daemon.pid());
        long bench0 = ProcStats.cpuNanos(self);
        long t0 = System.nanoTime();
        Stats latency = run(clients, agents, Integer.MAX_VALUE, Duration.ofSeconds(seconds));
        double wall = (System.nanoTime() - t0) / 1e9;
        long cpu = ProcStats.cpuNanos(daemon.pid()) - cpu0;
        long sandbox = sandboxCpu(daemon.pid()) - sandbox0;
        long bench = ProcStats.cpuNanos(self) - bench0;
        done.set(true);
        sampler.join();
        return new Phase(name, clients.size(), latency.count(), wall, latency, cpu, sandbox, bench, rss);
    }

    /** CPU time of every process under the daemon (the sandboxes and their runners). */
    private static long sandboxCpu(long daemonPid) {
        return ProcStats.tree(daemonPid).stream()
                .filter(pid -> pid != daemonPid)
                .mapToLong(ProcStats::cpuNanos)
                .sum();
    }

    /**
     * Every client sends, in a loop on its own thread, up to {@code messages} messages, each after
     * the previous one's reply, until {@code duration} has passed (zero: no time limit).
     *
     * @return Say sent → Reply received of every message
     */
    private static Stats run(List<ControlClient> clients, List<String> agents, int messages, Duration duration)
            throws InterruptedException {
        long end = duration.isZero() ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
        ConcurrentLinkedQueue<Long> samples = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger failed = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < clients.size(); i++) {
            ControlClient client = clients.get(i);
            String agent = agents.get(i);
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    for (int m = 0; m < messages && System.nanoTime() < end; m++) {
                        long t0 = System.nanoTime();
                        if (exchange(client, agent)) {
                            samples.add(System.nanoTime() - t0);
                        } else {
                            failed.incrementAndGet();
                        }
                    }
                } catch (IOException | InterruptedException | RuntimeException e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException("a client failed", failures.peek());
        }
        if (failed.get() > 0) {
            System.out.println(failed.get() + " turns failed (not counted)");
        }
        Stats stats = new Stats("Say -> Reply");
        samples.forEach(stats::add);
        return stats;
    }

    /** One message and its reply (the fake model echoes it); false if the turn failed. */
    private static boolean exchange(ControlClient client, String agent) throws IOException, InterruptedException {
        return !client.exchange(agent, "hello").reply().failed();
    }
}
