package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admission control with real sandboxes: many agents asked at once on a host capped at two live
 * sandboxes. Every one is answered, the cap holds at every sample, and a waiting chat is told it is
 * queued.
 */
class AdmissionEndToEndTest {
    static final int AGENTS = 10;
    static final int CAP = 2;

    @TempDir
    Path home;

    FakeModelServer model;
    Daemon daemon;

    @BeforeEach
    void start() throws Exception {
        model = FakeModelServer.start();
        Files.writeString(home.resolve("cordon.yaml"), "sandbox:\n  max_live: " + CAP + "\n");
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
    void tenAgentsAskedAtOnceUnderACapOfTwoAreAllAnsweredAndTheCapHolds() throws Exception {
        for (int i = 0; i < AGENTS; i++) {
            model.enqueue(Scripted.text("answer"));
        }
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger mostLive = new AtomicInteger();
        AtomicInteger samples = new AtomicInteger();
        Thread sampler = Thread.ofVirtual().start(() -> {
            while (running.get()) {
                try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                    client.send(new ControlRequest.SessionsList(0));
                    ControlEvent.SessionListing listing = client.await(ControlEvent.SessionListing.class);
                    long live = listing.sessions().stream()
                            .filter(r -> r.state().equals("busy") || r.state().equals("idle"))
                            .count();
                    mostLive.accumulateAndGet((int) Math.max(live, listing.live()), Math::max);
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
                    reply.complete(client.ask(agent, "hello"));
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
            ControlEvent.Reply r = reply.get(3, TimeUnit.MINUTES);
            assertThat(r.failed()).as(r.text()).isFalse();
            assertThat(r.text()).isEqualTo("answer");
        }
        running.set(false);
        sampler.join();

        assertThat(samples.get()).isGreaterThan(5);
        assertThat(mostLive.get()).isBetween(1, CAP);
        assertThat(notices).anySatisfy(n -> assertThat(n).startsWith("queued: every sandbox slot"));
        assertThat(daemon.audit().read(0, 10_000))
                .filteredOn(e -> e.event().action().equals("sandbox.start"))
                .hasSize(AGENTS);
    }
}
