package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.approval.Answer;
import dev.cordon.core.approval.Approval;
import dev.cordon.core.approval.ApprovalService;
import dev.cordon.core.approval.Approvers;
import dev.cordon.core.approval.Scheduler;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.budget.Budgets;
import dev.cordon.core.budget.Prices;
import dev.cordon.core.channel.Delivery;
import dev.cordon.core.file.FileVault;
import dev.cordon.core.session.Admission;
import dev.cordon.core.session.AgentSetup;
import dev.cordon.core.session.SessionManager;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.ModelSettings;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.Usage;
import dev.cordon.store.Stores;
import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A turn whose runner asks for approval: the request reaches the approval service, the decision
 * reaches the runner, the turn keeps reading meanwhile, and the tool watchdog does not kill a
 * sandbox that waits on a person. The runner is a fake speaking the real protocol records (the real
 * runner asks for approvals once the policy branch lands); store, audit log and timers are real.
 * The files a turn's messages carry go to the same fake runner before the turn starts.
 */
class ApprovalTurnTest {
    /** Far shorter than any wait on a person in the watchdog test. */
    static final Duration SHORT_TOOL_TIMEOUT = Duration.ofMillis(300);

    @TempDir
    Path dir;

    ScheduledExecutorService timer;
    final BlockingQueue<FakeRunner> launched = new LinkedBlockingQueue<>();
    Store store;
    AuditLog audit;
    ApprovalService approvals;
    SessionManager sessions;
    Session session;
    Chat chat;

    Duration toolTimeout = Duration.ofMinutes(5);

    void start(Duration approvalTimeout) {
        timer = Executors.newSingleThreadScheduledExecutor();
        store = Stores.sqlite(dir.resolve("cordon.db"));
        audit = AuditLogs.open(store.audit(), dir.resolve("audit-key"));
        approvals = ApprovalService.create(
                store,
                audit,
                Approvers.ownerOnly(),
                Scheduler.of(timer, Clock.systemUTC()),
                Clock.systemUTC(),
                approvalTimeout,
                new ApprovalService.Listener() {});
        sessions = new SessionManager(
                store,
                (agent, s) -> {
                    FakeRunner runner = new FakeRunner(onStart);
                    launched.add(runner);
                    return runner;
                },
                (agent, model, request, meter, sink) -> {
                    throw new IllegalStateException("no model calls in this test");
                },
                (agent, s, connection) -> {
                    throw new IllegalStateException("no egress in this test");
                },
                agent -> new AgentSetup("system", new ModelSettings(ModelApi.ANTHROPIC, "m", 100), null, toolTimeout),
                new Delivery(store, List.of(), audit, Clock.systemUTC(), timer),
                timer,
                Duration.ofMinutes(10),
                SessionManager.DEFAULT_HEARTBEAT_TIMEOUT,
                audit,
                approvals,
                new Budgets(store.ledger(), Prices.of(Map.of()), audit, Clock.systemUTC(), Budgets.Listener.NONE),
                new Admission(8, 1L << 40),
                Clock.systemUTC(),
                dev.cordon.core.session.HostTools.NONE);
        Agent ada = store.ensureAgent(new AgentName("ada"));
        chat = store.ensureChat("test", "c1");
        store.wire(chat.id(), ada.id());
        session = store.ensureSession(ada.id(), chat.id(), "");
    }

    @BeforeEach
    void startWithTheDefaultTimeout() {
        start(Duration.ofMinutes(10));
    }

    @AfterEach
    void stop() {
        sessions.close();
        approvals.close();
        timer.shutdownNow();
        audit.close();
        store.close();
    }

    /**
     * Like {@link #turn()}, and {@code first} is what the runner says as soon as the turn starts (given
     * the turn's id), queued before the host reads again: no time passes in between however loaded
     * the machine is.
     */
    FakeRunner turn(Function<String, RunnerMessage> first) throws InterruptedException {
        onStart = first;
        return turn();
    }

    volatile Function<String, RunnerMessage> onStart;

    /** Stores a message, wakes the session, and returns the runner with the turn it was sent. */
    FakeRunner turn() throws InterruptedException {
        store.storeInbound(session.id(), chat.id(), new NewInbound("test", "c1", "m1", "u1", "clean up"));
        sessions.wake(session.id());
        FakeRunner runner = launched.poll(30, TimeUnit.SECONDS);
        assertThat(runner).as("a runner was launched").isNotNull();
        runner.startTurn = (HostMessage.StartTurn) runner.next();
        return runner;
    }

