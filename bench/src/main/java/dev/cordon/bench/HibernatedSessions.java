package dev.cordon.bench;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.server.Daemon;
import dev.cordon.store.Stores;
import dev.cordon.testkit.FakeModelServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Routing with many hibernated sessions in the store: two real in-process daemons side by side,
 * one on an empty store and one whose store was filled (through the {@code store} module's API)
 * with {@code --sessions} hibernated sessions, each a chat with one answered, delivered message and
 * its transcript. Measured interleaved, in random order each round: a warm message's way (stored →
 * woken → StartTurn written, as {@link SessionLatency}), the daemon's start, and the {@code
 * sessions list} request ({@code cordon sessions list} sends the same frame).
 *
 * <pre>
 * java -cp 'bench/target/lib/*' dev.cordon.bench.HibernatedSessions [--sessions 100000] [--runs 200]
 *      [--starts 3] [--lists 3] [--runner-lib DIR] [--keep]
 * </pre>
 */
public final class HibernatedSessions {
    private static final String AGENT = "main";
    private static final int FILL_THREADS = 4;

    private HibernatedSessions() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Options.parse(args, List.of("--keep"));
        int sessions = Options.integer(options, "--sessions", 100000);
        int runs = Options.integer(options, "--runs", 200);
        int starts = Options.integer(options, "--starts", 3);
        int lists = Options.integer(options, "--lists", 3);
        Path runnerLib = Options.runnerLib(options);
        Path root = Files.createTempDirectory(Path.of("/tmp"), "ch");
        System.setProperty("cordon.logdir", root.resolve("logs").toString());
        System.out.printf(
                "HibernatedSessions: %,d hibernated sessions vs an empty store, %d messages each; %s%n",
                sessions, runs, Stats.machine());
        Path empty = root.resolve("empty");
        Path full = root.resolve("full");
        BenchHomes.create(empty, BenchHomes.NO_QUOTA, "unused", 0);
        BenchHomes.create(full, BenchHomes.NO_QUOTA, "unused", 0);
        long fillStart = System.nanoTime();
        fill(full.resolve("data/cordon.db"), sessions);
        System.out.printf(
                Locale.ROOT,
                "filled %,d sessions in %.1f s (on tmpfs, then copied); database %,d MB%n",
                sessions,
                (System.nanoTime() - fillStart) / 1e9,
                Files.size(full.resolve("data/cordon.db")) >> 20);
        SessionLatency.Rows rows = new SessionLatency.Rows();
        Stats startEmpty = new Stats("daemon start, empty store");
        Stats startFull = new Stats("daemon start, " + sessions + " hibernated");
        Stats listEmpty = new Stats("sessions list, empty store");
        Stats listFull = new Stats("sessions list, " + sessions + " hibernated");
        Random random = new Random(1);
        int failures = 0;
        try (FakeModelServer model = FakeModelServer.start()) {
            Map<String, String> env = BenchHomes.env(model);
            // Train the runner's AOT cache once, in the empty home, and give the other home a copy.
            Probe warm = new Probe();
            Daemon trainer = Daemon.start(empty, env, runnerLib, warm.probes());
            try (ControlClient c = new ControlClient(trainer.controlSocket())) {
                c.attach(AGENT);
                SessionLatency.send(c, model, AGENT, warm, null, null);
                BenchHomes.awaitCache(empty);
            } finally {
                trainer.close();
            }
            BenchHomes.copyCache(empty, full);
            for (int i = 0; i < starts; i++) {
                for (boolean isFull : order(random)) {
                    long t0 = System.nanoTime();
                    Daemon d = Daemon.start(isFull ? full : empty, env, runnerLib);
                    (isFull ? startFull : startEmpty).add(System.nanoTime() - t0);
                    d.close();
                }
            }
            Probe probeEmpty = new Probe();
            Probe probeFull = new Probe();
            Daemon dEmpty = Daemon.start(empty, env, runnerLib, probeEmpty.probes());
            Daemon dFull = Daemon.start(full, env, runnerLib, probeFull.probes());
            try (ControlClient cEmpty = new ControlClient(dEmpty.controlSocket());
                    ControlClient cFull = new ControlClient(dFull.controlSocket())) {
                cEmpty.attach(AGENT);
                cFull.attach(AGENT);
                for (int i = 0; i < 10; i++) {
                    SessionLatency.send(cEmpty, model, AGENT, probeEmpty, null, null);
                    SessionLatency.send(cFull, model, AGENT, probeFull, null, null);
                }
                for (int i = 0; i < runs; i++) {
                    for (boolean isFull : order(random)) {
                        Probe.Marks marks = SessionLatency.send(
                                isFull ? cFull : cEmpty,
                                model,
                                AGENT,
                                isFull ? probeFull : probeEmpty,
                                rows,
                                isFull ? "full:  " : "empty: ");
                        failures += marks == null ? 1 : 0;
                    }
                }
                for (int i = 0; i < lists; i++) {
                    for (boolean isFull : order(random)) {
                        ControlClient c = isFull ? cFull : cEmpty;
                        long t0 = System.nanoTime();
                        c.send(new ControlRequest.SessionsList(20));
                        ControlEvent.SessionListing listing = c.await(ControlEvent.SessionListing.class);
                        (isFull ? listFull : listEmpty).add(System.nanoTime() - t0);
                        if (i == 0 && isFull) {
                            System.out.printf(
                                    "sessions list (--hibernated 20) returned %d rows%n",
                                    listing.sessions().size());
                        }
                    }
                }
            } finally {
                dEmpty.close();
                dFull.close();
            }
        } finally {
            BenchHomes.cleanUp(root, options);
        }
        System.out.printf("load at end %s; failed turns: %d%n%n", Stats.load(), failures);
        System.out.println(Stats.header("interval (ms)", 48));
        List<String> names = new ArrayList<>(rows.rows.keySet());
        names.sort(java.util.Comparator.comparing((String n) -> n.substring(7)).thenComparing(n -> n));
        for (String name : names) {
            if (name.contains("stored") || name.contains("woken") || name.contains("Accepted")) {
                System.out.println(rows.rows.get(name).row(48));
            }
        }
        for (Stats s : List.of(startEmpty, startFull, listEmpty, listFull)) {
            System.out.println(s.row(48));
        }
        System.out.println();
        for (String name : List.of(
                "stored -> StartTurn written (lower)",
                "  stored -> woken (worker claims)",
                "  woken -> claimed",
                "  claimed -> StartTurn write begins",
                "Say sent -> Accepted received")) {
            System.out.printf(
                    Locale.ROOT,
                    "%-40s full / empty, median: %.2f%n",
                    name.strip(),
                    rows.row("full:  " + name).medianMillis()
                            / rows.row("empty: " + name).medianMillis());
        }
        System.out.printf(
                Locale.ROOT,
                "%-40s full / empty, median: %.2f%n%-40s full / empty, median: %.2f%n",
                "daemon start",
                startFull.medianMillis() / startEmpty.medianMillis(),
                "sessions list",
                listFull.medianMillis() / listEmpty.medianMillis());
    }

    /** One hibernated session: its chat, wiring, one message answered and delivered, its transcript. */
    private static void hibernated(Store store, Agent agent, int i) {
        String chatId = "chat-" + i;
        Chat chat = store.ensureChat("bench", chatId);
        store.wire(chat.id(), agent.id());
        Session session = store.ensureSession(agent.id(), chat.id(), "");
        InboundId in = store.storeInbound(
                        session.id(), chat.id(), new NewInbound("bench", chatId, "m1", "user", "hello"))
                .id();
        store.claimPending(session.id(), 1);
        store.completeTurn(
                        session.id(),
                        List.of(in),
                        List.of(ChatMessage.user("hello"), ChatMessage.assistant("hi")),
                        new Store.NewOutbound(chat.id(), in, "hi", false, "turn:fill-" + i))
                .ifPresent(out -> store.markDelivered(out, "p-" + chatId));
    }

    private static List<Boolean> order(Random random) {
        List<Boolean> order = new ArrayList<>(List.of(true, false));
        Collections.shuffle(order, random);
        return order;
    }

    /**
     * Fills a store with {@code n} hibernated sessions of the daemon's default agent, each with one
     * message answered and delivered, on tmpfs (SQLite's fsyncs cost nothing there), then moves
     * the file to {@code database}.
     */
    static void fill(Path database, int n) throws IOException {
        Path scratch = Files.createTempDirectory(Path.of("/dev/shm"), "cbfill");
        try {
            Path db = scratch.resolve("cordon.db");
            Store store = Stores.sqlite(db);
            try {
                Agent agent = store.ensureAgent(new AgentName(AGENT));
                // SQLite takes one writer at a time; a few threads keep it busy while others build
                // their next rows.
                AtomicInteger next = new AtomicInteger();
                try (ExecutorService pool = Executors.newFixedThreadPool(FILL_THREADS)) {
                    for (int t = 0; t < FILL_THREADS; t++) {
                        pool.submit(() -> {
                            for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                                hibernated(store, agent, i);
                            }
                            return null;
                        });
                    }
                }
            } finally {
                store.close();
            }
            Files.createDirectories(database.getParent());
            Files.copy(db, database, StandardCopyOption.REPLACE_EXISTING);
            for (String suffix : List.of("-wal", "-shm")) {
                Path side = scratch.resolve("cordon.db" + suffix);
                if (Files.exists(side)) {
                    Files.copy(
                            side, database.resolveSibling("cordon.db" + suffix), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } finally {
            ColdStart.deleteTree(scratch);
        }
    }
}
