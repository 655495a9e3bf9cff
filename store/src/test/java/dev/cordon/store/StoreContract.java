package dev.cordon.store;

import static dev.cordon.core.access.Role.ADMIN;
import static dev.cordon.core.access.Role.MEMBER;
import static dev.cordon.core.access.Role.OWNER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.InboundState;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Outbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Domain.Wiring;
import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.OutboundId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.access.HeldMessage;
import dev.cordon.core.access.RoleGrant;
import dev.cordon.core.access.SenderPolicy;
import dev.cordon.core.access.SenderRequest;
import dev.cordon.core.access.UserId;
import dev.cordon.core.approval.Approval;
import dev.cordon.core.approval.ApprovalId;
import dev.cordon.core.approval.Subjects;
import dev.cordon.core.budget.Ledger;
import dev.cordon.core.store.Store;
import dev.cordon.core.store.Store.ApprovalDecision;
import dev.cordon.core.store.Store.InboundStored;
import dev.cordon.core.store.Store.NewApproval;
import dev.cordon.core.store.Store.NewOutbound;
import dev.cordon.core.task.Schedule;
import dev.cordon.core.task.Task;
import dev.cordon.core.task.TaskId;
import dev.cordon.core.task.TaskRun;
import dev.cordon.core.task.Tasks;
import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Role;
import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every {@link Store} must have. An implementation's test extends this class and
 * says how to open a store over a directory; opening the same directory again must find everything
 * stored before (a restart).
 */
abstract class StoreContract {
    static final Instant START = Instant.parse("2030-01-02T03:04:05.678Z");

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(START);
    Store store;

    /** Opens the store kept in {@code dir}, creating it when missing. */
    protected abstract Store open(Path dir, Clock clock);