    static RunnerMessage.ApprovalRequest ask(String requestId, String turnId, String command) {
        return new RunnerMessage.ApprovalRequest(
                requestId, turnId, "tool.bash", "run " + command, Map.of("command", command));
    }

    List<AuditEvent> audited(String action) {
        return audit.read(0, 1000).stream()
                .map(AuditEntry::event)
                .filter(e -> e.action().equals(action))
                .toList();
    }

    @Test
    void aTurnsFilesGoToTheRunnerFirstAndOnlyAFailureReportedForASentFileIsAudited() throws Exception {
        FileVault vault = new FileVault(dir.resolve("files"));
        sessions.filesFrom(vault);
        byte[] bytes = "hello".getBytes(StandardCharsets.UTF_8);
        FileVault.Blob blob = vault.put(Channels.newChannel(new ByteArrayInputStream(bytes)), 100);
        InboundId id = store.storeInbound(
                        session.id(),
                        chat.id(),
                        new NewInbound("test", "c1", "m1", "u1", "see the file"),
                        List.of(new Store.ReceivedFile("a.txt", "text/plain", 5, blob.sha256(), null)))
                .id();
        String path = "inbox/" + id.value() + "/a.txt";

        sessions.wake(session.id());
        FakeRunner runner = launched.poll(30, TimeUnit.SECONDS);
        assertThat(runner).as("a runner was launched").isNotNull();

        assertThat(runner.next()).usingRecursiveComparison().isEqualTo(new HostMessage.PutFile(path, 0, bytes, true));
        HostMessage.StartTurn start = (HostMessage.StartTurn) runner.next();
        assertThat(start.transcript().getLast().text())
                .isEqualTo("see the file\n\n[Files sent with this message:\n- /workspace/" + path
                        + " (text/plain, 5 bytes)]");
        runner.say(new RunnerMessage.FileWritten("inbox/999/forged.txt", "made up"));
        runner.say(new RunnerMessage.FileWritten(path, "No space left on device"));
        runner.say(new RunnerMessage.FileWritten(path, "and again"));
        runner.say(new RunnerMessage.TurnEnded(start.turnId(), "done", null, Usage.ZERO));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> !store.undelivered(chat.id()).isEmpty());

