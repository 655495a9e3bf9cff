package dev.cordon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.approval.Answer;
import dev.cordon.core.approval.AnswerResult;
import dev.cordon.core.approval.Approval;
import dev.cordon.core.approval.ApprovalId;
import dev.cordon.core.approval.ApprovalRequest;
import dev.cordon.core.approval.ApprovalService;
import dev.cordon.core.approval.Approvers;
import dev.cordon.core.approval.Outcome;
import dev.cordon.core.approval.Ticket;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditKeys;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.store.Store;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The approval service on a real SQLite store and a real audit log, with time moved by hand. */
class ApprovalServiceTest {
    static final Instant START = Instant.parse("2030-01-02T03:04:05Z");
    static final Duration TIMEOUT = Duration.ofMinutes(10);
    static final Map<String, String> RM = Map.of("command", "rm -rf build/", "timeout", "120");

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(START);
    final ManualScheduler scheduler = new ManualScheduler();
    final List<String> heard = new CopyOnWriteArrayList<>();
    Approvers approvers = Approvers.ownerOnly();
    KeyPair keys;
    Store store;
    AuditLog audit;
    ApprovalService approvals;
    Agent ada;
    Session session;
    Chat chat;

    @BeforeEach
    void open() {
        keys = AuditKeys.loadOrCreate(dir.resolve("audit-key"));
        start();
        ada = store.ensureAgent(new AgentName("ada"));
        chat = store.ensureChat("terminal", "ada");
        session = store.ensureSession(ada.id(), chat.id(), "");
    }

    void start() {
        store = Stores.sqlite(dir.resolve("cordon.db"), clock);
        audit = AuditLogs.open(store.audit(), keys, AuditLogs.Settings.DEFAULTS, clock);
        approvals = ApprovalService.create(
                store,
                audit,
                (who, agent) -> approvers.mayApprove(who, agent),
                scheduler,
                clock,
                TIMEOUT,
                new ApprovalService.Listener() {
                    @Override
                    public void requested(Approval a) {
                        heard.add("requested " + a.id());
                    }

                    @Override
                    public void decided(Approval a) {
                        heard.add("decided " + a.id() + " " + a.status());
                    }
                });
    }

    /** Everything stops as in a daemon stop; the files stay. */
    void stop() {
        approvals.close();
        audit.close();
        store.close();
    }

    void restart() {
        stop();
        start();
    }

    @AfterEach
    void close() {
        stop();
    }

    Ticket request(Map<String, String> payload) {
        return approvals.request(
                new ApprovalRequest(ada.id(), session.id(), chat.id(), "tool.bash", "run a command", payload, TIMEOUT));
    }

    List<AuditEvent> audited(String action) {
        return audit.read(0, 1000).stream()
                .map(AuditEntry::event)
                .filter(e -> e.action().equals(action))
                .toList();
    }

    @Test
    void aRequestIsStoredAndAuditedWithItsPayloadAndCompletesWhenTheOwnerGrants() {
        Ticket ticket = request(RM);

        assertThat(ticket.asked()).isTrue();
        assertThat(ticket.outcome()).isNotDone();
        Approval pending = approvals.find(ticket.id()).orElseThrow();
        assertThat(pending.status()).isEqualTo(Approval.Status.PENDING);
        assertThat(pending.payload()).isEqualTo(RM);
        assertThat(approvals.pending()).containsExactly(pending);
        AuditEvent asked = audited(AuditActions.APPROVAL_REQUEST).getFirst();
        assertThat(asked.agent()).isEqualTo(ada.name());
        assertThat(asked.session()).isEqualTo(session.id());
        assertThat(asked.details())
                .containsEntry("payload", "{\"command\":\"rm -rf build/\",\"timeout\":\"120\"}")
                .containsEntry("kind", "tool.bash");
        assertThat(heard).containsExactly("requested " + ticket.id());

        AnswerResult result =
                approvals.answer(ticket.id(), Approvers.OWNER, new Answer.Grant(Approval.Scope.SESSION, 0, null, null));

        assertThat(result).isInstanceOf(AnswerResult.Decided.class);
        assertThat(ticket.outcome().join())
                .isEqualTo(new Outcome(ticket.id(), true, "approved by terminal:owner for this session"));
        AuditEvent answered = audited(AuditActions.APPROVAL_ANSWER).getFirst();
        assertThat(answered.actor()).isEqualTo(AuditEvent.Actor.user("terminal:owner"));
        assertThat(answered.decision()).isEqualTo(AuditEvent.Decision.ALLOW);
        assertThat(answered.rule()).isEqualTo("approval.session");
        assertThat(approvals.pending()).isEmpty();
        assertThat(scheduler.armed()).isZero();
    }