    @BeforeEach
    void openStore() {
        store = open(dir, clock);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    void restart() {
        store.close();
        store = open(dir, clock);
    }

    // ---- fixtures

    record Fixture(Agent agent, Chat chat, Session session) {}

    Fixture fixture(String chat) {
        Agent agent = store.ensureAgent(new AgentName("ada"));
        Chat c = store.ensureChat("test", chat);
        return new Fixture(agent, c, store.ensureSession(agent.id(), c.id(), ""));
    }

    static NewInbound message(Chat chat, String platformMessageId) {
        return new NewInbound(
                chat.channel(), chat.platformChatId(), platformMessageId, "u1", "hi " + platformMessageId);
    }

    InboundId receive(Fixture f, String platformMessageId) {
        return store.storeInbound(f.session().id(), f.chat().id(), message(f.chat(), platformMessageId))
                .id();
    }

    static NewOutbound reply(Chat chat, InboundId inReplyTo, String text, String key) {
        return new NewOutbound(chat.id(), inReplyTo, text, false, key);
    }

    static List<InboundId> ids(List<Inbound> messages) {
        return messages.stream().map(Inbound::id).toList();
    }

    // ---- approvals

    Approval ask(Fixture f, String kind, Map<String, String> payload) {
        return store.storeApproval(new NewApproval(
                f.agent().id(),
                f.session().id(),
                f.chat().id(),
                kind,
                Subjects.of(payload),
                "run " + payload,
                payload,
                clock.instant(),
                clock.instant().plus(Duration.ofMinutes(10))));
    }

    static ApprovalDecision grant(Approval.Scope scope, int maxUses, int uses, Instant until) {
        return new ApprovalDecision(
                Approval.Status.GRANTED, "terminal:owner", START, "fine", scope, maxUses, uses, until);
    }

    @Test
    void anApprovalRequestIsStoredPendingWithItsFullPayloadAndSurvivesARestart() {
        Fixture f = fixture("C1");
        Map<String, String> payload = Map.of("command", "rm -rf /workspace/tmp\necho done", "cwd", "/workspace");
        Approval asked = ask(f, "tool.bash", payload);

        restart();

        Approval stored = store.approval(asked.id()).orElseThrow();
        assertThat(stored).isEqualTo(asked);
        assertThat(stored.status()).isEqualTo(Approval.Status.PENDING);
        assertThat(stored.agentName()).isEqualTo(new AgentName("ada"));
        assertThat(stored.payload()).isEqualTo(payload);
        assertThat(stored.subject()).isEqualTo(Subjects.of(payload));
        assertThat(stored.expiresAt()).isEqualTo(START.plus(Duration.ofMinutes(10)));
        assertThat(store.pendingApprovals()).containsExactly(stored);
        assertThat(store.pendingApproval(f.session().id(), "tool.bash", Subjects.of(payload)))
                .contains(stored);
        assertThat(store.pendingApproval(f.session().id(), "tool.write", Subjects.of(payload)))
                .isEmpty();
    }

    @Test
    void anApprovalIsDecidedExactlyOnceAndKeptInTheHistory() {
        Fixture f = fixture("C1");
        Approval first = ask(f, "tool.bash", Map.of("command", "ls"));
        Approval second = ask(f, "tool.bash", Map.of("command", "id"));

        Optional<Approval> denied = store.decideApproval(
                first.id(),
                new ApprovalDecision(Approval.Status.DENIED, "terminal:owner", START, "no", null, 0, 0, null));
        Optional<Approval> again = store.decideApproval(first.id(), grant(Approval.Scope.ALWAYS, 0, 1, null));

        assertThat(denied).get().extracting(Approval::status).isEqualTo(Approval.Status.DENIED);
        assertThat(denied.get().decidedBy()).isEqualTo("terminal:owner");
        assertThat(denied.get().reason()).isEqualTo("no");
        assertThat(again).isEmpty();
        assertThat(store.approval(first.id())).isEqualTo(denied);
        assertThat(store.pendingApprovals()).containsExactly(second);
        assertThat(store.recentApprovals(10)).extracting(Approval::id).containsExactly(first.id(), second.id());
        assertThat(store.recentApprovals(1)).extracting(Approval::id).containsExactly(second.id());
        assertThat(store.decideApproval(new ApprovalId(404), grant(Approval.Scope.ONCE, 1, 0, null)))
                .isEmpty();
    }

    @Test
    void aGrantIsUsedOnlyForTheSameKindAndSubjectWithinItsScopeAndUses() {
        Fixture f = fixture("C1");
        Session otherSession = store.ensureSession(
                f.agent().id(), store.ensureChat("test", "C2").id(), "");
        Map<String, String> ls = Map.of("command", "ls");
        Approval asked = ask(f, "tool.bash", ls);
        store.decideApproval(asked.id(), grant(Approval.Scope.SESSION, 3, 1, null));
        String subject = Subjects.of(ls);

        assertThat(store.useGrant(
                        f.agent().id(), f.session().id(), "tool.bash", Subjects.of(Map.of("command", "ls ")), START))
                .isEmpty();
        assertThat(store.useGrant(f.agent().id(), f.session().id(), "tool.read", subject, START))
                .isEmpty();
        assertThat(store.useGrant(f.agent().id(), otherSession.id(), "tool.bash", subject, START))
                .isEmpty();
        assertThat(store.useGrant(f.agent().id(), f.session().id(), "tool.bash", subject, START))
                .get()
                .extracting(Approval::uses)
                .isEqualTo(2);
        assertThat(store.useGrant(f.agent().id(), f.session().id(), "tool.bash", subject, START))
                .get()
                .extracting(Approval::uses)
                .isEqualTo(3);
        // Used up: three uses of three.
        assertThat(store.useGrant(f.agent().id(), f.session().id(), "tool.bash", subject, START))
                .isEmpty();
        assertThat(store.approval(asked.id()).orElseThrow().usable(START)).isFalse();
    }

    @Test
    void anAlwaysGrantReachesEverySessionOfItsAgentButNoOtherAgent() {
        Fixture f = fixture("C1");
        Session otherSession = store.ensureSession(
                f.agent().id(), store.ensureChat("test", "C2").id(), "");
        Agent bob = store.ensureAgent(new AgentName("bob"));
        Session bobs = store.ensureSession(bob.id(), f.chat().id(), "");
        Map<String, String> ls = Map.of("command", "ls");
        Approval asked = ask(f, "tool.bash", ls);
        store.decideApproval(asked.id(), grant(Approval.Scope.ALWAYS, 0, 1, null));

        assertThat(store.useGrant(bob.id(), bobs.id(), "tool.bash", Subjects.of(ls), START))
                .isEmpty();
        assertThat(store.useGrant(f.agent().id(), otherSession.id(), "tool.bash", Subjects.of(ls), START))
                .isPresent();
    }

    @Test
    void anExpiredGrantNeverMatches() {
        Fixture f = fixture("C1");
        Map<String, String> ls = Map.of("command", "ls");
        Approval asked = ask(f, "tool.bash", ls);
        Instant until = START.plus(Duration.ofHours(1));
        store.decideApproval(asked.id(), grant(Approval.Scope.SESSION, 0, 1, until));

        assertThat(store.useGrant(f.agent().id(), f.session().id(), "tool.bash", Subjects.of(ls), until.minusMillis(1)))
                .isPresent();
        assertThat(store.useGrant(f.agent().id(), f.session().id(), "tool.bash", Subjects.of(ls), until))
                .isEmpty();
    }

    @Test
    void theLastUseOfAGrantIsTakenOnceHoweverManyRace() throws Exception {
        Fixture f = fixture("C1");
        Map<String, String> ls = Map.of("command", "ls");
        Approval asked = ask(f, "tool.bash", ls);
        store.decideApproval(asked.id(), grant(Approval.Scope.SESSION, 5, 1, null));
        List<Future<Optional<Approval>>> tries = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 20; i++) {
                tries.add(threads.submit(
                        () -> store.useGrant(f.agent().id(), f.session().id(), "tool.bash", Subjects.of(ls), START)));
            }
        }
        int granted = 0;
        for (Future<Optional<Approval>> t : tries) {
            granted += t.get().isPresent() ? 1 : 0;
        }
        assertThat(granted).isEqualTo(4);
        assertThat(store.approval(asked.id()).orElseThrow().uses()).isEqualTo(5);
    }

    @Test
    void anApprovalForASessionOfAnotherAgentIsRejected() {
        Fixture f = fixture("C1");
        Agent bob = store.ensureAgent(new AgentName("bob"));

        assertThatThrownBy(() -> store.storeApproval(new NewApproval(
                        bob.id(), f.session().id(), f.chat().id(), "tool.bash", "{}", "s", Map.of(), START, START)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("belongs to agent");
        assertThat(store.pendingApprovals()).isEmpty();
    }

    // ---- agents

    @Test
    void ensureAgentCreatesOnceAndReturnsTheSameAgentAfterwards() {
        Agent first = store.ensureAgent(new AgentName("ada"));
        clock.advance(Duration.ofMinutes(1));
        Agent again = store.ensureAgent(new AgentName("ada"));

        assertThat(again).isEqualTo(first);
        assertThat(first.name()).isEqualTo(new AgentName("ada"));
        assertThat(first.createdAt()).isEqualTo(START);
        assertThat(store.agents()).containsExactly(first);
    }

    @Test
    void agentsAreFoundByIdAndByNameAndListedInCreationOrder() {
        Agent ada = store.ensureAgent(new AgentName("ada"));
        Agent bob = store.ensureAgent(new AgentName("bob"));

        assertThat(store.agent(bob.id())).contains(bob);
        assertThat(store.agentByName(new AgentName("ada"))).contains(ada);
        assertThat(store.agents()).containsExactly(ada, bob);
    }

    @Test
    void aDeletedAgentFreesItsNameAndKeepsItsHistoryUnderItsOldId() {
        Fixture f = fixture("c1");
        InboundId handled = receive(f, "m1");
        store.completeTurn(
                f.session().id(),
                store.claimPending(f.session().id(), 10).stream()
                        .map(Inbound::id)
                        .toList(),
                List.of(ChatMessage.user("hi m1")),
                reply(f.chat(), handled, "hello", "k1"));
        InboundId waiting = receive(f, "m2");
        store.wire(f.chat().id(), f.agent().id());
        Task task = newTask(f, new Schedule.Every(Duration.ofMinutes(5), START), START.plusSeconds(300));

        assertThat(store.deleteAgent(f.agent().id())).contains(new Store.AgentDeleted(1, 1, 1));

        assertThat(store.agentByName(new AgentName("ada"))).isEmpty();
        assertThat(store.agents()).isEmpty();
        assertThat(store.agent(f.agent().id())).contains(f.agent());
        assertThat(store.wiring(f.chat().id())).isEmpty();
        assertThat(store.inbound(waiting).orElseThrow().state()).isEqualTo(InboundState.DONE);
        assertThat(store.sessionsWithPending()).isEmpty();
        assertThat(store.transcript(f.session().id())).hasSize(1);
        assertThat(store.tasks().task(task.id()).orElseThrow().state()).isEqualTo(Task.State.CANCELLED);
        assertThat(store.deleteAgent(f.agent().id())).isEmpty();

        Agent again = store.ensureAgent(new AgentName("ada"));
        assertThat(again.id()).isNotEqualTo(f.agent().id());
        assertThat(store.agentByName(new AgentName("ada"))).contains(again);
        Session fresh = store.ensureSession(again.id(), f.chat().id(), "");
        assertThat(fresh.id()).isNotEqualTo(f.session().id());
        assertThat(store.transcript(fresh.id())).isEmpty();
        restart();
        assertThat(store.agents()).containsExactly(again);
    }

    @Test
    void unknownAgentsAreEmpty() {
        assertThat(store.agent(new AgentId(404))).isEmpty();
        assertThat(store.agentByName(new AgentName("nobody"))).isEmpty();
        assertThat(store.agents()).isEmpty();
    }

    // ---- chats and wirings

    @Test
    void ensureChatIsIdempotentPerChannelAndPlatformChatId() {
        Chat chat = store.ensureChat("slack", "C1");

        assertThat(store.ensureChat("slack", "C1")).isEqualTo(chat);
        assertThat(store.ensureChat("discord", "C1").id()).isNotEqualTo(chat.id());
        assertThat(store.ensureChat("slack", "C2").id()).isNotEqualTo(chat.id());
        assertThat(store.chat(chat.id())).contains(new Chat(chat.id(), "slack", "C1"));
        assertThat(store.chat(new ChatId(404))).isEmpty();
    }

    @Test
    void findChatFindsByChannelAndPlatformIdAndCreatesNothing() {
        Chat chat = store.ensureChat("slack", "C1");
        store.ensureChat("discord", "C1");

        assertThat(store.findChat("slack", "C1")).contains(chat);
        assertThat(store.findChat("slack", "c1")).isEmpty(); // platform ids are case-sensitive
        assertThat(store.findChat("matrix", "C1")).isEmpty();
        assertThat(store.chats()).hasSize(2);
    }

    @Test
    void wireReplacesAnEarlierWiringOfTheSameChat() {
        Chat chat = store.ensureChat("slack", "C1");
        Agent ada = store.ensureAgent(new AgentName("ada"));
        Agent bob = store.ensureAgent(new AgentName("bob"));
        assertThat(store.wiring(chat.id())).isEmpty();

        store.wire(chat.id(), ada.id());
        store.wire(chat.id(), ada.id());
        assertThat(store.wiring(chat.id())).contains(new Wiring(chat.id(), ada.id()));

        store.wire(chat.id(), bob.id());
        assertThat(store.wiring(chat.id())).contains(new Wiring(chat.id(), bob.id()));
    }

    @Test
    void wiringToARowThatDoesNotExistIsRejected() {
        Chat chat = store.ensureChat("slack", "C1");

        assertThatThrownBy(() -> store.wire(chat.id(), new AgentId(404))).isInstanceOf(IllegalArgumentException.class);
        assertThat(store.wiring(chat.id())).isEmpty();
    }

    // ---- sessions

    @Test
    void ensureSessionIsIdempotentPerAgentChatAndThreadKey() {
        Agent ada = store.ensureAgent(new AgentName("ada"));
        Agent bob = store.ensureAgent(new AgentName("bob"));
        Chat chat = store.ensureChat("slack", "C1");

        Session chatWide = store.ensureSession(ada.id(), chat.id(), "");
        clock.advance(Duration.ofSeconds(1));
        Session thread = store.ensureSession(ada.id(), chat.id(), "t-1");
        Session other = store.ensureSession(bob.id(), chat.id(), "");

        assertThat(store.ensureSession(ada.id(), chat.id(), "")).isEqualTo(chatWide);
        assertThat(chatWide).isEqualTo(new Session(chatWide.id(), ada.id(), chat.id(), "", START));
        assertThat(thread.threadKey()).isEqualTo("t-1");
        assertThat(thread.createdAt()).isEqualTo(START.plusSeconds(1));
        assertThat(store.sessions()).containsExactly(chatWide, thread, other);
        assertThat(store.session(thread.id())).contains(thread);
        assertThat(store.session(new SessionId(404))).isEmpty();
    }

    @Test
    void aSessionOfAnAgentThatDoesNotExistIsRejected() {
        Chat chat = store.ensureChat("slack", "C1");

        assertThatThrownBy(() -> store.ensureSession(new AgentId(404), chat.id(), ""))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(store.sessions()).isEmpty();
    }

    // ---- inbox

    @Test
    void aStoredMessageIsPendingWithEveryField() {
        Fixture f = fixture("C1");

        InboundStored stored = store.storeInbound(
                f.session().id(), f.chat().id(), new NewInbound("test", "C1", "m-1", "u-7", "hello"));
        List<Inbound> claimed = store.claimPending(f.session().id(), 10);

        assertThat(stored.duplicate()).isFalse();
        assertThat(claimed)
                .containsExactly(new Inbound(
                        stored.id(),
                        f.session().id(),
                        f.chat().id(),
                        "m-1",
                        "u-7",
                        "hello",
                        InboundState.CLAIMED,
                        START));
    }

    @Test
    void aPendingMessageIsClaimedByIdOnceAndAClaimedOneNotAgain() {
        Fixture f = fixture("C1");
        InboundId first = receive(f, "m-1");
        InboundId second = receive(f, "m-2");

        assertThat(store.claimInbound(second).map(Inbound::state)).contains(InboundState.CLAIMED);
        assertThat(store.claimInbound(second)).isEmpty();
        assertThat(store.claimInbound(new InboundId(404))).isEmpty();
        assertThat(store.claimPending(f.session().id(), 10))
                .extracting(Inbound::id)
                .containsExactly(first);
        assertThat(store.claimInbound(first)).isEmpty();
    }

    @Test
    void storingTheSameMessageTwiceStoresItOnceAndReportsTheDuplicate() {
        Fixture f = fixture("C1");

        InboundStored first = store.storeInbound(f.session().id(), f.chat().id(), message(f.chat(), "m-1"));
        InboundStored again = store.storeInbound(f.session().id(), f.chat().id(), message(f.chat(), "m-1"));

        assertThat(again).isEqualTo(new InboundStored(first.id(), true));
        assertThat(store.claimPending(f.session().id(), 10)).hasSize(1);
    }

    @Test
    void aMessagesFilesAreStoredWithItInOrderAndReadBackPerMessage() {
        Fixture f = fixture("C1");
        Store.ReceivedFile kept = new Store.ReceivedFile("a.txt", "text/plain", 3, "ab".repeat(32), null);
        Store.ReceivedFile missing =
                new Store.ReceivedFile("big.iso", "application/octet-stream", -1, null, "larger than 20 MiB");
        InboundId withFiles = store.storeInbound(
                        f.session().id(), f.chat().id(), message(f.chat(), "m-1"), List.of(kept, missing))
                .id();
        InboundId without = receive(f, "m-2");

        restart();

        assertThat(store.inboundFiles(List.of(withFiles, without)))
                .containsExactly(Map.entry(withFiles, List.of(kept, missing)));
        assertThat(store.inboundFiles(List.of())).isEmpty();
        assertThat(store.hasInbound(f.chat().id(), "m-1")).isTrue();
        assertThat(store.hasInbound(f.chat().id(), "m-3")).isFalse();
    }

    @Test
    void aRedeliveredMessageKeepsTheFilesOfItsFirstDelivery() {
        Fixture f = fixture("C1");
        Store.ReceivedFile first = new Store.ReceivedFile("a.txt", "text/plain", 3, "ab".repeat(32), null);
        Store.ReceivedFile second = new Store.ReceivedFile("b.txt", "text/plain", 4, "cd".repeat(32), null);
        InboundStored stored =
                store.storeInbound(f.session().id(), f.chat().id(), message(f.chat(), "m-1"), List.of(first));

        InboundStored again =
                store.storeInbound(f.session().id(), f.chat().id(), message(f.chat(), "m-1"), List.of(second));

        assertThat(again).isEqualTo(new InboundStored(stored.id(), true));
        assertThat(store.inboundFiles(List.of(stored.id()))).containsExactly(Map.entry(stored.id(), List.of(first)));
    }

    @Test
    void aReceivedFileHasEitherItsBytesOrAProblem() {
        assertThatThrownBy(() -> new Store.ReceivedFile("a", "text/plain", 1, null, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Store.ReceivedFile("a", "text/plain", 1, "ab".repeat(32), "too large"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aMessageSeenAgainAfterItsTurnIsStillADuplicate() {
        Fixture f = fixture("C1");
        InboundId id = receive(f, "m-1");
        store.completeTurn(f.session().id(), ids(store.claimPending(f.session().id(), 10)), List.of(), null);

        InboundStored again = store.storeInbound(f.session().id(), f.chat().id(), message(f.chat(), "m-1"));

        assertThat(again).isEqualTo(new InboundStored(id, true));
        assertThat(store.sessionsWithPending()).isEmpty();
    }

    @Test
    void theSameMessageIdOnAnotherChannelIsNotADuplicate() {
        Fixture f = fixture("C1");
        Chat other = store.ensureChat("other", "C1");
        Session otherSession = store.ensureSession(f.agent().id(), other.id(), "");

        receive(f, "m-1");
        InboundStored stored = store.storeInbound(otherSession.id(), other.id(), message(other, "m-1"));

        assertThat(stored.duplicate()).isFalse();
    }

    @Test
    void aMessageFiledUnderAChatItDoesNotComeFromIsRejected() {
        Fixture f = fixture("C1");
        Chat other = store.ensureChat("test", "C2");

        assertThatThrownBy(() -> store.storeInbound(f.session().id(), f.chat().id(), message(other, "m-1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("C2");
        assertThatThrownBy(() -> store.storeInbound(f.session().id(), new ChatId(404), message(f.chat(), "m-1")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(store.sessionsWithPending()).isEmpty();
    }

    @Test
    void aMessageForASessionThatDoesNotExistIsRejected() {
        Fixture f = fixture("C1");

        assertThatThrownBy(() -> store.storeInbound(new SessionId(404), f.chat().id(), message(f.chat(), "m-1")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void claimPendingTakesTheOldestFirstUpToMax() {
        Fixture f = fixture("C1");
        List<InboundId> stored = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            stored.add(receive(f, "m-" + i));
            clock.advance(Duration.ofMillis(1));
        }

        List<Inbound> first = store.claimPending(f.session().id(), 2);
        List<Inbound> rest = store.claimPending(f.session().id(), 10);

        assertThat(ids(first)).containsExactly(stored.get(0), stored.get(1));
        assertThat(ids(rest)).containsExactly(stored.get(2), stored.get(3), stored.get(4));
        assertThat(rest).allSatisfy(m -> assertThat(m.state()).isEqualTo(InboundState.CLAIMED));
        assertThat(store.claimPending(f.session().id(), 10)).isEmpty();
    }

    @Test
    void claimPendingTakesOnlyMessagesOfItsSession() {
        Fixture f = fixture("C1");
        Session thread = store.ensureSession(f.agent().id(), f.chat().id(), "t-1");
        InboundId mine = receive(f, "m-1");
        store.storeInbound(thread.id(), f.chat().id(), message(f.chat(), "m-2"));

        assertThat(ids(store.claimPending(f.session().id(), 10))).containsExactly(mine);
        assertThat(store.sessionsWithPending()).containsExactly(thread.id());
    }

    @Test
    void theTurnMessageIsTheNewestMessageARunningTurnOfTheSessionClaimed() {
        Fixture f = fixture("C1");
        assertThat(store.turnMessage(f.session().id())).isEmpty();
        receive(f, "m-1");
        InboundId last = receive(f, "m-2");
        store.claimPending(f.session().id(), 10);
        receive(f, "m-3"); // arrived during the turn: not part of it

        assertThat(store.turnMessage(f.session().id()).map(Inbound::id)).contains(last);
    }

    @Test
    void noTurnMessageOnceTheTurnIsDone() {
        Fixture f = fixture("C1");
        receive(f, "m-1");
        List<Inbound> claimed = store.claimPending(f.session().id(), 10);

        store.completeTurn(f.session().id(), ids(claimed), List.of(), null);

        assertThat(store.turnMessage(f.session().id())).isEmpty();
    }

    @Test
    void claimPendingWithMaxZeroClaimsNothingAndNegativeMaxIsRejected() {
        Fixture f = fixture("C1");
        receive(f, "m-1");

        assertThat(store.claimPending(f.session().id(), 0)).isEmpty();
        assertThatThrownBy(() -> store.claimPending(f.session().id(), -1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(store.claimPending(f.session().id(), 1)).hasSize(1);
    }

    @Test
    void sessionsWithPendingListsEachSessionWithPendingMessagesOnce() {
        Fixture a = fixture("C1");
        Fixture b = fixture("C2");
        Fixture idle = fixture("C3");
        receive(a, "a-1");
        receive(a, "a-2");
        receive(b, "b-1");
        receive(idle, "i-1");
        store.claimPending(idle.session().id(), 10);

        assertThat(store.sessionsWithPending())
                .containsExactly(a.session().id(), b.session().id());
    }

    @Test
    void releaseClaimsTurnsClaimedMessagesBackToPendingAndLeavesDoneAlone() {
        Fixture f = fixture("C1");
        InboundId done = receive(f, "m-1");
        store.completeTurn(f.session().id(), ids(store.claimPending(f.session().id(), 1)), List.of(), null);
        InboundId claimed1 = receive(f, "m-2");
        InboundId claimed2 = receive(f, "m-3");
        store.claimPending(f.session().id(), 10);

        assertThat(store.sessionsWithPending()).isEmpty();
        assertThat(store.releaseClaims()).isEqualTo(2);
        assertThat(store.releaseClaims()).isZero();
        assertThat(ids(store.claimPending(f.session().id(), 10)))
                .containsExactly(claimed1, claimed2)
                .doesNotContain(done);
    }

    // ---- transcript

    @Test
    void transcriptKeepsAppendOrderAcrossCalls() {
        Fixture f = fixture("C1");

        store.appendTranscript(f.session().id(), List.of(ChatMessage.user("one"), ChatMessage.assistant("two")));
        store.appendTranscript(f.session().id(), List.of());
        store.appendTranscript(f.session().id(), List.of(ChatMessage.user("three")));

        assertThat(store.transcript(f.session().id()))
                .containsExactly(ChatMessage.user("one"), ChatMessage.assistant("two"), ChatMessage.user("three"));
    }

    @Test
    void transcriptRoundTripsEveryPartType() {
        Fixture f = fixture("C1");
        ChatMessage toolCall = new ChatMessage(
                Role.ASSISTANT,
                List.of(
                        new Part.Text("let me look"),
                        new Part.ToolUse(
                                "tu-1",
                                "grep",
                                Wire.mapper()
                                        .readTree(
                                                "{\"pattern\":\"x\",\"paths\":[\"a\",\"b\"],\"deep\":{\"n\":1.5,\"ok\":true,\"none\":null}}"))));
        ChatMessage results = new ChatMessage(
                Role.USER,
                List.of(
                        new Part.ToolResult("tu-1", "a:1: x", false),
                        new Part.ToolResult("tu-2", "no such file", true),
                        new Part.Text("unicode ✓ \"quotes\" \n newlines")));
        ChatMessage empty = new ChatMessage(Role.ASSISTANT, List.of());

        store.appendTranscript(f.session().id(), List.of(toolCall, results, empty));

        assertThat(store.transcript(f.session().id())).containsExactly(toolCall, results, empty);
    }

    @Test
    void transcriptsOfSessionsAreSeparate() {
        Fixture a = fixture("C1");
        Fixture b = fixture("C2");

        store.appendTranscript(a.session().id(), List.of(ChatMessage.user("for a")));
        store.appendTranscript(b.session().id(), List.of(ChatMessage.user("for b")));

        assertThat(store.transcript(a.session().id())).containsExactly(ChatMessage.user("for a"));
        assertThat(store.transcript(b.session().id())).containsExactly(ChatMessage.user("for b"));
        assertThat(store.transcript(new SessionId(404))).isEmpty();
    }

    @Test
    void aChatsHistoryHoldsEverySessionsTranscriptTheUnfinishedMessagesAndItsNewestReply() {
        Fixture f = fixture("C1");
        Session thread = store.ensureSession(f.agent().id(), f.chat().id(), "t1");
        Fixture other = fixture("C2");
        assertThat(store.chatHistory(f.chat().id())).isEqualTo(new Store.ChatHistory(List.of(), List.of(), 0));

        InboundId first = receive(f, "m1");
        Optional<OutboundId> replied = store.completeTurn(
                f.session().id(),
                ids(store.claimPending(f.session().id(), 10)),
                List.of(ChatMessage.user("hi m1"), ChatMessage.assistant("hello")),
                reply(f.chat(), first, "hello", "k1"));
        store.appendTranscript(thread.id(), List.of(ChatMessage.user("in the thread")));
        store.appendTranscript(other.session().id(), List.of(ChatMessage.user("another chat")));
        receive(f, "m2");
        store.claimPending(f.session().id(), 10);
        receive(f, "m3");

        Store.ChatHistory history = store.chatHistory(f.chat().id());

        assertThat(history.transcript())
                .containsExactly(
                        ChatMessage.user("hi m1"), ChatMessage.assistant("hello"), ChatMessage.user("in the thread"));
        assertThat(history.unfinished()).extracting(Inbound::text).containsExactly("hi m2", "hi m3");
        assertThat(history.lastOutbound()).isEqualTo(replied.orElseThrow().value());
        assertThat(store.chatHistory(other.chat().id()).lastOutbound()).isZero();
    }

    // ---- turns and the outbox

    @Test
    void anOutboundMessageKeepsItsOptionsInOrderAndOneWithoutHasNone() {
        Fixture f = fixture("C1");
        List<String> options = List.of("Allow once", "Deny", "émoji 👍, \"quoted\"\nand a line");
        OutboundId asked = store.completeTurn(
                        f.session().id(),
                        List.of(),
                        List.of(),
                        new NewOutbound(f.chat().id(), null, "may I?", false, "ask-1", options))
                .orElseThrow();
        OutboundId plain = store.completeTurn(
                        f.session().id(), List.of(), List.of(), reply(f.chat(), null, "done", "plain-1"))
                .orElseThrow();

        assertThat(store.outbound(asked).orElseThrow().options()).containsExactlyElementsOf(options);
        assertThat(store.outbound(plain).orElseThrow().options()).isEmpty();
        assertThat(store.undelivered(f.chat().id()))
                .extracting(Outbound::options)
                .containsExactly(options, List.of());
    }

    @Test
    void completeTurnMarksTheHandledMessagesDoneAndStoresTheReplyUndelivered() {
        Fixture f = fixture("C1");
        InboundId m1 = receive(f, "m-1");
        InboundId m2 = receive(f, "m-2");
        List<InboundId> handled = ids(store.claimPending(f.session().id(), 10));
        clock.advance(Duration.ofSeconds(3));

        Optional<OutboundId> id =
                store.completeTurn(f.session().id(), handled, List.of(), reply(f.chat(), m2, "hello!", "k-1"));

        assertThat(id).isPresent();
        Outbound expected = new Outbound(
                id.orElseThrow(),
                f.chat().id(),
                f.session().id(),
                m2,
                "hello!",
                false,
                "k-1",
                START.plusSeconds(3),
                null,
                null,
                List.of());
        assertThat(store.outbound(id.orElseThrow())).contains(expected);
        assertThat(store.undelivered()).containsExactly(expected);
        assertThat(store.releaseClaims()).as("no message is still claimed").isZero();
        assertThat(store.claimPending(f.session().id(), 10)).isEmpty();
        assertThat(handled).containsExactly(m1, m2);
    }

    @Test
    void aFileMessageIsStoredWithItsFileOnceAndDeliveredLikeAnyOther() {
        Fixture f = fixture("C1");
        InboundId asked = receive(f, "m-1");
        Store.OutboundFile file = new Store.OutboundFile("r.pdf", "application/pdf", 1234, "ab".repeat(32));

        OutboundId id = store.storeFileMessage(f.session().id(), reply(f.chat(), asked, "the report", "file-1"), file);
        OutboundId again = store.storeFileMessage(
                f.session().id(),
                reply(f.chat(), asked, "the report", "file-1"),
                new Store.OutboundFile("other.pdf", "application/pdf", 1, "cd".repeat(32)));

        assertThat(again).isEqualTo(id);
        assertThat(store.outboundFile(id)).contains(file);
        assertThat(store.undelivered())
                .singleElement()
                .satisfies(o -> assertThat(o.text()).isEqualTo("the report"));
        OutboundId plain = store.completeTurn(
                        f.session().id(), List.of(), List.of(), reply(f.chat(), null, "hi", "k-2"))
                .orElseThrow();
        assertThat(store.outboundFile(plain)).isEmpty();
    }

    @Test
    void filesInUseAreThoseOfMessagesStillWaitingOrUsedSinceTheCutoff() {
        Fixture f = fixture("C1");
        String delivered = "a1".repeat(32);
        String undelivered = "b2".repeat(32);
        String givenUp = "c3".repeat(32);
        String handled = "d4".repeat(32);
        String pending = "e5".repeat(32);
        InboundId asked = receive(f, "m-0");
        OutboundId sent = store.storeFileMessage(
                f.session().id(),
                reply(f.chat(), asked, "sent", "k-1"),
                new Store.OutboundFile("a.pdf", "application/pdf", 1, delivered));
        store.storeFileMessage(
                f.session().id(),
                reply(f.chat(), asked, "waiting", "k-2"),
                new Store.OutboundFile("b.pdf", "application/pdf", 1, undelivered));
        OutboundId refused = store.storeFileMessage(
                f.session().id(),
                reply(f.chat(), asked, "refused", "k-3"),
                new Store.OutboundFile("c.pdf", "application/pdf", 1, givenUp));
        store.storeInbound(
                f.session().id(),
                f.chat().id(),
                message(f.chat(), "m-1"),
                List.of(
                        new Store.ReceivedFile("d.txt", "text/plain", 1, handled, null),
                        new Store.ReceivedFile("big.iso", "application/octet-stream", -1, null, "larger than 20 MiB")));
        store.completeTurn(f.session().id(), ids(store.claimPending(f.session().id(), 10)), List.of(), null);
        store.storeInbound(
                f.session().id(),
                f.chat().id(),
                message(f.chat(), "m-2"),
                List.of(new Store.ReceivedFile("e.txt", "text/plain", 1, pending, null)));
        Instant stored = clock.instant();
        clock.advance(Duration.ofDays(2));
        store.markDelivered(sent, "p-1");
        assertThat(store.giveUp(refused, "the platform refused it")).isTrue();
        clock.advance(Duration.ofDays(40));

        restart();

        assertThat(store.filesInUse(stored))
                .as("everything was stored, delivered or handled since then")
                .containsExactlyInAnyOrder(delivered, undelivered, givenUp, handled, pending);
        assertThat(store.filesInUse(stored.plus(Duration.ofDays(1))))
                .as("the delivery and the giving up came later")
                .containsExactlyInAnyOrder(delivered, undelivered, givenUp, pending);
        assertThat(store.filesInUse(clock.instant().minus(Duration.ofDays(30))))
                .as("only what still waits: a reply not delivered, a message not handled")
                .containsExactlyInAnyOrder(undelivered, pending);
    }

    @Test
    void aFileMessageForAChatThatDoesNotExistStoresNothing() {
        Fixture f = fixture("C1");

        assertThatThrownBy(() -> store.storeFileMessage(
                        f.session().id(),
                        reply(new Chat(new ChatId(404), "x", "y"), null, "t", "file-2"),
                        new Store.OutboundFile("r.pdf", "application/pdf", 1, "ab".repeat(32))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(store.undelivered()).isEmpty();
    }

    @Test
    void completeTurnWithoutAReplyStoresNoOutbound() {
        Fixture f = fixture("C1");
        receive(f, "m-1");

        Optional<OutboundId> id = store.completeTurn(
                f.session().id(), ids(store.claimPending(f.session().id(), 10)), List.of(), null);

        assertThat(id).isEmpty();
        assertThat(store.undelivered()).isEmpty();
        assertThat(store.releaseClaims()).isZero();
    }

    @Test
    void aFailedTurnReplyWithoutInReplyToIsStoredAsSuch() {
        Fixture f = fixture("C1");

        OutboundId id = store.completeTurn(
                        f.session().id(),
                        List.of(),
                        List.of(),
                        new NewOutbound(f.chat().id(), null, "it broke", true, "k-1"))
                .orElseThrow();

        Outbound stored = store.outbound(id).orElseThrow();
        assertThat(stored.failed()).isTrue();
        assertThat(stored.inReplyTo()).isNull();
    }

    @Test
    void completeTurnWithAnIdempotencyKeySeenBeforeReturnsTheExistingReply() {
        Fixture f = fixture("C1");
        InboundId m1 = receive(f, "m-1");
        store.claimPending(f.session().id(), 10);

        OutboundId first = store.completeTurn(
                        f.session().id(), List.of(m1), List.of(), reply(f.chat(), m1, "first", "k-1"))
                .orElseThrow();
        OutboundId again = store.completeTurn(
                        f.session().id(), List.of(m1), List.of(), reply(f.chat(), m1, "second", "k-1"))
                .orElseThrow();

        assertThat(again).isEqualTo(first);
        assertThat(store.recentOutbound(f.chat().id(), 10))
                .singleElement()
                .satisfies(o -> assertThat(o.text()).isEqualTo("first"));
    }

    @Test
    void completeTurnChangesNothingWhenTheReplyCannotBeStored() {
        Fixture f = fixture("C1");
        InboundId m1 = receive(f, "m-1");
        store.claimPending(f.session().id(), 10);

        assertThatThrownBy(() -> store.completeTurn(
                        f.session().id(), List.of(m1), List.of(), reply(f.chat(), new InboundId(404), "hi", "k-1")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.completeTurn(
                        f.session().id(),
                        List.of(m1),
                        List.of(),
                        new NewOutbound(new ChatId(404), m1, "to a chat that does not exist", false, "k-2")))
                .isInstanceOf(IllegalArgumentException.class);

        assertThat(store.undelivered()).isEmpty();
        assertThat(store.releaseClaims()).as("m-1 is still claimed, not done").isEqualTo(1);
    }

    @Test
    void completeTurnRejectsAMessageOfAnotherSessionAndChangesNothing() {
        Fixture f = fixture("C1");
        Fixture other = fixture("C2");
        InboundId mine = receive(f, "m-1");
        InboundId theirs = receive(other, "m-2");
        store.claimPending(f.session().id(), 10);

        assertThatThrownBy(() -> store.completeTurn(
                        f.session().id(), List.of(mine, theirs), List.of(), reply(f.chat(), mine, "hi", "k-1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("" + theirs.value());

        assertThat(store.undelivered()).isEmpty();
        assertThat(store.releaseClaims()).isEqualTo(1);
        assertThat(store.sessionsWithPending())
                .containsExactlyInAnyOrder(f.session().id(), other.session().id());
    }

    @Test
    void undeliveredListsOldestFirstOverallAndPerChat() {
        Fixture a = fixture("C1");
        Fixture b = fixture("C2");
        OutboundId a1 = store.completeTurn(a.session().id(), List.of(), List.of(), reply(a.chat(), null, "a1", "k-a1"))
                .orElseThrow();
        OutboundId b1 = store.completeTurn(b.session().id(), List.of(), List.of(), reply(b.chat(), null, "b1", "k-b1"))
                .orElseThrow();
        OutboundId a2 = store.completeTurn(a.session().id(), List.of(), List.of(), reply(a.chat(), null, "a2", "k-a2"))
                .orElseThrow();

        assertThat(store.undelivered()).extracting(Outbound::id).containsExactly(a1, b1, a2);
        assertThat(store.undelivered(a.chat().id())).extracting(Outbound::id).containsExactly(a1, a2);
        assertThat(store.undelivered(b.chat().id())).extracting(Outbound::id).containsExactly(b1);
    }

    @Test
    void markDeliveredRecordsThePlatformIdOnceAndLeavesTheUndeliveredList() {
        Fixture f = fixture("C1");
        OutboundId id = store.completeTurn(f.session().id(), List.of(), List.of(), reply(f.chat(), null, "hi", "k-1"))
                .orElseThrow();
        clock.advance(Duration.ofSeconds(5));

        store.markDelivered(id, "p-1");
        clock.advance(Duration.ofSeconds(5));
        store.markDelivered(id, "p-2");

        Outbound delivered = store.outbound(id).orElseThrow();
        assertThat(delivered.deliveredAt()).isEqualTo(START.plusSeconds(5));
        assertThat(delivered.platformMessageId()).isEqualTo("p-1");
        assertThat(store.undelivered()).isEmpty();
        assertThat(store.undelivered(f.chat().id())).isEmpty();
        assertThat(store.recentOutbound(f.chat().id(), 10)).containsExactly(delivered);
    }

    @Test
    void aReplyGivenUpOnLeavesTheUndeliveredListButIsNeverMarkedDelivered() {
        Fixture f = fixture("C1");
        OutboundId lost = store.completeTurn(f.session().id(), List.of(), List.of(), reply(f.chat(), null, "a", "k-a"))
                .orElseThrow();
        OutboundId next = store.completeTurn(f.session().id(), List.of(), List.of(), reply(f.chat(), null, "b", "k-b"))
                .orElseThrow();

        assertThat(store.giveUp(lost, "chat was deleted")).isTrue();
        assertThat(store.giveUp(lost, "again")).as("once").isFalse();
        store.markDelivered(next, "p-b");
        assertThat(store.giveUp(next, "too late"))
                .as("a delivered reply stays delivered")
                .isFalse();

        assertThat(store.undelivered()).isEmpty();
        assertThat(store.undelivered(f.chat().id())).isEmpty();
        assertThat(store.outbound(lost).orElseThrow().deliveredAt()).isNull();
        assertThat(store.outbound(next).orElseThrow().platformMessageId()).isEqualTo("p-b");
    }

    @Test
    void markDeliveredOfAnUnknownOutboundIsRejected() {
        assertThatThrownBy(() -> store.markDelivered(new OutboundId(404), "p-1"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(store.outbound(new OutboundId(404))).isEmpty();
    }

    @Test
    void recentOutboundReturnsTheLatestMaxOfOneChatOldestFirst() {
        Fixture a = fixture("C1");
        Fixture b = fixture("C2");
        List<OutboundId> sent = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            sent.add(store.completeTurn(
                            a.session().id(), List.of(), List.of(), reply(a.chat(), null, "a" + i, "k-a" + i))
                    .orElseThrow());
            store.completeTurn(b.session().id(), List.of(), List.of(), reply(b.chat(), null, "b" + i, "k-b" + i));
        }
        store.markDelivered(sent.get(4), "p-4");

        assertThat(store.recentOutbound(a.chat().id(), 3))
                .extracting(Outbound::id)
                .containsExactly(sent.get(2), sent.get(3), sent.get(4));
        assertThat(store.recentOutbound(a.chat().id(), 0)).isEmpty();
        assertThatThrownBy(() -> store.recentOutbound(a.chat().id(), -1)).isInstanceOf(IllegalArgumentException.class);
    }

    // ---- restart and close

    @Test
    void everythingSurvivesARestart() {
        Fixture f = fixture("C1");
        store.wire(f.chat().id(), f.agent().id());
        InboundId done = receive(f, "m-1");
        store.claimPending(f.session().id(), 10);
        OutboundId delivered = store.completeTurn(
                        f.session().id(), List.of(done), List.of(), reply(f.chat(), done, "r1", "k-1"))
                .orElseThrow();
        store.markDelivered(delivered, "p-1");
        OutboundId pending = store.completeTurn(
                        f.session().id(), List.of(), List.of(), reply(f.chat(), null, "r2", "k-2"))
                .orElseThrow();
        InboundId waiting = receive(f, "m-2");
        store.appendTranscript(f.session().id(), List.of(ChatMessage.user("hi"), ChatMessage.assistant("r1")));
        List<Outbound> outboundBefore = store.recentOutbound(f.chat().id(), 10);

        restart();

        assertThat(store.agents()).containsExactly(f.agent());
        assertThat(store.chat(f.chat().id())).contains(f.chat());
        assertThat(store.wiring(f.chat().id()))
                .contains(new Wiring(f.chat().id(), f.agent().id()));
        assertThat(store.sessions()).containsExactly(f.session());
        assertThat(store.transcript(f.session().id()))
                .containsExactly(ChatMessage.user("hi"), ChatMessage.assistant("r1"));
        assertThat(store.recentOutbound(f.chat().id(), 10)).isEqualTo(outboundBefore);
        assertThat(store.undelivered()).extracting(Outbound::id).containsExactly(pending);
        assertThat(store.storeInbound(f.session().id(), f.chat().id(), message(f.chat(), "m-1")))
                .isEqualTo(new InboundStored(done, true));
        assertThat(store.sessionsWithPending()).containsExactly(f.session().id());
        assertThat(ids(store.claimPending(f.session().id(), 10))).containsExactly(waiting);
    }

    @Test
    void claimsSurviveARestartUntilReleased() {
        Fixture f = fixture("C1");
        InboundId m1 = receive(f, "m-1");
        store.claimPending(f.session().id(), 10);

        restart();

        assertThat(store.claimPending(f.session().id(), 10)).isEmpty();
        assertThat(store.releaseClaims()).isEqualTo(1);
        assertThat(ids(store.claimPending(f.session().id(), 10))).containsExactly(m1);
    }

    @Test
    void aClosedStoreRefusesCallsAndClosingAgainIsHarmless() {
        store.close();
        store.close();

        assertThatThrownBy(() -> store.agents()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.ensureAgent(new AgentName("ada"))).isInstanceOf(IllegalStateException.class);
    }

    // ---- concurrency

    @Test
    void concurrentClaimersTakeEachMessageExactlyOnce() throws Exception {
        Fixture f = fixture("C1");
        List<InboundId> stored = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            stored.add(receive(f, "m-" + i));
        }
        List<InboundId> claimed = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch start = new CountDownLatch(1);

        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> claimers = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int batch = 1 + t; // different batch sizes interleave differently
                claimers.add(threads.submit(() -> {
                    start.await();
                    while (true) {
                        List<InboundId> got = ids(store.claimPending(f.session().id(), batch));
                        if (got.isEmpty()) {
                            break;
                        }
                        assertThat(got.stream().map(InboundId::value).toList())
                                .as("each batch oldest first")
                                .isSorted();
                        claimed.addAll(got);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> claimer : claimers) {
                claimer.get();
            }
        }

        assertThat(claimed).hasSize(1000).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(stored);
        assertThat(store.sessionsWithPending()).isEmpty();
    }

    @Test
    void twoStoresOnOneDatabaseClaimEachMessageExactlyOnce() throws Exception {
        // Two stores stand for two processes: they share no Java lock, only the database, so only
        // its locking (SQLite: BEGIN IMMEDIATE and busy_timeout; PostgreSQL: FOR UPDATE SKIP LOCKED
        // and serializable transactions) keeps their claims apart.
        Fixture f = fixture("C1");
        List<InboundId> stored = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            stored.add(receive(f, "m-" + i));
        }
        List<InboundId> claimed = Collections.synchronizedList(new ArrayList<>());
        try (Store second = open(dir, clock);
                ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> claimers = new ArrayList<>();
            for (Store s : List.of(store, second, store, second)) {
                claimers.add(threads.submit(() -> {
                    List<Inbound> got = s.claimPending(f.session().id(), 3);
                    while (!got.isEmpty()) {
                        got.forEach(m -> claimed.add(m.id()));
                        got = s.claimPending(f.session().id(), 3);
                    }
                    return null;
                }));
            }
            for (Future<?> claimer : claimers) {
                claimer.get();
            }
        }

        assertThat(claimed).hasSize(200).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(stored);
    }

    @Test
    void concurrentRedeliveriesOfTheSameMessagesStoreEachOnce() throws Exception {
        Fixture f = fixture("C1");
        int messages = 200;
        int copies = 4;
        Set<InboundStored> results = ConcurrentHashMap.newKeySet();
        CountDownLatch start = new CountDownLatch(1);

        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> senders = new ArrayList<>();
            for (int copy = 0; copy < copies; copy++) {
                senders.add(threads.submit(() -> {
                    start.await();
                    for (int i = 0; i < messages; i++) {
                        results.add(
                                store.storeInbound(f.session().id(), f.chat().id(), message(f.chat(), "m-" + i)));
                        // Readers run beside the writers and must see consistent rows.
                        assertThat(store.sessionsWithPending())
                                .containsOnly(f.session().id());
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> sender : senders) {
                sender.get();
            }
        }

        Set<InboundId> firsts = new HashSet<>();
        results.stream().filter(r -> !r.duplicate()).forEach(r -> firsts.add(r.id()));
        assertThat(results.stream().filter(r -> !r.duplicate())).hasSize(messages);
        assertThat(results.stream().map(InboundStored::id).distinct()).hasSize(messages);
        assertThat(ids(store.claimPending(f.session().id(), 10_000)))
                .hasSize(messages)
                .containsExactlyInAnyOrderElementsOf(firsts);
    }

    @Test
    void concurrentEnsureCallsAgreeOnOneRow() throws Exception {
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Session>> sessions = IntStream.range(0, 50)
                    .mapToObj(i -> threads.submit(() -> {
                        Agent agent = store.ensureAgent(new AgentName("ada"));
                        Chat chat = store.ensureChat("test", "C1");
                        return store.ensureSession(agent.id(), chat.id(), "");
                    }))
                    .toList();
            Set<Session> distinct = new HashSet<>();
            for (Future<Session> session : sessions) {
                distinct.add(session.get());
            }
            assertThat(distinct).hasSize(1);
        }
        assertThat(store.agents()).hasSize(1);
        assertThat(store.sessions()).hasSize(1);
    }

    @Test
    void inboundIsFoundByIdInItsCurrentState() {
        Fixture f = fixture("C1");
        InboundId id = receive(f, "m-1");

        assertThat(store.inbound(id)).hasValueSatisfying(m -> {
            assertThat(m.state()).isEqualTo(InboundState.PENDING);
            assertThat(m.platformMessageId()).isEqualTo("m-1");
            assertThat(m.text()).isEqualTo("hi m-1");
        });
        store.claimPending(f.session().id(), 1);
        assertThat(store.inbound(id).map(Inbound::state)).contains(InboundState.CLAIMED);
        assertThat(store.inbound(new InboundId(404))).isEmpty();
    }

    @Test
    void completeTurnAppendsTheTranscriptOnceEvenWhenCompletedTwice() {
        Fixture f = fixture("C1");
        InboundId m1 = receive(f, "m-1");
        store.claimPending(f.session().id(), 1);
        List<ChatMessage> turn = List.of(ChatMessage.user("hi m-1"), ChatMessage.assistant("hello"));

        store.completeTurn(f.session().id(), List.of(m1), turn, reply(f.chat(), m1, "hello", "turn:1"));
        store.completeTurn(f.session().id(), List.of(m1), turn, reply(f.chat(), m1, "hello", "turn:1"));

        assertThat(store.transcript(f.session().id())).containsExactlyElementsOf(turn);
        assertThat(store.undelivered(f.chat().id())).hasSize(1);
    }

    @Test
    void theSamePlatformMessageIdInTwoChatsIsTwoMessages() {
        Fixture a = fixture("C1");
        Fixture b = fixture("C2");

        InboundStored first = store.storeInbound(a.session().id(), a.chat().id(), message(a.chat(), "42"));
        InboundStored second = store.storeInbound(b.session().id(), b.chat().id(), message(b.chat(), "42"));

        assertThat(first.duplicate()).isFalse();
        assertThat(second.duplicate()).isFalse();
        assertThat(second.id()).isNotEqualTo(first.id());
    }

    // ---- access: roles, sender policy, held senders, pairing codes

    static final UserId ALICE = new UserId("test", "alice");
    static final UserId MALLORY = new UserId("test", "mallory");

    static NewInbound from(Chat chat, String sender, String platformMessageId, String text) {
        return new NewInbound(chat.channel(), chat.platformChatId(), platformMessageId, sender, text);
    }

    static byte[] hash(int seed) {
        byte[] hash = new byte[32];
        java.util.Arrays.fill(hash, (byte) seed);
        return hash;
    }

    @Test
    void aRoleIsGrantedOncePerScopeListedAndRevokedWithExactlyThatScope() {
        Agent ada = store.ensureAgent(new AgentName("ada"));
        Agent bob = store.ensureAgent(new AgentName("bob"));

        assertThat(store.grantRole(ALICE, ADMIN, ada.id(), "test:owner")).isTrue();
        assertThat(store.grantRole(ALICE, ADMIN, ada.id(), "test:owner")).isFalse();
        assertThat(store.grantRole(ALICE, ADMIN, bob.id(), "test:owner")).isTrue();
        assertThat(store.grantRole(ALICE, MEMBER, null, "test:owner")).isTrue();
        assertThat(store.grantRole(ALICE, MEMBER, null, "test:owner")).isFalse();
        assertThat(store.grantRole(MALLORY, OWNER, null, "test:owner")).isTrue();
        restart();

        assertThat(store.roleGrants(ALICE))
                .extracting(RoleGrant::role, RoleGrant::agent, RoleGrant::grantedBy)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(ADMIN, ada.id(), "test:owner"),
                        org.assertj.core.groups.Tuple.tuple(ADMIN, bob.id(), "test:owner"),
                        org.assertj.core.groups.Tuple.tuple(MEMBER, null, "test:owner"));
        assertThat(store.roleGrants()).hasSize(4);
        assertThat(store.revokeRole(ALICE, ADMIN, null)).isFalse();
        assertThat(store.revokeRole(ALICE, ADMIN, ada.id())).isTrue();
        assertThat(store.revokeRole(ALICE, ADMIN, ada.id())).isFalse();
        assertThat(store.roleGrants(ALICE)).extracting(RoleGrant::agent).containsExactly(bob.id(), null);
    }

    @Test
    void anOwnerCannotBeScopedAndAGrantMustNameAnExistingAgent() {
        Agent ada = store.ensureAgent(new AgentName("ada"));

        assertThatThrownBy(() -> store.grantRole(ALICE, OWNER, ada.id(), "x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("owner is global");
        assertThatThrownBy(() -> store.grantRole(ALICE, ADMIN, new AgentId(404), "x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no agent 404");
        assertThat(store.roleGrants()).isEmpty();
    }

    @Test
    void aChatHasNoSenderPolicyUntilOneIsSetAndTheLastOneSetStays() {
        Fixture f = fixture("C1");

        assertThat(store.senderPolicy(f.chat().id())).isEmpty();
        store.setSenderPolicy(f.chat().id(), SenderPolicy.APPROVAL, "test:owner");
        store.setSenderPolicy(f.chat().id(), SenderPolicy.PUBLIC, "test:owner");
        restart();

        assertThat(store.senderPolicy(f.chat().id())).contains(SenderPolicy.PUBLIC);
        assertThat(store.chats()).containsExactly(f.chat());
        assertThatThrownBy(() -> store.setSenderPolicy(new ChatId(404), SenderPolicy.PUBLIC, "x"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void heldMessagesOfOneSenderShareOnePendingRequestAndARedeliveryIsHeldOnce() {
        Fixture f = fixture("C1");

        Store.Hold first = store.holdInbound(f.chat().id(), f.agent().id(), from(f.chat(), "mallory", "m-1", "one"));
        Store.Hold second = store.holdInbound(f.chat().id(), f.agent().id(), from(f.chat(), "mallory", "m-2", "two"));
        Store.Hold again = store.holdInbound(f.chat().id(), f.agent().id(), from(f.chat(), "mallory", "m-1", "one"));

        assertThat(first).isInstanceOfSatisfying(Store.Hold.Held.class, h -> {
            assertThat(h.newRequest()).isTrue();
            assertThat(h.duplicate()).isFalse();
            assertThat(h.request().sender()).isEqualTo(MALLORY);
            assertThat(h.request().state()).isEqualTo(SenderRequest.State.PENDING);
        });
        SenderRequest.Id id = ((Store.Hold.Held) first).request().id();
        assertThat(second).isInstanceOfSatisfying(Store.Hold.Held.class, h -> {
            assertThat(h.newRequest()).isFalse();
            assertThat(h.request().id()).isEqualTo(id);
        });
        assertThat(again)
                .isInstanceOfSatisfying(
                        Store.Hold.Held.class, h -> assertThat(h.duplicate()).isTrue());
        restart();
        assertThat(store.heldMessages(id)).extracting(HeldMessage::text).containsExactly("one", "two");
        assertThat(store.senderRequest(id))
                .hasValueSatisfying(r -> assertThat(r.held()).isEqualTo(2));
        assertThat(store.claimPending(f.session().id(), 10)).isEmpty();
    }

    @Test
    void aSenderWithARoleForTheAgentIsNeverHeld() {
        Fixture f = fixture("C1");
        store.grantRole(MALLORY, MEMBER, f.agent().id(), "test:owner");

        assertThat(store.holdInbound(f.chat().id(), f.agent().id(), from(f.chat(), "mallory", "m-1", "hi")))
                .isInstanceOf(Store.Hold.HasRole.class);
        assertThat(store.senderRequests()).isEmpty();
    }

    @Test
    void admittingMovesHeldMessagesIntoTheInboxInOrderAndMakesTheSenderAMember() {
        Fixture f = fixture("C1");
        for (int i = 1; i <= 3; i++) {
            store.holdInbound(f.chat().id(), f.agent().id(), from(f.chat(), "mallory", "m-" + i, "text " + i));
        }
        SenderRequest.Id id = store.senderRequests().getFirst().id();

        Store.Admitted admitted = store.admitSender(id, f.session().id(), "test:owner");

        assertThat(admitted.roleGranted()).isTrue();
        assertThat(admitted.request().state()).isEqualTo(SenderRequest.State.ADMITTED);
        assertThat(admitted.request().decidedBy()).isEqualTo("test:owner");
        assertThat(admitted.request().held()).isZero();
        assertThat(store.claimPending(f.session().id(), 10))
                .extracting(Inbound::text, Inbound::senderId)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("text 1", "mallory"),
                        org.assertj.core.groups.Tuple.tuple("text 2", "mallory"),
                        org.assertj.core.groups.Tuple.tuple("text 3", "mallory"));
        assertThat(store.roleGrants(MALLORY)).singleElement().satisfies(g -> {
            assertThat(g.role()).isEqualTo(MEMBER);
            assertThat(g.agent()).isEqualTo(f.agent().id());
        });
        // A redelivery of an admitted message is a duplicate of the inbox's copy.
        assertThat(store.storeInbound(f.session().id(), f.chat().id(), from(f.chat(), "mallory", "m-2", "text 2"))
                        .duplicate())
                .isTrue();
        assertThatThrownBy(() -> store.admitSender(id, f.session().id(), "test:owner"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already admitted");
    }

    @Test
    void refusingDeletesHeldMessagesReturnsThemAndKeepsRefusingTheSenderInThatChat() {
        Fixture f = fixture("C1");
        store.holdInbound(f.chat().id(), f.agent().id(), from(f.chat(), "mallory", "m-1", "one"));
        store.holdInbound(f.chat().id(), f.agent().id(), from(f.chat(), "mallory", "m-2", "two"));
        SenderRequest.Id id = store.senderRequests().getFirst().id();

        List<HeldMessage> dropped = store.refuseSender(id, "test:owner");

        assertThat(dropped).extracting(HeldMessage::platformMessageId).containsExactly("m-1", "m-2");
        assertThat(store.heldMessages(id)).isEmpty();
        assertThat(store.holdInbound(f.chat().id(), f.agent().id(), from(f.chat(), "mallory", "m-3", "three")))
                .isInstanceOfSatisfying(
                        Store.Hold.Refused.class,
                        r -> assertThat(r.request().id()).isEqualTo(id));
        assertThat(store.roleGrants(MALLORY)).isEmpty();
        assertThatThrownBy(() -> store.refuseSender(id, "test:owner")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aSenderAdmittedAndLaterRevokedIsHeldUnderANewRequest() {
        Fixture f = fixture("C1");
        store.holdInbound(f.chat().id(), f.agent().id(), from(f.chat(), "mallory", "m-1", "one"));
        SenderRequest.Id first = store.senderRequests().getFirst().id();
        store.admitSender(first, f.session().id(), "test:owner");
        store.revokeRole(MALLORY, MEMBER, f.agent().id());

        Store.Hold hold = store.holdInbound(f.chat().id(), f.agent().id(), from(f.chat(), "mallory", "m-2", "two"));

        assertThat(hold).isInstanceOfSatisfying(Store.Hold.Held.class, h -> {
            assertThat(h.newRequest()).isTrue();
            assertThat(h.request().id()).isNotEqualTo(first);
        });
    }

    @Test
    void admittingIntoAnotherChatsSessionIsRefusedAndChangesNothing() {
        Fixture f = fixture("C1");
        Fixture other = fixture("C2");
        store.holdInbound(f.chat().id(), f.agent().id(), from(f.chat(), "mallory", "m-1", "one"));
        SenderRequest.Id id = store.senderRequests().getFirst().id();

        assertThatThrownBy(() -> store.admitSender(id, other.session().id(), "test:owner"))
                .isInstanceOf(IllegalArgumentException.class);

        assertThat(store.heldMessages(id)).hasSize(1);
        assertThat(store.senderRequest(id).orElseThrow().state()).isEqualTo(SenderRequest.State.PENDING);
    }

    @Test
    void aPairingCodeWiresItsChatAndMakesTheClaimantAdminExactlyOnce() {
        Agent ada = store.ensureAgent(new AgentName("ada"));
        Chat chat = store.ensureChat("test", "new-chat");
        Chat other = store.ensureChat("test", "other-chat");
        store.addPairingCode(hash(1), ada.id(), "test:owner", START.plus(Duration.ofMinutes(10)));
        restart();

        Store.PairingClaim claim = store.claimPairingCode(hash(1), chat.id(), ALICE, "p-1", START);
        Store.PairingClaim reuse = store.claimPairingCode(hash(1), other.id(), MALLORY, "p-1", START);

        assertThat(claim).isEqualTo(new Store.PairingClaim.Claimed(ada.id(), true));
        assertThat(reuse).isInstanceOf(Store.PairingClaim.Used.class);
        assertThat(store.wiring(chat.id())).contains(new Wiring(chat.id(), ada.id()));
        assertThat(store.wiring(other.id())).isEmpty();
        assertThat(store.roleGrants(ALICE)).singleElement().satisfies(g -> {
            assertThat(g.role()).isEqualTo(ADMIN);
            assertThat(g.agent()).isEqualTo(ada.id());
            assertThat(g.grantedBy()).isEqualTo("pairing");
        });
        assertThat(store.roleGrants(MALLORY)).isEmpty();
        assertThat(store.isPairingMessage(chat.id(), "p-1")).isTrue();
        assertThat(store.isPairingMessage(chat.id(), "p-2")).isFalse();
        assertThat(store.isPairingMessage(other.id(), "p-1")).isFalse();
    }

    @Test
    void anExpiredOrUnknownPairingCodeChangesNothing() {
        Agent ada = store.ensureAgent(new AgentName("ada"));
        Chat chat = store.ensureChat("test", "new-chat");
        Instant expiry = START.plus(Duration.ofMinutes(10));
        store.addPairingCode(hash(1), ada.id(), "test:owner", expiry);

        assertThat(store.claimPairingCode(hash(1), chat.id(), ALICE, "p-1", expiry))
                .isEqualTo(new Store.PairingClaim.Expired(expiry));
        assertThat(store.claimPairingCode(hash(2), chat.id(), ALICE, "p-1", START))
                .isInstanceOf(Store.PairingClaim.Unknown.class);
        assertThat(store.wiring(chat.id())).isEmpty();
        assertThat(store.roleGrants()).isEmpty();
        assertThatThrownBy(() -> store.addPairingCode(new byte[31], ada.id(), "x", expiry))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.addPairingCode(hash(1), ada.id(), "x", expiry))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void concurrentClaimsOfOneCodeSucceedExactlyOnce() throws Exception {
        Agent ada = store.ensureAgent(new AgentName("ada"));
        store.addPairingCode(hash(7), ada.id(), "test:owner", START.plus(Duration.ofMinutes(10)));
        List<Chat> chats = IntStream.range(0, 16)
                .mapToObj(i -> store.ensureChat("test", "chat-" + i))
                .toList();
        List<Future<Store.PairingClaim>> claims = new ArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Chat chat : chats) {
                claims.add(threads.submit(() -> {
                    go.await();
                    return store.claimPairingCode(
                            hash(7),
                            chat.id(),
                            new UserId("test", "u" + chat.id().value()),
                            "p-1",
                            START);
                }));
            }
            go.countDown();
        }
        List<Store.PairingClaim> results = new ArrayList<>();
        for (Future<Store.PairingClaim> f : claims) {
            results.add(f.get());
        }

        assertThat(results)
                .filteredOn(r -> r instanceof Store.PairingClaim.Claimed)
                .hasSize(1);
        assertThat(results)
                .filteredOn(r -> r instanceof Store.PairingClaim.Used)
                .hasSize(15);
        assertThat(chats.stream().filter(c -> store.wiring(c.id()).isPresent())).hasSize(1);
        assertThat(store.roleGrants()).hasSize(1);
    }

    // ---- the model usage ledger

    Ledger.Charge charge(Agent agent, Chat chat, Session session, LocalDate day, String model, long cost) {
        return new Ledger.Charge(
                agent.id(),
                chat.id(),
                session.id(),
                "call-" + cost,
                START,
                day,
                model,
                new Usage(100, 20, 3, 4),
                cost,
                true,
                true);
    }

    @Test
    void theLedgerSumsAnAgentsDayAndMonthAndAChatsDayAndKeepsThemAcrossARestart() {
        Agent ada = store.ensureAgent(new AgentName("ada"));
        Agent bob = store.ensureAgent(new AgentName("bob"));
        Chat one = store.ensureChat("terminal", "ada");
        Chat two = store.ensureChat("slack", "C2");
        Session s1 = store.ensureSession(ada.id(), one.id(), "");
        Session s2 = store.ensureSession(ada.id(), two.id(), "");
        Session s3 = store.ensureSession(bob.id(), one.id(), "");
        LocalDate day = LocalDate.of(2030, 3, 15);
        store.ledger().record(charge(ada, one, s1, day, "m", 1_000));
        store.ledger().record(charge(ada, two, s2, day, "m", 20));
        store.ledger().record(charge(ada, one, s1, day.minusDays(1), "m", 300));
        store.ledger().record(charge(ada, one, s1, LocalDate.of(2030, 2, 28), "m", 50_000));
        store.ledger().record(charge(bob, one, s3, day, "m", 7));

        restart();

        assertThat(store.ledger().spend(ada.id(), one.id(), day)).isEqualTo(new Ledger.Spend(1_020, 254, 1_320, 1_000));
        assertThat(store.ledger().spend(ada.id(), null, day)).isEqualTo(new Ledger.Spend(1_020, 254, 1_320, 0));
        assertThat(store.ledger().spend(bob.id(), one.id(), day.plusDays(1))).isEqualTo(new Ledger.Spend(0, 0, 7, 0));
    }

    @Test
    void theLedgerTotalsGroupByDayAndAgentChatOrModelNewestFirst() {
        Agent ada = store.ensureAgent(new AgentName("ada"));
        Chat one = store.ensureChat("terminal", "ada");
        Session s1 = store.ensureSession(ada.id(), one.id(), "");
        LocalDate day = LocalDate.of(2030, 3, 15);
        store.ledger().record(charge(ada, one, s1, day, "big", 900));
        store.ledger().record(charge(ada, one, s1, day, "small", 10));
        store.ledger().record(charge(ada, one, s1, day.minusDays(1), "small", 5));
        store.ledger().record(charge(ada, one, s1, day.minusDays(9), "small", 5));

        assertThat(store.ledger().totals(day.minusDays(1), Ledger.Grouping.MODEL))
                .extracting(t -> t.day() + " " + t.key() + " " + t.calls() + " " + t.costMicros())
                .containsExactly("2030-03-15 big 1 900", "2030-03-15 small 1 10", "2030-03-14 small 1 5");
        assertThat(store.ledger().totals(day, Ledger.Grouping.AGENT))
                .singleElement()
                .isEqualTo(new Ledger.Total(day, "ada", 2, new Usage(200, 40, 6, 8), 910, 0));
        assertThat(store.ledger().totals(day, Ledger.Grouping.CHAT))
                .extracting(Ledger.Total::key)
                .containsExactly("terminal:ada");
    }

    // ---- scheduled tasks

    Task newTask(Fixture f, Schedule schedule, Instant next) {
        return store.tasks()
                .create(new Tasks.NewTask(
                        f.agent().id(),
                        "write the report",
                        schedule,
                        ZoneId.of("Europe/Paris"),
                        f.chat().id(),
                        Task.SessionMode.ISOLATED,
                        null,
                        Task.CatchUp.ONCE,
                        next,
                        "terminal:owner"));
    }

    Tasks.Firing firing(Task t, List<Instant> runs, int skipped, Instant next, SessionId session) {
        return new Tasks.Firing(
                t.id(), t.nextRun(), runs, skipped, skipped > 0 ? t.nextRun() : null, next, session, t.prompt(), false);
    }

    @Test
    void aTaskKeepsItsScheduleZoneAndNextRunAcrossARestart() {
        Fixture f = fixture("c1");
        Instant next = START.plus(Duration.ofHours(1));
        Task cron = newTask(f, Schedule.parse("cron", "30 2 * * *", ZoneId.of("Europe/Paris"), START), next);
        Task every = newTask(f, new Schedule.Every(Duration.ofMinutes(5), START), START.plusSeconds(300));

        restart();

        assertThat(store.tasks().task(cron.id())).contains(cron);
        assertThat(cron.state()).isEqualTo(Task.State.ACTIVE);
        assertThat(cron.createdAt()).isEqualTo(START);
        assertThat(store.tasks().tasks()).containsExactly(cron, every);
        assertThat(store.tasks().tasks(f.agent().id())).containsExactly(cron, every);
        assertThat(store.tasks().tasks(store.ensureAgent(new AgentName("bob")).id()))
                .isEmpty();
        assertThat(store.tasks().earliestDue()).contains(START.plusSeconds(300));
        assertThat(store.tasks().due(next)).containsExactly(every, cron);
        assertThat(store.tasks().due(next.minusMillis(1))).containsExactly(every);
    }

    static Tasks.NewTask oneOff(Fixture f, Schedule at, ChatId chat, Task.SessionMode mode) {
        return new Tasks.NewTask(
                f.agent().id(),
                "p",
                at,
                ZoneId.of("UTC"),
                chat,
                mode,
                null,
                Task.CatchUp.ONCE,
                START,
                "terminal:owner");
    }

    @Test
    void aTaskForAChatOrSessionThatDoesNotExistIsRefused() {
        Fixture f = fixture("c1");
        Schedule at = new Schedule.At(START.plusSeconds(60));
        assertThatThrownBy(() -> store.tasks().create(oneOff(f, at, new ChatId(999), Task.SessionMode.ISOLATED)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.tasks().create(oneOff(f, at, f.chat().id(), Task.SessionMode.ORIGIN)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ORIGIN task needs the session");
        assertThat(store.tasks().tasks()).isEmpty();
    }

    @Test
    void firingStoresItsMessagesHistoryAndNextRunOnceEvenWhenTwoSchedulersRace() {
        Fixture f = fixture("c1");
        Instant due = START.plusSeconds(60);
        Task t = newTask(f, new Schedule.Every(Duration.ofMinutes(1), due), due);
        Session own = store.ensureSession(f.agent().id(), f.chat().id(), t.threadKey());
        clock.advance(Duration.ofSeconds(61));

        Tasks.Fired fired = store.tasks()
                .fire(firing(t, List.of(due), 0, due.plusSeconds(60), own.id()))
                .orElseThrow();
        assertThat(store.tasks().fire(firing(t, List.of(due), 0, due.plusSeconds(60), own.id())))
                .as("the same firing again (another replica)")
                .isEmpty();

        assertThat(fired.task().nextRun()).isEqualTo(due.plusSeconds(60));
        assertThat(fired.task().session()).isEqualTo(own.id());
        assertThat(fired.runs()).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(TaskRun.Status.QUEUED);
            assertThat(r.due()).isEqualTo(due);
            assertThat(r.firedAt()).isEqualTo(clock.instant());
            assertThat(r.inbound()).isEqualTo(fired.messages().getFirst());
        });
        List<Inbound> claimed = store.claimPending(own.id(), 10);
        assertThat(claimed).singleElement().satisfies(m -> {
            assertThat(m.text()).isEqualTo("write the report");
            assertThat(m.senderId()).isEqualTo("scheduler:task-" + t.id().value());
            assertThat(m.chatId()).isEqualTo(f.chat().id());
        });
        assertThat(store.sessionsWithPending()).isEmpty();
    }

    @Test
    void aRunsStatusStartAndDurationFollowItsMessageAndItsReply() {
        Fixture f = fixture("c1");
        Task t = newTask(f, new Schedule.Every(Duration.ofMinutes(1), START), START);
        Session own = store.ensureSession(f.agent().id(), f.chat().id(), t.threadKey());
        Tasks.Fired first = store.tasks()
                .fire(firing(t, List.of(START), 0, START.plusSeconds(60), own.id()))
                .orElseThrow();
        clock.advance(Duration.ofSeconds(2));
        store.claimPending(own.id(), 10);
        assertThat(store.tasks().runs(t.id(), 10)).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(TaskRun.Status.RUNNING);
            assertThat(r.startedAt()).isEqualTo(clock.instant());
            assertThat(r.duration()).isNull();
        });
        clock.advance(Duration.ofSeconds(3));
        store.completeTurn(
                own.id(),
                first.messages(),
                List.of(),
                new NewOutbound(f.chat().id(), first.messages().getFirst(), "the model is down", true, "turn:a"));

        Task after = store.tasks().task(t.id()).orElseThrow();
        Tasks.Fired second = store.tasks()
                .fire(firing(after, List.of(START.plusSeconds(60)), 0, START.plusSeconds(120), own.id()))
                .orElseThrow();
        store.claimPending(own.id(), 10);
        store.completeTurn(
                own.id(),
                second.messages(),
                List.of(),
                new NewOutbound(f.chat().id(), second.messages().getFirst(), "done", false, "turn:b"));

        assertThat(store.tasks().runs(t.id(), 10))
                .extracting(TaskRun::status, TaskRun::error, TaskRun::duration)
                .containsExactly(
                        tuple(TaskRun.Status.OK, null, Duration.ZERO),
                        tuple(TaskRun.Status.FAILED, "the model is down", Duration.ofSeconds(3)));
        assertThat(store.tasks().runs(t.id(), 1)).hasSize(1);
    }

    @Test
    void catchUpRowsCountTheRunsSkippedAndALastFiringEndsTheTask() {
        Fixture f = fixture("c1");
        Task t = newTask(f, new Schedule.At(START), START);
        Session own = store.ensureSession(f.agent().id(), f.chat().id(), t.threadKey());

        Tasks.Fired fired =
                store.tasks().fire(firing(t, List.of(), 4, null, own.id())).orElseThrow();

        assertThat(fired.messages()).isEmpty();
        assertThat(fired.task().state()).isEqualTo(Task.State.DONE);
        assertThat(fired.task().nextRun()).isNull();
        assertThat(store.tasks().runs(t.id(), 10)).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(TaskRun.Status.SKIPPED);
            assertThat(r.skipped()).isEqualTo(4);
            assertThat(r.inbound()).isNull();
        });
        assertThat(store.tasks().earliestDue()).isEmpty();
        assertThat(store.tasks().fire(firing(fired.task(), List.of(START), 0, null, own.id())))
                .as("a DONE task fires no more")
                .isEmpty();
    }

    @Test
    void aPausedTaskIsNotDueAndACancelledOneNeverRunsAgain() {
        Fixture f = fixture("c1");
        Task t = newTask(f, new Schedule.Every(Duration.ofMinutes(1), START), START);

        Task paused = store.tasks().setPaused(t.id(), true, START).orElseThrow();
        assertThat(paused.paused()).isTrue();
        assertThat(store.tasks().setPaused(t.id(), true, START))
                .as("already paused")
                .isEmpty();
        assertThat(store.tasks().due(START.plusSeconds(3600))).isEmpty();
        assertThat(store.tasks().earliestDue()).isEmpty();

        Task resumed =
                store.tasks().setPaused(t.id(), false, START.plusSeconds(120)).orElseThrow();
        assertThat(resumed.paused()).isFalse();
        assertThat(resumed.nextRun()).isEqualTo(START.plusSeconds(120));
        assertThat(store.tasks().earliestDue()).contains(START.plusSeconds(120));

        Task cancelled = store.tasks().cancel(t.id()).orElseThrow();
        assertThat(cancelled.state()).isEqualTo(Task.State.CANCELLED);
        assertThat(cancelled.nextRun()).isNull();
        assertThat(store.tasks().cancel(t.id())).isEmpty();
        assertThat(store.tasks().cancel(new TaskId(999))).isEmpty();
        assertThat(store.tasks().setPaused(t.id(), true, null)).isEmpty();
        assertThat(store.tasks().earliestDue()).isEmpty();
    }
}