        assertThat(audited(AuditActions.INBOUND_FILE_MISSED)).singleElement().satisfies(e -> {
            assertThat(e.reason()).isEqualTo("the sandbox could not write it: No space left on device");
            assertThat(e.details()).containsEntry("path", path);
        });
        assertThat(store.transcript(session.id()).getLast().text())
                .as("the model reads next turn that the file it was told of is not there")
                .contains("did not reach the workspace: /workspace/" + path
                        + " (the sandbox could not write it: No space left on device)")
                .doesNotContain("forged.txt");
    }

    @Test
    void theOwnersGrantReachesTheRunnerAndTheTurnKeepsReadingWhileItWaits() throws Exception {
        FakeRunner runner = turn();
        String turnId = runner.startTurn.turnId();
        runner.say(ask("r1", turnId, "rm -rf build/"));
        // A second question while the first waits: only a loop that keeps reading gets to it.
        runner.say(ask("r2", turnId, "make"));
        await().atMost(Duration.ofSeconds(30)).until(() -> approvals.pending().size() == 2);
        Approval first = approvals.pending().getFirst();
        assertThat(first.payload()).isEqualTo(Map.of("command", "rm -rf build/"));
        assertThat(first.session()).isEqualTo(session.id());
        assertThat(first.chat()).isEqualTo(chat.id());

        approvals.answer(first.id(), Approvers.OWNER, new Answer.Grant(Approval.Scope.SESSION, 0, null, null));

        assertThat(runner.next())
                .isEqualTo(new HostMessage.ApprovalDecision("r1", true, "approved by terminal:owner for this session"));
        approvals.answer(approvals.pending().getFirst().id(), Approvers.OWNER, new Answer.Deny("not now"));
        assertThat(runner.next())
                .isEqualTo(new HostMessage.ApprovalDecision("r2", false, "denied by terminal:owner: not now"));

        runner.say(ask("r3", turnId, "rm -rf build/"));
        assertThat(runner.next())
                .as("the session grant decides the same command again without asking")
                .isEqualTo(new HostMessage.ApprovalDecision(
                        "r3", true, "approved by terminal:owner for this session (grant #1)"));
        runner.say(new RunnerMessage.TurnEnded(turnId, "done", null, Usage.ZERO));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> !store.undelivered(chat.id()).isEmpty());
        assertThat(runner.killedBecause).isNull();
    }

    @Test
    void theToolWatchdogDoesNotKillASandboxWhileItWaitsOnAPersonButDoesOnceAnswered() throws Exception {
        stop();
        toolTimeout = SHORT_TOOL_TIMEOUT;
        start(Duration.ofMinutes(10));
        FakeRunner runner = turn(turnId -> ask("r1", turnId, "rm -rf build/"));
        await().atMost(Duration.ofSeconds(30)).until(() -> approvals.pending().size() == 1);

        // Ten tool timeouts pass while the person thinks. A watchdog that kept counting kills at the first.
        Thread.sleep(SHORT_TOOL_TIMEOUT.multipliedBy(10).toMillis());
        assertThat(runner.killedBecause).isNull();
        assertThat(audited(AuditActions.SANDBOX_KILL)).isEmpty();

        approvals.answer(
                approvals.pending().getFirst().id(),
                Approvers.OWNER,
                new Answer.Grant(Approval.Scope.ONCE, 0, null, null));
        assertThat(runner.next()).isInstanceOf(HostMessage.ApprovalDecision.class);

        // The clock runs again: a runner silent after the answer is a stuck tool, and is killed.
        await().atMost(Duration.ofSeconds(30)).until(() -> runner.killedBecause != null);
        assertThat(runner.killedBecause).contains("sandbox.tool_timeout_seconds");
    }

    @Test
    void nobodyAnsweringDeniesTheRunnerWhenTheTimeoutPasses() throws Exception {
        stop();
        start(Duration.ofSeconds(1));
        FakeRunner runner = turn();

        runner.say(ask("r1", runner.startTurn.turnId(), "rm -rf build/"));

        assertThat(runner.next())
                .isEqualTo(new HostMessage.ApprovalDecision("r1", false, "expired after 1 s without an answer"));
        assertThat(audited(AuditActions.APPROVAL_EXPIRE)).hasSize(1);
    }

    @Test
    void aMalformedRequestIsRefusedWithTheReasonAndAuditedWithoutAskingAnyone() throws Exception {
        FakeRunner runner = turn();
        String turnId = runner.startTurn.turnId();

        runner.say(new RunnerMessage.ApprovalRequest("r1", turnId, "Tool.Bash", "run", Map.of("command", "ls")));
        HostMessage.ApprovalDecision bad = (HostMessage.ApprovalDecision) runner.next();
        runner.say(new RunnerMessage.ApprovalRequest("r2", "s1-m999", "tool.bash", "run", Map.of("command", "ls")));
        HostMessage.ApprovalDecision otherTurn = (HostMessage.ApprovalDecision) runner.next();
        runner.say(new RunnerMessage.ApprovalRequest(
                "r3", turnId, "tool.bash", "run", Map.of("command", "x".repeat(70_000))));
        HostMessage.ApprovalDecision huge = (HostMessage.ApprovalDecision) runner.next();

        assertThat(bad.granted()).isFalse();
        assertThat(bad.reason())
                .startsWith("refused by the host without asking anyone: approval kind 'Tool.Bash' is not lowercase");
        assertThat(otherTurn.reason()).contains("names turn s1-m999 but the current turn is " + turnId);
        assertThat(huge.reason()).contains("approval payload is 70007 characters long; at most 65536");
        assertThat(approvals.pending()).isEmpty();
        assertThat(audited(AuditActions.APPROVAL_INVALID)).hasSize(3);
    }

    /** The host's end of a runner that says what the test tells it to. */
    static final class FakeRunner extends QueuedRunnerLink {
        final BlockingQueue<HostMessage> fromHost = new LinkedBlockingQueue<>();
        volatile HostMessage.StartTurn startTurn;
        private final Function<String, RunnerMessage> onStart;

        FakeRunner(Function<String, RunnerMessage> onStart) {
            this.onStart = onStart;
        }

        /** The next message the host sent, waiting up to 30 s for it. */
        HostMessage next() throws InterruptedException {
            HostMessage m = fromHost.poll(30, TimeUnit.SECONDS);
            assertThat(m).as("a message from the host").isNotNull();
            return m;
        }

        @Override
        public void send(HostMessage message) {
            fromHost.add(message);
            if (message instanceof HostMessage.StartTurn start && onStart != null) {
                say(onStart.apply(start.turnId()));
            }
        }
    }
}