    @Test
    void aSessionGrantDecidesTheSameRequestWithoutAskingAndEachUseIsAudited() {
        Ticket first = request(RM);
        approvals.answer(first.id(), Approvers.OWNER, new Answer.Grant(Approval.Scope.SESSION, 3, null, null));

        Ticket second = request(RM);
        Ticket third = request(RM);
        Ticket fourth = request(RM);

        assertThat(second.asked()).isFalse();
        assertThat(second.outcome().join().granted()).isTrue();
        assertThat(second.outcome().join().reason())
                .isEqualTo("approved by terminal:owner for this session (grant #1, use 2 of 3)");
        assertThat(third.outcome().join().granted()).isTrue();
        assertThat(fourth.asked()).as("three uses of three are spent").isTrue();
        assertThat(audited(AuditActions.APPROVAL_USE)).hasSize(2);

        Ticket other = request(Map.of("command", "rm -rf build/ ", "timeout", "120"));
        assertThat(other.asked()).as("one space more is another command").isTrue();
    }

    @Test
    void aPendingApprovalSurvivesARestartIsAnswerableAndIsHonouredOnceThenAskedAgain() {
        Ticket before = request(RM);

        restart();

        assertThat(before.outcome().join().granted())
                .as("whoever waited in the old process is told it stopped")
                .isFalse();
        assertThat(approvals.pending()).extracting(Approval::id).containsExactly(before.id());
        assertThat(approvals.answer(before.id(), Approvers.OWNER, new Answer.Grant(Approval.Scope.ONCE, 0, null, null)))
                .isInstanceOf(AnswerResult.Decided.class);
        assertThat(approvals.find(before.id()).orElseThrow().uses())
                .as("nobody waited, so the one use is kept for the retried request")
                .isZero();

        restart();

        Ticket retried = request(RM);
        assertThat(retried.asked()).isFalse();
        assertThat(retried.outcome().join())
                .isEqualTo(new Outcome(before.id(), true, "approved by terminal:owner once (grant #1, use 1 of 1)"));
        Ticket after = request(RM);
        assertThat(after.asked()).as("once means once").isTrue();
        assertThat(after.id()).isNotEqualTo(before.id());
    }

    @Test
    void anExpiredGrantIsRefusedAndTheRequestIsAskedAgain() {
        Ticket first = request(RM);
        approvals.answer(
                first.id(),
                Approvers.OWNER,
                new Answer.Grant(Approval.Scope.ALWAYS, 0, Duration.ofHours(1), "for the build"));
        assertThat(first.outcome().join().reason())
                .isEqualTo("approved by terminal:owner for every matching request of this agent: for the build");
        clock.advance(Duration.ofMinutes(59));
        assertThat(request(RM).asked()).isFalse();

        clock.advance(Duration.ofMinutes(1));

        assertThat(request(RM).asked()).isTrue();
    }

