package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditKeys;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.audit.AuditVerification;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.store.Stores;
import dev.cordon.testkit.FakeModelServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DESIGN.md invariant 6 under SIGKILL: a daemon in its own process, real sandboxes, the fake model
 * echoing, and chats that each send their messages one after another over the control socket (the
 * terminal channel), resending after a disconnect and recording every reply they are handed. The
 * daemon is killed with SIGKILL at random moments and restarted. In the end every message has
 * exactly one reply (a reply handed over twice carries the same outbound id: the platform's
 * idempotency key), in order per chat, and the audit chain verifies as one chain. The sandbox
 * cgroups each killed daemon left behind have been removed by the daemons after it.
 *
 * <p>Sizes: {@code -Dcordon.crash.chats=20 -Dcordon.crash.messages=50 -Dcordon.crash.kills=20} (the
 * defaults: 1,000 messages); the seed is printed and can be fixed with {@code -Dcordon.crash.seed}.
 */
class CrashSafetyTest {
    static final int CHATS = Integer.getInteger("cordon.crash.chats", 20);
    static final int MESSAGES = Integer.getInteger("cordon.crash.messages", 50);
    static final int KILLS = Integer.getInteger("cordon.crash.kills", 20);

    @TempDir
    Path home;

    FakeModelServer model;
    Process daemon;

    /** Replies the chats were handed: outbound id → [chat, inbound id it answers, text]. */
    final Map<Long, Object[]> replies = new ConcurrentHashMap<>();
    /** Inbound id of each sent message, by chat and index, as the daemon acknowledged it. */
    final Map<String, Map<Integer, Long>> accepted = new ConcurrentHashMap<>();

    final AtomicInteger handedTwice = new AtomicInteger();
    final AtomicInteger reconnects = new AtomicInteger();
    final Set<Long> killed = ConcurrentHashMap.newKeySet();
    final java.time.Instant started = java.time.Instant.now();
    volatile boolean done;

