package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A runner that dies or hangs mid-turn, in a real sandbox: the turn starts over in a fresh sandbox
 * (up to three tries, with backoff), and fails with a clear message when every try dies. bash's
 * parent is the runner JVM, so {@code kill -9 $PPID} is the runner crashing and {@code kill -STOP
 * $PPID} is the runner hanging (its heartbeats stop).
 */
class RunnerRecoveryTest {
    @TempDir
    Path home;

    FakeModelServer model;
    Daemon daemon;

    @BeforeEach
    void start() throws Exception {
        model = FakeModelServer.start();
        // Hangs are found after 5 s of silence here (30 s by default).
        Files.writeString(home.resolve("cordon.yaml"), "runner:\n  heartbeat_timeout_seconds: 5\n");
        daemon = EndToEndTest.startOn(home, model);
    }

    @AfterEach
    void stop() {
        daemon.close();
        model.close();
    }

    ControlEvent.Reply ask(String text) throws Exception {
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            return client.ask("main", text);
        }
    }

    List<AuditEvent> audited(String action) {
        return daemon.audit().read(0, 10_000).stream()
                .map(AuditEntry::event)
                .filter(e -> e.action().equals(action))
                .toList();
    }

    @Test
    void aRunnerThatDiesMidTurnIsReplacedAndTheTurnStartsOverInAFreshSandbox() throws Exception {
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"kill -9 $PPID; sleep 5\"}"), Scripted.text("Recovered."));

        ControlEvent.Reply reply = ask("crash please");

        assertThat(reply.failed()).as(reply.text()).isFalse();
        assertThat(reply.text()).isEqualTo("Recovered.");
        assertThat(audited("turn.retry")).singleElement().satisfies(e -> {
            assertThat(e.details()).containsEntry("attempt", 2L);
            assertThat(e.reason()).contains("exited with status");
        });
        assertThat(audited("sandbox.start")).hasSize(2);
        // The retry started from the user's message, not from the broken attempt's tool call.
        assertThat(model.requests().getLast().body().path("messages")).hasSize(1);
    }

    @Test
    void aTurnWhoseEveryTryDiesFailsWithAMessageAndTheNextMessageStillWorks() throws Exception {
        Scripted crash = Scripted.toolCall("bash", "{\"command\":\"kill -9 $PPID; sleep 5\"}");
        model.enqueue(crash, crash, crash, Scripted.text("Back again."));

        ControlEvent.Reply failed = ask("crash three times");

        assertThat(failed.failed()).isTrue();
        assertThat(failed.text()).contains("The agent's sandbox stopped during the turn 3 times");
        assertThat(audited("turn.retry")).hasSize(2);
        assertThat(ask("are you there?").text()).isEqualTo("Back again.");
    }

    @Test
    void aHungRunnerIsKilledWhenItsHeartbeatsStopAndTheTurnIsRetried() throws Exception {
        model.enqueue(Scripted.toolCall("bash", "{\"command\":\"kill -STOP $PPID\"}"), Scripted.text("Awake again."));

        ControlEvent.Reply reply = ask("freeze please");

        assertThat(reply.text()).isEqualTo("Awake again.");
        assertThat(audited("sandbox.kill")).singleElement().satisfies(e -> {
            assertThat(e.rule()).isEqualTo("runner.heartbeat");
            assertThat(e.reason()).contains("not even a heartbeat, for 5.0 s");
        });
        assertThat(audited("turn.retry")).hasSize(1);
    }

    @Test
    void aLongToolCallIsNotAHangWhileTheRunnerKeepsSendingHeartbeats() throws Exception {
        // Twice the heartbeat timeout, with no other word from the runner.
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"sleep 11 && echo slept\"}"), Scripted.text("Done waiting."));

        ControlEvent.Reply reply = ask("wait a bit");

        assertThat(reply.text()).isEqualTo("Done waiting.");
        assertThat(audited("sandbox.kill")).isEmpty();
        assertThat(audited("turn.retry")).isEmpty();
    }

    @Test
    void aSessionTheOwnerKillsFailsItsTurnWithoutARetryAndTheNextMessageStartsAFreshSandbox() throws Exception {
        model.enqueue(Scripted.toolCall("bash", "{\"command\":\"sleep 60\"}"), Scripted.text("Fresh start."));
        java.util.concurrent.CompletableFuture<ControlEvent.Reply> reply =
                new java.util.concurrent.CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                reply.complete(ask("sleep a minute"));
            } catch (Exception | AssertionError e) {
                reply.completeExceptionally(e);
            }
        });
        ControlEvent.SessionListing busy = null;
        for (int i = 0; i < 300; i++) {
            try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                client.send(new dev.cordon.protocol.control.ControlRequest.SessionsList(5));
                busy = client.await(ControlEvent.SessionListing.class);
            }
            if (busy.sessions().stream().anyMatch(r -> r.state().equals("busy"))
                    && model.requests().size() == 1) {
                break;
            }
            Thread.sleep(50);
        }
        long session = busy.sessions().getFirst().session();

        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new dev.cordon.protocol.control.ControlRequest.SessionsKill(session));
            assertThat(client.await(ControlEvent.AccessAnswer.class)).isInstanceOf(ControlEvent.Done.class);
        }

        ControlEvent.Reply killed = reply.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(killed.failed()).isTrue();
        assertThat(killed.text()).contains("stopped by terminal:owner");
        assertThat(audited("turn.retry")).isEmpty();
        assertThat(audited("sandbox.kill"))
                .singleElement()
                .satisfies(e -> assertThat(e.rule()).isEqualTo("operator"));
        assertThat(ask("hello again").text()).isEqualTo("Fresh start.");
    }

    @Test
    void aGracefulStopLetsTheTurnInProgressFinishAndDeliverItsReply() throws Exception {
        model.enqueue(Scripted.text("Finished during the stop.").stallBefore(java.time.Duration.ofSeconds(3)));
        java.util.concurrent.CompletableFuture<ControlEvent.Reply> reply =
                new java.util.concurrent.CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                reply.complete(ask("take your time"));
            } catch (Exception | AssertionError e) {
                reply.completeExceptionally(e);
            }
        });
        for (int i = 0; i < 600 && model.requests().isEmpty(); i++) {
            Thread.sleep(20);
        }

        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new dev.cordon.protocol.control.ControlRequest.Stop());
            client.await(ControlEvent.Stopping.class);
        }

        ControlEvent.Reply finished = reply.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(finished.failed()).as(finished.text()).isFalse();
        assertThat(finished.text()).isEqualTo("Finished during the stop.");
        daemon.awaitStop();
        assertThat(model.requests()).hasSize(1);
    }
}