    @Test
    void anAlreadyDecidedOrExpiredApprovalCannotBeAnsweredAgain() {
        Ticket denied = request(RM);
        approvals.answer(denied.id(), Approvers.OWNER, new Answer.Deny("not on a Friday"));
        assertThat(denied.outcome().join())
                .isEqualTo(new Outcome(denied.id(), false, "denied by terminal:owner: not on a Friday"));

        assertThat(approvals.answer(denied.id(), Approvers.OWNER, new Answer.Grant(Approval.Scope.ONCE, 0, null, null)))
                .isInstanceOf(AnswerResult.AlreadyDecided.class);

        Ticket late = request(Map.of("command", "ls"));
        clock.advance(TIMEOUT);
        // The timer has not run yet; the deadline still holds.
        assertThat(approvals.answer(late.id(), Approvers.OWNER, new Answer.Grant(Approval.Scope.ONCE, 0, null, null)))
                .isInstanceOf(AnswerResult.Expired.class);
        assertThat(late.outcome().join().granted()).isFalse();
        assertThat(approvals.answer(new ApprovalId(99), Approvers.OWNER, new Answer.Deny(null)))
                .isInstanceOf(AnswerResult.Unknown.class);
    }

    @Test
    void aNonApproversAnswerIsIgnoredAndAudited() {
        approvers = (who, agent) -> who.equals(Approvers.OWNER);
        Ticket ticket = request(RM);

        AnswerResult result =
                approvals.answer(ticket.id(), "telegram:4711", new Answer.Grant(Approval.Scope.ALWAYS, 0, null, null));

        assertThat(result).isInstanceOf(AnswerResult.Ignored.class);
        assertThat(ticket.outcome()).isNotDone();
        assertThat(approvals.find(ticket.id()).orElseThrow().status()).isEqualTo(Approval.Status.PENDING);
        AuditEvent ignored = audited(AuditActions.APPROVAL_IGNORED).getFirst();
        assertThat(ignored.actor()).isEqualTo(AuditEvent.Actor.user("telegram:4711"));
        assertThat(ignored.decision()).isEqualTo(AuditEvent.Decision.DENY);
        assertThat(ignored.reason()).isEqualTo("telegram:4711 may not approve requests of agent ada");
        assertThat(audited(AuditActions.APPROVAL_ANSWER)).isEmpty();

        approvals.answer(ticket.id(), Approvers.OWNER, new Answer.Deny(null));
        assertThat(ticket.outcome().join().reason()).isEqualTo("denied by terminal:owner");
    }

    @Test
    void nobodyAnsweringDeniesAtTheTimeoutAndTheExpiryIsAudited() {
        Ticket ticket = request(RM);
        clock.advance(TIMEOUT.minusSeconds(1));
        scheduler.runDue(clock.instant());
        assertThat(ticket.outcome()).isNotDone();

        clock.advance(Duration.ofSeconds(1));
        scheduler.runDue(clock.instant());

        assertThat(ticket.outcome().join())
                .isEqualTo(new Outcome(ticket.id(), false, "expired after 10 min without an answer"));
        assertThat(approvals.find(ticket.id()).orElseThrow().status()).isEqualTo(Approval.Status.EXPIRED);
        AuditEvent expired = audited(AuditActions.APPROVAL_EXPIRE).getFirst();
        assertThat(expired.decision()).isEqualTo(AuditEvent.Decision.DENY);
        assertThat(expired.rule()).isEqualTo("approvals.timeout_seconds");
        assertThat(heard).contains("decided " + ticket.id() + " EXPIRED");
    }

    @Test
    void anApprovalAReplicaAskedAndDiedWithExpiresOnAnotherOnceAdopted() {
        ManualScheduler deadTimer = new ManualScheduler();
        ApprovalService dead = ApprovalService.create(
                store, audit, (who, agent) -> false, deadTimer, clock, TIMEOUT, new ApprovalService.Listener() {});
        Ticket ticket = dead.request(
                new ApprovalRequest(ada.id(), session.id(), chat.id(), "tool.bash", "run a command", RM, TIMEOUT));
        dead.close(); // that replica is gone, and its timer with it

        clock.advance(TIMEOUT.plusSeconds(1));
        scheduler.runDue(clock.instant());
        assertThat(approvals.find(ticket.id()).orElseThrow().status())
                .as("no timer here for it yet")
                .isEqualTo(Approval.Status.PENDING);

        approvals.adoptPending();
        approvals.adoptPending(); // a second takeover arms nothing twice
        scheduler.runDue(clock.instant());

        assertThat(approvals.find(ticket.id()).orElseThrow().status()).isEqualTo(Approval.Status.EXPIRED);
        assertThat(audited(AuditActions.APPROVAL_EXPIRE)).hasSize(1);
        assertThat(scheduler.armed()).isZero();
    }

