package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A runner that dies or hangs mid-turn, in a real sandbox: the turn starts over in a fresh sandbox
 * (up to three tries, with backoff), and fails with a clear message when every try dies. bash's
 * parent is the runner JVM, so {@code kill -9 $PPID} is the runner crashing and {@code kill -STOP
 * $PPID} is the runner hanging (its heartbeats stop). Another agent's session goes on meanwhile.
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
        Files.createDirectories(home.resolve("agents/other"));
        daemon = EndToEndTest.startOn(home, model);
    }

    @AfterEach
    void stop() {
        daemon.close();
        model.close();
    }

    ControlEvent.Reply ask(String text) throws Exception {
        return ask("main", text);
    }

    ControlEvent.Reply ask(String agent, String text) throws Exception {
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            return client.ask(agent, text);
        }
    }

    /** Asks main from another thread; the reply completes the future. */
    CompletableFuture<ControlEvent.Reply> askLater(String text) {
        CompletableFuture<ControlEvent.Reply> reply = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                reply.complete(ask(text));
            } catch (Exception | AssertionError e) {
                reply.completeExceptionally(e);
            }
        });
        return reply;
    }

    void awaitModelRequests(int n) throws InterruptedException {
        for (int i = 0; i < 1500 && model.requests().size() < n; i++) {
            Thread.sleep(20);
        }
        assertThat(model.requests()).hasSizeGreaterThanOrEqualTo(n);
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
    void whileOneAgentsRunnerHangsAnotherAgentsSessionIsAnswered() throws Exception {
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"kill -STOP $PPID\"}"),
                Scripted.text("Other is fine."),
                Scripted.text("Awake again."));
        CompletableFuture<ControlEvent.Reply> hung = askLater("freeze please");
        awaitModelRequests(1);

        // Scripts go out in order: "Other is fine." reaching the other agent shows it was answered
        // before main's retry (5 s of silence, then 1 s of backoff) asked again.
        assertThat(ask("other", "are you well?").text()).isEqualTo("Other is fine.");
        assertThat(hung.get(60, TimeUnit.SECONDS).text()).isEqualTo("Awake again.");
        assertThat(audited("sandbox.kill"))
                .singleElement()
                .satisfies(e -> assertThat(e.rule()).isEqualTo("runner.heartbeat"));
    }

    @Test
    void aMemoryBombFailsItsOwnTurnAndLeavesAnotherAgentsLiveSandboxRunning() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), "sandbox:\n  memory_mb: 96\n");
        model.enqueue(
                Scripted.text("Other here."),
                Scripted.toolCall("bash", "{\"command\":\"x=a; while true; do x=$x$x; done\"}"),
                Scripted.text("Other still here."),
                Scripted.text("Main recovered."));

        assertThat(ask("other", "hello").text()).isEqualTo("Other here.");
        ControlEvent.Reply bombed = ask("allocate everything");
        assertThat(ask("other", "still there?").text()).isEqualTo("Other still here.");

        assertThat(bombed.failed()).isTrue();
        assertThat(bombed.text()).contains("went over its memory limit");
        // A limit the agent hit is its own doing: no retry, and only main's sandbox was replaced.
        assertThat(audited("turn.retry")).isEmpty();
        assertThat(audited("sandbox.start")).hasSize(2);
        assertThat(ask("and you?").text()).isEqualTo("Main recovered.");
        assertThat(audited("sandbox.start")).hasSize(3);
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
        CompletableFuture<ControlEvent.Reply> reply = askLater("sleep a minute");
        ControlEvent.SessionListing busy = null;
        for (int i = 0; i < 300; i++) {
            try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                client.send(new ControlRequest.SessionsList(5));
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
            client.send(new ControlRequest.SessionsKill(session));
            assertThat(client.await(ControlEvent.AccessAnswer.class)).isInstanceOf(ControlEvent.Done.class);
        }

        ControlEvent.Reply killed = reply.get(60, TimeUnit.SECONDS);
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
        model.enqueue(Scripted.text("Finished during the stop.").stallBefore(Duration.ofSeconds(3)));
        CompletableFuture<ControlEvent.Reply> reply = askLater("take your time");
        awaitModelRequests(1);

        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.Stop());
            client.await(ControlEvent.Stopping.class);
        }

        ControlEvent.Reply finished = reply.get(30, TimeUnit.SECONDS);
        assertThat(finished.failed()).as(finished.text()).isFalse();
        assertThat(finished.text()).isEqualTo("Finished during the stop.");
        daemon.awaitStop();
        assertThat(model.requests()).hasSize(1);
    }
}
