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
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The store's hot path on SQLite and on PostgreSQL, single node, side by side in one run (issue 11):
 *
 * <ul>
 *   <li><b>routing</b>: what the router does per inbound message (find the chat's wiring, ensure the
 *       session, store the message durably), from N concurrent channels, in messages per second;
 *   <li><b>claim</b>: the latency of {@code claimPending} while N session workers each claim their
 *       session's messages and complete the turn (transcript and reply), as the session manager does.
 * </ul>
 *
 * Both stores are durable as in production: SQLite {@code synchronous = FULL}, PostgreSQL with
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
            Supplier<Store> sqlite = () -> Stores.sqlite(root.resolve("s" + run.incrementAndGet() + ".db"));
            Supplier<Store> postgres =
                    () -> Stores.postgres(pg.createDatabase(), pg.user(), pg.password(), Clock.systemUTC());
            System.out.printf(
                    Locale.ROOT,
                    "%n%-10s %-8s %8s %12s %10s %10s %10s%n",
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
                row("postgres", postgres, n, messages, sessions);
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

    private static void row(String name, Supplier<Store> open, int threads, int messages, int sessions)
            throws Exception {
        try (Store store = open.get()) {
            Agent agent = store.ensureAgent(new AgentName("bench"));
            List<Chat> chats = new ArrayList<>();
            for (int s = 0; s < sessions; s++) {
                Chat chat = store.ensureChat("bench", "chat-" + s);
                store.wire(chat.id(), agent.id());
                chats.add(chat);
            }
            warmUp(store, agent, chats.getFirst());

            AtomicInteger next = new AtomicInteger();
            long started = System.nanoTime();
            inParallel(threads, () -> {
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

            List<Session> all = store.sessions().stream()
                    .filter(s -> s.agentId().equals(agent.id()))
                    .toList();
            ConcurrentLinkedQueue<Long> claims = new ConcurrentLinkedQueue<>();
            AtomicInteger turns = new AtomicInteger();
            AtomicInteger nextSession = new AtomicInteger();
            started = System.nanoTime();
            inParallel(threads, () -> {
                for (int s = nextSession.getAndIncrement(); s < all.size(); s = nextSession.getAndIncrement()) {
                    Session session = all.get(s);
                    while (true) {
                        long before = System.nanoTime();
                        List<Inbound> batch = store.claimPending(session.id(), 4);
                        claims.add(System.nanoTime() - before);
                        if (batch.isEmpty()) {
                            break;
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
                        turns.incrementAndGet();
                    }
                }
            });
            double turnRate = turns.get() / ((System.nanoTime() - started) / 1e9);
            long[] sorted = claims.stream().mapToLong(Long::longValue).sorted().toArray();
            System.out.printf(
                    Locale.ROOT,
                    "%-10s %-8d %8d %12.0f %8.2fms %8.2fms %10.0f%n",
                    name,
                    threads,
                    messages,
                    routed,
                    percentile(sorted, 50),
                    percentile(sorted, 99),
                    turnRate);
        }
    }

    private static void warmUp(Store store, Agent agent, Chat chat) {
        Session session = store.ensureSession(agent.id(), chat.id(), "warm");
        for (int i = 0; i < 200; i++) {
            store.storeInbound(
                    session.id(), chat.id(), new NewInbound("bench", chat.platformChatId(), "warm-" + i, "u", "w"));
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