    @AfterEach
    void stop() {
        done = true;
        if (daemon != null) {
            daemon.destroyForcibly();
        }
        if (model != null) {
            model.close();
        }
        // Keep the run's logs for whoever reads a failure (the home is deleted after the test).
        try {
            Path kept = Files.createDirectories(Path.of("target", "crash-safety"));
            for (String log : List.of("daemon.log", "test.log")) {
                if (Files.exists(home.resolve(log))) {
                    Files.copy(home.resolve(log), kept.resolve(log), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            System.out.println("could not keep the logs: " + e);
        }
    }

    Process startDaemon() throws IOException {
        return DaemonProcesses.start(home, model);
    }

    boolean up() {
        return DaemonProcesses.up(home);
    }

    @Test
    void killedAtRandomMomentsTheDaemonLosesNoMessageAndRepliesToEachExactlyOnceInOrder() throws Exception {
        long seed = Long.getLong("cordon.crash.seed", System.nanoTime());
        System.out.println("CrashSafetyTest seed " + seed + " (rerun with -Dcordon.crash.seed=" + seed + ")");
        log("CrashSafetyTest seed " + seed + ": " + CHATS + " chats x " + MESSAGES + " messages, " + KILLS + " kills");
        Random random = new Random(seed);
        model = FakeModelServer.start();
        // No workspace quota: a killed daemon cannot unmount, and the test's home must be deletable.
        // 256 MiB a sandbox: all the chats' sandboxes fit under the admission memory cap (80 % of a
        // host's memory; 1 GiB each would queue chats behind each other on a 16 GiB host), so this
        // test measures crash safety, not admission (AdmissionEndToEndTest does that).
        Files.writeString(home.resolve("cordon.yaml"), "sandbox:\n  disk_mb: 0\n  memory_mb: 256\n");
        for (int c = 0; c < CHATS; c++) {
            Files.createDirectories(home.resolve("agents/chat" + c));
        }
        daemon = startDaemon();
        awaitUp();

        List<Thread> chats = new ArrayList<>();
        for (int c = 0; c < CHATS; c++) {
            String agent = "chat" + c;
            chats.add(Thread.ofVirtual().name(agent).start(() -> converse(agent)));
        }
        int total = CHATS * MESSAGES;
        for (int k = 0; k < KILLS; k++) {
            // Spread the kills over the run: each after a random share of the replies still due, then
            // a random moment (mid-turn, mid-delivery, between turns).
            int due = total - replies.size();
            int target = replies.size() + 1 + random.nextInt(Math.max(1, 2 * due / (KILLS - k + 1)));
            for (int i = 0; i < 1_200 && replies.size() < Math.min(target, total); i++) {
                Thread.sleep(50);
            }
            Thread.sleep(random.nextInt(300));
            daemon.destroyForcibly(); // SIGKILL
            assertThat(daemon.waitFor(30, TimeUnit.SECONDS)).isTrue();
            killed.add(daemon.pid());
            log("kill " + (k + 1) + " after " + replies.size() + " of " + total + " replies");
            daemon = startDaemon();
            awaitUp();
        }
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        for (Thread chat : chats) {
            chat.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        }
        List<String> unfinished = chats.stream()
                .filter(Thread::isAlive)
                .map(t -> t.getName() + " ("
                        + accepted.getOrDefault(t.getName(), Map.of()).size() + " of " + MESSAGES + " sent)")
                .toList();
        done = true;
        assertThat(unfinished)
                .as("chats still talking 10 minutes after the last kill; see target/crash-safety/")
                .isEmpty();
        daemon.destroy();
        daemon.waitFor(60, TimeUnit.SECONDS);

        // Every message: exactly one reply, saying what it answers, in order per chat.
        for (int c = 0; c < CHATS; c++) {
            String agent = "chat" + c;
            Map<Integer, Long> sent = accepted.get(agent);
            assertThat(sent).as(agent + ": every message was accepted").hasSize(MESSAGES);
            TreeMap<Long, Object[]> mine = new TreeMap<>();
            replies.forEach((outbound, r) -> {
                if (r[0].equals(agent)) {
                    mine.put(outbound, r);
                }
            });
            assertThat(mine.values().stream().map(r -> (Long) r[1]).toList())
                    .as(agent + ": one reply per message, in the order sent")
                    .containsExactlyElementsOf(sent.values().stream().sorted().toList());
            for (Map.Entry<Integer, Long> m : sent.entrySet()) {
                Object[] reply = mine.values().stream()
                        .filter(r -> r[1].equals(m.getValue()))
                        .findFirst()
                        .orElseThrow();
                assertThat((String) reply[2]).isEqualTo("You said: " + agent + " message " + m.getKey());
            }
        }
        System.out.println("replies handed over again after a crash (same outbound id): " + handedTwice.get());
        // A killed daemon never closes its sandboxes' cgroups; the daemons after it remove them.
        // (Groups made before this test are not its daemons', even where a pid was reused.)
        long groupsDeadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!sandboxGroupsOf(killed).isEmpty() && System.nanoTime() < groupsDeadline) {
            Thread.sleep(200);
        }
        assertThat(sandboxGroupsOf(killed))
                .as("cgroups of the killed daemons' sandboxes")
                .isEmpty();
        Home h = new Home(home);
        try (Store store = Stores.sqlite(h.database())) {
            AuditVerification verified =
                    AuditLogs.verify(store.audit(), AuditKeys.readPublicKey(AuditKeys.publicKeyFile(h.auditKey())));
            assertThat(verified.ok()).as(verified.toString()).isTrue();
        }
    }

    /** The sandbox cgroups made since the test started, in any hierarchy, whose id names one of {@code daemons}. */
    List<Path> sandboxGroupsOf(Set<Long> daemons) throws IOException {
        Pattern owned = Pattern.compile(".+-(\\d+)-\\d+");
        try (Stream<Path> tree = Files.walk(Path.of("/sys/fs/cgroup"), 8)) {
            return tree.filter(p -> p.getParent() != null
                            && p.getParent().getFileName() != null
                            && p.getParent().getFileName().toString().equals("cordon"))
                    .filter(p -> {
                        Matcher m = owned.matcher(p.getFileName().toString());
                        return m.matches() && daemons.contains(Long.parseLong(m.group(1))) && Files.isDirectory(p);
                    })
                    .filter(p -> {
                        try {
                            return !Files.getLastModifiedTime(p).toInstant().isBefore(started);
                        } catch (IOException e) {
                            return false; // gone
                        }
                    })
                    .toList();
        } catch (UncheckedIOException e) {
            // A group went away during the walk (a live daemon's sandbox closing): walk again.
            return List.of(Path.of("(walk again: " + e.getMessage() + ")"));
        }
    }

    void awaitUp() throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            if (up()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the daemon did not come up in 30 s; see " + home.resolve("daemon.log"));
    }

    /** Sends this chat's messages one after another, each after the reply to the one before. */
    void converse(String agent) {
        Map<Integer, Long> mine = accepted.computeIfAbsent(agent, a -> new ConcurrentHashMap<>());
        int next = 0;
        while (next < MESSAGES && !done) {
            try (ControlClient client = new ControlClient(home.resolve("run/control.sock"), false)) {
                // Replies to earlier messages may come at any moment (replayed after a restart, before
                // or after Attached and Accepted): every wait records every reply it passes.
                Set<Long> answered = new HashSet<>();
                client.send(new ControlRequest.Attach(agent, true));
                client.await(
                        ControlEvent.class,
                        e -> recorded(client, agent, e, answered) instanceof ControlEvent.Attached,
                        Duration.ofSeconds(30));
                while (next < MESSAGES) {
                    int index = next;
                    String id = agent + "-" + index;
                    client.send(new ControlRequest.Say(agent, id, agent + " message " + index));
                    ControlEvent.Accepted ok = (ControlEvent.Accepted) client.await(
                            ControlEvent.class,
                            e -> recorded(client, agent, e, answered) instanceof ControlEvent.Accepted a
                                    && a.clientMessageId().equals(id),
                            Duration.ofSeconds(60));
                    mine.put(index, ok.inboundId());
                    if (!answered.contains(ok.inboundId())) {
                        client.await(
                                ControlEvent.class,
                                e -> recorded(client, agent, e, answered) instanceof ControlEvent.Reply r
                                        && r.inReplyTo() == ok.inboundId(),
                                Duration.ofMinutes(2));
                    }
                    next++;
                }
            } catch (Exception | AssertionError e) {
                // The daemon went away: reconnect, resend the message not yet answered (stored once).
                if (!done && reconnects.incrementAndGet() % 50 == 1) {
                    log(agent + " reconnects after: " + e);
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    /** To {@code home/test.log} (surefire shows a test's stdout only at its end). */
    void log(String line) {
        try {
            Files.writeString(
                    home.resolve("test.log"),
                    java.time.Instant.now() + " " + line + "\n",
                    java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            // a log line is not worth failing the test
        }
    }

    /** Records {@code event} if it is a reply (adding what it answers to {@code answered}); returns it. */
    ControlEvent recorded(ControlClient client, String agent, ControlEvent event, Set<Long> answered) {
        if (event instanceof ControlEvent.Reply reply) {
            record(client, agent, reply);
            answered.add(reply.inReplyTo());
        }
        return event;
    }

    void record(ControlClient client, String agent, ControlEvent.Reply reply) {
        Object[] previous =
                replies.putIfAbsent(reply.outboundId(), new Object[] {agent, reply.inReplyTo(), reply.text()});
        if (previous != null) {
            handedTwice.incrementAndGet();
        }
        try {
            client.send(new ControlRequest.ReplyAck(reply.outboundId()));
        } catch (IOException e) {
            // unacknowledged: handed over again after the restart, and recorded once
        }
    }
}
