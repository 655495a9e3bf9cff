package dev.cordon.bench.audit;

import dev.cordon.core.AgentName;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditKeys;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.audit.AuditVerification;
import dev.cordon.core.store.Store;
import dev.cordon.store.Stores;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * The audit log on a real SQLite file (the daemon's store, {@code synchronous = FULL}): append
 * throughput with N concurrent appenders (group commit), per-event latency of a lone appender
 * (every append its own transaction and fsync), and verify time for a large log.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp 'bench/target/lib/*' dev.cordon.bench.audit.AuditBench \
 *      [--threads 16,64,256,1024] [--events 50000] [--sync 2000] [--verify-entries 1000000] [--verify-runs 3]
 *      [--dir DIR] [--keep]
 * </pre>
 *
 * Each row uses a fresh store in a temporary directory (on the same disk as {@code --dir}, default
 * {@code /tmp}). Nothing is asserted; results go to {@code docs/audit.md}.
 */
public final class AuditBench {
    private AuditBench() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = parse(args);
        int[] threads = Arrays.stream(
                        options.getOrDefault("--threads", "16,64,256,1024").split(","))
                .mapToInt(Integer::parseInt)
                .toArray();
        int events = Integer.parseInt(options.getOrDefault("--events", "50000"));
        int sync = Integer.parseInt(options.getOrDefault("--sync", "2000"));
        int verifyEntries = Integer.parseInt(options.getOrDefault("--verify-entries", "1000000"));
        int verifyRuns = Integer.parseInt(options.getOrDefault("--verify-runs", "3"));
        boolean keep = options.containsKey("--keep");
        Path base = Path.of(options.getOrDefault("--dir", System.getProperty("java.io.tmpdir")));
        Path root = Files.createTempDirectory(base, "cordon-audit-bench");
        // The server's logback.xml is on this class path; without this it writes ./daemon.log.
        System.setProperty("cordon.logdir", root.resolve("logs").toString());
        System.out.printf(
                Locale.ROOT,
                "AuditBench: %s, %d CPUs, dir %s; load %s%n",
                Runtime.version(),
                Runtime.getRuntime().availableProcessors(),
                root,
                load());
        try {
            KeyPair keys = AuditKeys.loadOrCreate(root.resolve("keys/audit-ed25519"));

            System.out.printf(
                    Locale.ROOT,
                    "%n%-34s %8s %10s %9s %9s %9s %9s%n",
                    "batched append (group commit)",
                    "events",
                    "events/s",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "CPU µs/ev");
            for (int n : threads) {
                batched(root.resolve("batched-" + n), keys, n, events);
            }

            System.out.printf(
                    Locale.ROOT,
                    "%n%-34s %8s %10s %9s %9s %9s %9s%n",
                    "synchronous append (1 appender)",
                    "events",
                    "events/s",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "CPU µs/ev");
            batched(root.resolve("sync"), keys, 1, sync);

            System.out.printf(Locale.ROOT, "%n%-34s%n", "verify");
            verify(root.resolve("verify"), keys, verifyEntries, verifyRuns);
            System.out.printf(Locale.ROOT, "%nload at end %s%n", load());
        } finally {
            if (keep) {
                System.out.println("kept " + root);
            } else {
                delete(root);
            }
        }
    }

    /** {@code threads} virtual threads append {@code total} events between them, one at a time each. */
    private static void batched(Path dir, KeyPair keys, int threads, int total) throws Exception {
        try (Store store = Stores.sqlite(dir.resolve("cordon.db"));
                AuditLog log = AuditLogs.open(store.audit(), keys, AuditLogs.Settings.DEFAULTS, Clock.systemUTC())) {
            // Warm-up: class loading, JIT of the hot path, the first fsyncs.
            for (int i = 0; i < 200; i++) {
                log.append(event(i));
            }
            int each = Math.max(1, total / threads);
            long[][] latencies = new long[threads][each];
            long started = System.nanoTime();
            long cpuStarted = cpuNanos();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long[] mine = latencies[t];
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < each; i++) {
                            long before = System.nanoTime();
                            log.append(event(i));
                            mine[i] = System.nanoTime() - before;
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            double cpuMicros = (cpuNanos() - cpuStarted) / 1e3;
            long[] all = Arrays.stream(latencies)
                    .flatMapToLong(Arrays::stream)
                    .sorted()
                    .toArray();
            System.out.printf(
                    Locale.ROOT,
                    "%-34s %8d %10.0f %9.2f %9.2f %9.2f %9.1f%n",
                    threads + (threads == 1 ? " thread" : " threads"),
                    all.length,
                    all.length / seconds,
                    percentile(all, 50),
                    percentile(all, 99),
                    all[all.length - 1] / 1e6,
                    cpuMicros / all.length);
        }
    }

    private static void verify(Path dir, KeyPair keys, int entries, int runs) {
        int chunk = 10_000;
        long started = System.nanoTime();
        try (Store store = Stores.sqlite(dir.resolve("cordon.db"));
                AuditLog log = AuditLogs.open(store.audit(), keys, AuditLogs.Settings.DEFAULTS, Clock.systemUTC())) {
            for (int done = 0; done < entries; done += chunk) {
                List<AuditEvent> events = new ArrayList<>(chunk);
                for (int i = 0; i < Math.min(chunk, entries - done); i++) {
                    events.add(event(done + i));
                }
                log.appendAll(events);
            }
        }
        double filled = (System.nanoTime() - started) / 1e9;
        System.out.printf(
                Locale.ROOT,
                "  filled %d entries with appendAll(10,000 each) in %.1f s (%.0f events/s)%n",
                entries,
                filled,
                entries / filled);
        for (int run = 1; run <= runs; run++) {
            // A fresh store each run: verify as `cordon audit verify` would, from a cold start of the log.
            try (Store store = Stores.sqlite(dir.resolve("cordon.db"))) {
                long before = System.nanoTime();
                long cpuBefore = cpuNanos();
                AuditVerification result = AuditLogs.verify(store.audit(), keys.getPublic());
                double seconds = (System.nanoTime() - before) / 1e9;
                double cpu = (cpuNanos() - cpuBefore) / 1e9;
                System.out.printf(
                        Locale.ROOT,
                        "  run %d: %.2f s wall, %.2f s CPU (%.0f entries/s) — %s%n",
                        run,
                        seconds,
                        cpu,
                        result.entries() / seconds,
                        result.summary());
            }
        }
    }

    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    /** A typical entry: an egress decision with a few details (about 150 bytes encoded). */
    private static AuditEvent event(int i) {
        return AuditEvent.of(T0.plusMillis(i), Actor.system("egress"), AuditActions.EGRESS_ALLOW, Decision.ALLOW)
                .withAgent(new AgentName("ada"))
                .withSession(new SessionId(i % 100))
                .withRule("egress.allow[2]")
                .withDetails(Map.of("host", "api.example.com", "port", 443, "bytes", i));
    }

    /**
     * CPU time of this whole process (all threads): on a shared machine it moves far less with the
     * load than wall time does.
     */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static double percentile(long[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)] / 1e6;
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--keep")) {
                options.put("--keep", "true");
            } else if (args[i].startsWith("--") && i + 1 < args.length) {
                options.put(args[i], args[++i]);
            } else {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
        }
        return options;
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void delete(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
