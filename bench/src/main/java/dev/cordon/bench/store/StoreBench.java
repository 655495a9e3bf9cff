package dev.cordon.bench.store;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.store.Store;
import dev.cordon.core.store.Store.NewOutbound;
import dev.cordon.protocol.ChatMessage;
import dev.cordon.store.Stores;
import dev.cordon.testkit.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The store's hot path on SQLite (one daemon) and on PostgreSQL with 1 and 3 replicas, side by side
 * in one run (issue 11):
 *
 * <ul>
 *   <li><b>routing</b>: what the router does per inbound message (find the chat's wiring, ensure the
 *       session, store the message durably), from N concurrent channels, in messages per second;
 *   <li><b>claim</b>: the latency of {@code claimPending} while N session workers each claim their
 *       session's messages and complete the turn (transcript and reply), as the session manager does.
 * </ul>
 *
 * A PostgreSQL replica works as a daemon replica does (docs/store.md, "Several replicas"): it is
 * registered with a heartbeat, listens for the store's notifications (whose triggers fire on every
 * stored message and reply), and takes a session's lease before claiming its messages. With 3
 * replicas, three stores (three connection pools, as three daemons have) share one database and the
 * threads are spread over them; they run in this one JVM.
 *
 * <p>Both stores are durable as in production: SQLite {@code synchronous = FULL}, PostgreSQL with
 * fsync on (a fresh local server from the {@code postgresql} package, over loopback TCP).
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp 'bench/target/lib/*' dev.cordon.bench.store.StoreBench \
 *      [--messages 4000] [--threads 1,8,32] [--sessions 64]
 * </pre>
 */
public final class StoreBench {
    private StoreBench() {}

