package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admission control with real sandboxes: 200 sessions (one per agent) asked at once on a host capped
 * at 20 live sandboxes and at 20 sandboxes' memory. Every one is answered, both caps hold at every
 * sample, and a waiting chat is told it is queued.
 */
class AdmissionEndToEndTest {
    static final int AGENTS = 200;
    static final int CAP = 20;
    static final long SANDBOX_MB = 256;

    @TempDir
    Path home;

    FakeModelServer model;
    Daemon daemon;

    @BeforeEach
    void start() throws Exception {
        model = FakeModelServer.start();
        Files.writeString(
                home.resolve("cordon.yaml"),
                "sandbox:\n  max_live: " + CAP + "\n  memory_mb: " + SANDBOX_MB + "\n  max_memory_mb: "
                        + CAP * SANDBOX_MB + "\n  disk_mb: 0\n"); // no quota image: 200 mkfs runs would dominate
        for (int i = 0; i < AGENTS; i++) {
            Files.createDirectories(home.resolve("agents/agent" + i)); // an agent is a folder of the home
        }
        daemon = EndToEndTest.startOn(home, model);
    }

    @AfterEach
    void stop() {
        daemon.close();
        model.close();
    }

    @Test
    void twoHundredSessionsAskedAtOnceUnderACapOfTwentyAreAllAnsweredAndTheCapsHold() throws Exception {
        for (int i = 0; i < AGENTS; i++) {
            model.enqueue(Scripted.text("answer"));
        }
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger mostLive = new AtomicInteger();
        AtomicInteger samples = new AtomicInteger();
        AtomicLong mostCommitted = new AtomicLong();
        AtomicLong mostUsed = new AtomicLong();
        Thread sampler = Thread.ofVirtual().start(() -> {
            while (running.get()) {
                try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                    client.send(new ControlRequest.SessionsList(0));
                    ControlEvent.SessionListing listing = client.await(ControlEvent.SessionListing.class);
                    long live = listing.sessions().stream()
                            .filter(r -> r.state().equals("busy") || r.state().equals("idle"))
                            .count();
                    mostLive.accumulateAndGet((int) Math.max(live, listing.live()), Math::max);
                    mostCommitted.accumulateAndGet(listing.committedBytes(), Math::max);
                    long used = listing.sessions().stream()
                            .mapToLong(r -> Math.max(0, r.memoryBytes()))
                            .sum();
                    mostUsed.accumulateAndGet(used, Math::max);
                    samples.incrementAndGet();
                    Thread.sleep(20);
                } catch (Exception e) {
                    return;
                }
            }
        });
        List<String> notices = new CopyOnWriteArrayList<>();
        List<CompletableFuture<ControlEvent.Reply>> replies = new ArrayList<>();
        for (int i = 0; i < AGENTS; i++) {
            String agent = "agent" + i;
            CompletableFuture<ControlEvent.Reply> reply = new CompletableFuture<>();
            replies.add(reply);
            Thread.ofVirtual().start(() -> {
                try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                    reply.complete(client.ask(agent, "hello", Duration.ofMinutes(15)));
                    client.seen.stream()
                            .filter(ControlEvent.Notice.class::isInstance)
                            .map(e -> ((ControlEvent.Notice) e).message())
                            .forEach(notices::add);
                } catch (Exception | AssertionError e) {
                    reply.completeExceptionally(e);
                }
            });
        }

        for (CompletableFuture<ControlEvent.Reply> reply : replies) {
            ControlEvent.Reply r = reply.get(15, TimeUnit.MINUTES);
            assertThat(r.failed()).as(r.text()).isFalse();
            assertThat(r.text()).isEqualTo("answer");
        }
        running.set(false);
        sampler.join();

        assertThat(samples.get()).isGreaterThan(5);
        assertThat(mostLive.get()).isBetween(1, CAP);
        // Memory stays bounded: what admission committed, and what the live sandboxes really used.
        assertThat(mostCommitted.get()).isBetween(SANDBOX_MB << 20, CAP * SANDBOX_MB << 20);
        assertThat(mostUsed.get()).isBetween(1L, CAP * SANDBOX_MB << 20);
        System.out.printf(
                "admission: %d sessions, cap %d: most live %d, most committed %d MiB, most used %d MiB, %d samples%n",
                AGENTS, CAP, mostLive.get(), mostCommitted.get() >> 20, mostUsed.get() >> 20, samples.get());
        assertThat(notices).anySatisfy(n -> assertThat(n).startsWith("queued: every sandbox slot"));
        assertThat(daemon.audit().read(0, 10_000))
                .filteredOn(e -> e.event().action().equals("sandbox.start"))
                .hasSize(AGENTS);
    }
}