    @Test
    void aTimeoutThatFellDueWhileTheDaemonWasDownExpiresWhenItStarts() {
        Ticket ticket = request(RM);
        stop();
        clock.advance(TIMEOUT.plusMinutes(5));

        start();
        scheduler.runDue(clock.instant());

        assertThat(approvals.find(ticket.id()).orElseThrow().status()).isEqualTo(Approval.Status.EXPIRED);
        assertThat(approvals.pending()).isEmpty();
    }

    @Test
    void theSameRequestAskedAgainWhilePendingJoinsItAndBothHearTheAnswer() {
        Ticket first = request(RM);
        Ticket second = request(RM);

        assertThat(second.id()).isEqualTo(first.id());
        assertThat(approvals.pending()).hasSize(1);
        approvals.answer(first.id(), Approvers.OWNER, new Answer.Deny("no"));

        assertThat(first.outcome().join().granted()).isFalse();
        assertThat(second.outcome().join().granted()).isFalse();
    }

    @Test
    void answersThatRaceDecideOnceAndTheWaiterHearsThatOneAnswer() throws Exception {
        Ticket ticket = request(RM);
        List<Future<AnswerResult>> answers = new ArrayList<>();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 16; i++) {
                Answer answer =
                        i % 2 == 0 ? new Answer.Grant(Approval.Scope.ONCE, 0, null, null) : new Answer.Deny("no " + i);
                answers.add(threads.submit(() -> approvals.answer(ticket.id(), Approvers.OWNER, answer)));
            }
        }
        List<AnswerResult> results = new ArrayList<>();
        for (var f : answers) {
            results.add(f.get());
        }

        List<AnswerResult> decided =
                results.stream().filter(r -> r instanceof AnswerResult.Decided).toList();
        assertThat(decided).hasSize(1);
        assertThat(results)
                .filteredOn(r -> r instanceof AnswerResult.AlreadyDecided)
                .hasSize(15);
        Approval winner = ((AnswerResult.Decided) decided.getFirst()).approval();
        assertThat(ticket.outcome().join().granted()).isEqualTo(winner.status() == Approval.Status.GRANTED);
        assertThat(audited(AuditActions.APPROVAL_ANSWER)).hasSize(1);
    }

    @Test
    void malformedRequestsAreRefusedWithTheFieldAndTheRule() {
        assertThatThrownBy(() ->
                        new ApprovalRequest(ada.id(), session.id(), chat.id(), "Tool.Bash;rm", "s", Map.of(), TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("approval kind 'Tool.Bash;rm' is not lowercase words");
        assertThatThrownBy(() ->
                        new ApprovalRequest(ada.id(), session.id(), chat.id(), "tool.bash", " ", Map.of(), TIMEOUT))
                .hasMessageContaining("summary is empty");
        assertThatThrownBy(() -> new ApprovalRequest(
                        ada.id(),
                        session.id(),
                        chat.id(),
                        "tool.bash",
                        "s",
                        Map.of("command", "x".repeat(ApprovalRequest.MAX_PAYLOAD_CHARS)),
                        TIMEOUT))
                .hasMessageContaining("approval payload is 65543 characters long; at most 65536");
        assertThatThrownBy(() -> new ApprovalRequest(
                        ada.id(), session.id(), chat.id(), "tool.bash", "s", Map.of("a b", "x"), TIMEOUT))
                .hasMessageContaining("payload key 'a b'");
        assertThatThrownBy(() -> new ApprovalRequest(
                        ada.id(), session.id(), chat.id(), "tool.bash", "s", Map.of("k", "\uD800"), TIMEOUT))
                .hasMessageContaining("unpaired surrogate");
    }
}