    public static void main(String[] args) throws Exception {
        int messages = 4_000;
        int[] threads = {1, 8, 32};
        int sessions = 64;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--messages" -> messages = Integer.parseInt(args[i + 1]);
                case "--threads" ->
                    threads = Arrays.stream(args[i + 1].split(","))
                            .mapToInt(Integer::parseInt)
                            .toArray();
                case "--sessions" -> sessions = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path root = Files.createTempDirectory("cordon-store-bench");
        System.setProperty("cordon.logdir", root.resolve("logs").toString());
        System.out.printf(
                Locale.ROOT,
                "StoreBench: %s, %d CPUs, %d messages over %d sessions; load %s%n",
                Runtime.version(),
                Runtime.getRuntime().availableProcessors(),
                messages,
                sessions,
                load());
        try (PostgresServer pg = PostgresServer.start(true)) {
            AtomicInteger run = new AtomicInteger();
            Supplier<List<Store>> sqlite =
                    () -> List.of(Stores.sqlite(root.resolve("s" + run.incrementAndGet() + ".db")));
            IntFunction<Supplier<List<Store>>> postgres = replicas -> () -> {
                String url = pg.createDatabase();
                List<Store> stores = new ArrayList<>();
                for (int r = 0; r < replicas; r++) {
                    stores.add(Stores.postgres(url, pg.user(), pg.password(), Clock.systemUTC(), "replica-" + r));
                }
                return stores;
            };
            System.out.printf(
                    Locale.ROOT,
                    "%n%-11s %-8s %8s %12s %10s %10s %10s%n",
                    "store",
                    "threads",
                    "messages",
                    "routed/s",
                    "claim p50",
                    "claim p99",
                    "turns/s");
            for (int n : threads) {
                // Interleaved, so both see the same machine load.
                row("sqlite", sqlite, n, messages, sessions);
                row("postgres", postgres.apply(1), n, messages, sessions);
                row("postgres-3", postgres.apply(3), n, messages, sessions);
            }
        } finally {
            try (Stream<Path> all = Files.walk(root)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        System.out.printf(Locale.ROOT, "%nload at end %s%n", load());
    }

    private static void row(String name, Supplier<List<Store>> open, int threads, int messages, int sessions)
            throws Exception {
        List<Store> stores = open.get();
        boolean replicated = name.startsWith("postgres");
        List<AutoCloseable> listening = new ArrayList<>();
        try {
            Store first = stores.getFirst();
            if (replicated) {
                for (Store s : stores) {
                    s.replicas().heartbeat(LEASE);
                    listening.add(s.replicas().listen(n -> {}));
                }
            }
            Agent agent = first.ensureAgent(new AgentName("bench"));
            List<Chat> chats = new ArrayList<>();
            for (int s = 0; s < sessions; s++) {
                Chat chat = first.ensureChat("bench", "chat-" + s);
                first.wire(chat.id(), agent.id());
                chats.add(chat);
            }
            for (Store s : stores) {
                warmUp(s, agent, chats.getFirst());
            }

            AtomicInteger next = new AtomicInteger();
            AtomicInteger thread = new AtomicInteger();
            long started = System.nanoTime();
            inParallel(threads, () -> {
                Store store = stores.get(thread.getAndIncrement() % stores.size());
                for (int m = next.getAndIncrement(); m < messages; m = next.getAndIncrement()) {
                    Chat chat = chats.get(m % sessions);
                    // The router's store work per message: wiring, session, the durable insert.
                    var wired = store.wiring(chat.id()).orElseThrow().agentId();
                    Session session = store.ensureSession(wired, chat.id(), "");
                    store.storeInbound(
                            session.id(),
                            chat.id(),
                            new NewInbound("bench", chat.platformChatId(), "m-" + m, "u", "hello " + m));
                }
            });
            double routed = messages / ((System.nanoTime() - started) / 1e9);

            List<Session> all = first.sessions().stream()
                    .filter(s -> s.agentId().equals(agent.id()))
                    .toList();
            ConcurrentLinkedQueue<Long> claims = new ConcurrentLinkedQueue<>();
            AtomicInteger turns = new AtomicInteger();
            AtomicInteger nextSession = new AtomicInteger();
            thread.set(0);
            started = System.nanoTime();
            inParallel(threads, () -> {
                Store store = stores.get(thread.getAndIncrement() % stores.size());
                for (int s = nextSession.getAndIncrement(); s < all.size(); s = nextSession.getAndIncrement()) {
                    Session session = all.get(s);
                    String lease = "session:" + session.id().value();
                    if (replicated && !store.replicas().acquire(lease, LEASE)) {
                        throw new IllegalStateException(lease + " is held by another replica");
                    }
                    turns.addAndGet(drain(store, session, claims));
                    if (replicated) {
                        store.replicas().release(lease);
                    }
                }
            });
            double turnRate = turns.get() / ((System.nanoTime() - started) / 1e9);
            long[] sorted = claims.stream().mapToLong(Long::longValue).sorted().toArray();
            System.out.printf(
                    Locale.ROOT,
                    "%-11s %-8d %8d %12.0f %8.2fms %8.2fms %10.0f%n",
                    name,
                    threads,
                    messages,
                    routed,
                    percentile(sorted, 50),
                    percentile(sorted, 99),
                    turnRate);
        } finally {
            for (AutoCloseable l : listening) {
                l.close();
            }
            stores.forEach(Store::close);
        }
    }

    /** How long a bench replica's heartbeat and leases hold: longer than any row takes. */
    private static final Duration LEASE = Duration.ofMinutes(10);

    /** Claims and completes the session's messages, 4 at a time, as its worker does; returns the turns. */
    private static int drain(Store store, Session session, ConcurrentLinkedQueue<Long> claims) {
        int turns = 0;
        while (true) {
            long before = System.nanoTime();
            List<Inbound> batch = store.claimPending(session.id(), 4);
            claims.add(System.nanoTime() - before);
            if (batch.isEmpty()) {
                return turns;
            }
            store.completeTurn(
                    session.id(),
                    batch.stream().map(Inbound::id).toList(),
                    List.of(ChatMessage.user(batch.getFirst().text()), ChatMessage.assistant("ok")),
                    new NewOutbound(
                            session.chatId(),
                            batch.getLast().id(),
                            "ok",
                            false,
                            "turn-" + batch.getLast().id().value()));
            turns++;
        }
    }

    private static void warmUp(Store store, Agent agent, Chat chat) {
        Session session = store.ensureSession(agent.id(), chat.id(), "warm");
        String tag = store.replicas().self();
        for (int i = 0; i < 200; i++) {
            store.storeInbound(
                    session.id(),
                    chat.id(),
                    new NewInbound("bench", chat.platformChatId(), "warm-" + tag + "-" + i, "u", "w"));
            List<Inbound> got = store.claimPending(session.id(), 1);
            store.completeTurn(session.id(), got.stream().map(Inbound::id).toList(), List.of(), null);
        }
    }

    private interface Work {
        void run() throws Exception;
    }

    private static void inParallel(int threads, Work work) throws Exception {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    work.run();
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }
    }

    private static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)] / 1e6;
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
