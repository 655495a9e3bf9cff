package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.access.Access;
import dev.cordon.core.access.Role;
import dev.cordon.core.access.SenderPolicy;
import dev.cordon.core.access.SenderRequest;
import dev.cordon.core.access.UserId;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.channel.InboundSink.InboundResult;
import dev.cordon.core.channel.Router;
import dev.cordon.core.store.Store;
import dev.cordon.store.Stores;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router's sender policy and pairing, with a real SQLite store and the real audit log; the
 * channel is played by the test, calling {@link Router#accept} the way every adapter does.
 */
class RouterAccessTest {
    static final UserId OWNER = UserId.TERMINAL_OWNER;
    static final UserId ALICE = new UserId("test", "alice");
    static final UserId STRANGER = new UserId("test", "U9");

    @TempDir
    Path dir;

    final FakeClock clock = new FakeClock(Instant.parse("2030-01-02T03:04:05Z"));
    final List<SessionId> woken = new CopyOnWriteArrayList<>();
    final List<ChatId> deliveries = new CopyOnWriteArrayList<>();
    final AtomicInteger messageIds = new AtomicInteger();
    Store store;
    AuditLog audit;
    Access access;
    Router router;
    Agent main;
    Agent other;
    Chat chat;

    @BeforeEach
    void open() {
        store = Stores.sqlite(dir.resolve("cordon.db"), clock);
        audit = AuditLogs.open(store.audit(), dir.resolve("keys/audit-ed25519"));
        access = Access.create(store, audit, clock, new Random(42), woken::add, deliveries::add);
        router = new Router(store, audit, clock, woken::add, access);
        main = store.ensureAgent(new AgentName("main"));
        other = store.ensureAgent(new AgentName("other"));
        chat = store.ensureChat("test", "c1");
        store.wire(chat.id(), main.id());
    }

    @AfterEach
    void close() {
        audit.close();
        store.close();
    }

    InboundResult send(String platformChat, UserId sender, String text) {
        return router.accept(new NewInbound(
                "test", platformChat, "m-" + messageIds.incrementAndGet(), sender.platformUserId(), text));
    }

    List<AuditEvent> audited(String action) {
        return audit.read(0, 10_000).stream()
                .map(AuditEntry::event)
                .filter(e -> e.action().equals(action))
                .toList();
    }

    Session session(Chat c, Agent a) {
        return store.ensureSession(a.id(), c.id(), "");
    }

    void policy(SenderPolicy policy) {
        assertThat(access.setSenderPolicy(OWNER, "test:c1", policy)).isInstanceOf(Access.Outcome.Done.class);
    }

    // ---- strict

    @Test
    void strictIsTheDefaultAndDropsASenderWithoutARoleNamingTheRule() {
        InboundResult result = send("c1", STRANGER, "let me in");

        assertThat(result)
                .isInstanceOfSatisfying(
                        InboundResult.Dropped.class,
                        d -> assertThat(d.reason())
                                .startsWith("sender_policy strict: test:U9 has no role for agent main")
                                .contains("cordon users grant test:U9 member --agent main"));
        assertThat(store.claimPending(session(chat, main).id(), 10)).isEmpty();
        assertThat(woken).isEmpty();
        assertThat(audited("inbound.dropped")).singleElement().satisfies(e -> {
            assertThat(e.decision()).isEqualTo(Decision.DENY);
            assertThat(e.rule()).isEqualTo("sender_policy strict");
            assertThat(e.reason()).startsWith("sender_policy strict: test:U9 has no role for agent main");
            assertThat(e.actor().id()).isEqualTo("test:U9");
            assertThat(e.agent()).isEqualTo(main.name());
        });
    }

    @Test
    void strictAdmitsAMemberOfTheAgentAndAuditsWhy() {
        assertThat(access.grant(OWNER, ALICE, Role.MEMBER, main.name())).isInstanceOf(Access.Outcome.Done.class);

        InboundResult result = send("c1", ALICE, "hello");

        assertThat(result).isInstanceOf(InboundResult.Accepted.class);
        assertThat(store.claimPending(session(chat, main).id(), 10))
                .extracting(Inbound::text)
                .containsExactly("hello");
        assertThat(woken).containsExactly(session(chat, main).id());
        assertThat(audited("inbound.accepted")).singleElement().satisfies(e -> {
            assertThat(e.rule()).isEqualTo("sender_policy strict");
            assertThat(e.reason()).isEqualTo("test:alice is a member of agent main");
        });
        assertThat(audited("role.grant")).singleElement().satisfies(e -> {
            assertThat(e.actor().id()).isEqualTo("terminal:owner");
            assertThat(e.details()).containsEntry("user", "test:alice").containsEntry("role", "member");
        });
    }

    @Test
    void aMemberOfAnotherAgentIsNotLetInAndARevokedMemberIsDroppedAgain() {
        access.grant(OWNER, ALICE, Role.MEMBER, other.name());
        assertThat(send("c1", ALICE, "one")).isInstanceOf(InboundResult.Dropped.class);

        access.grant(OWNER, ALICE, Role.MEMBER, main.name());
        assertThat(send("c1", ALICE, "two")).isInstanceOf(InboundResult.Accepted.class);

        assertThat(access.revoke(OWNER, ALICE, Role.MEMBER, main.name())).isInstanceOf(Access.Outcome.Done.class);
        assertThat(send("c1", ALICE, "three")).isInstanceOf(InboundResult.Dropped.class);
        assertThat(audited("role.revoke")).hasSize(1);
    }

    @Test
    void theTerminalOwnerTalksInAStrictChatAndCannotBeRevoked() {
        Chat terminal = store.ensureChat("terminal", "main");
        store.wire(terminal.id(), main.id());

        InboundResult result = router.accept(new NewInbound("terminal", "main", "t-1", "owner", "hi"));

        assertThat(result).isInstanceOf(InboundResult.Accepted.class);
        assertThat(access.revoke(OWNER, OWNER, Role.OWNER, null))
                .isInstanceOfSatisfying(
                        Access.Outcome.Rejected.class,
                        r -> assertThat(r.reason()).contains("cannot be revoked"));
    }

    // ---- public

    @Test
    void publicAdmitsAnyone() {
        policy(SenderPolicy.PUBLIC);

        assertThat(send("c1", STRANGER, "hi")).isInstanceOf(InboundResult.Accepted.class);

        assertThat(audited("inbound.accepted"))
                .singleElement()
                .satisfies(e -> assertThat(e.rule()).isEqualTo("sender_policy public"));
        assertThat(audited("chat.policy"))
                .singleElement()
                .satisfies(e -> assertThat(e.details())
                        .containsEntry("before", "strict")
                        .containsEntry("after", "public"));
    }

    // ---- approval

    @Test
    void approvalHoldsAnUnknownSenderThenDeliversTheirMessagesInOrderWhenAdmitted() {
        policy(SenderPolicy.APPROVAL);

        List<InboundResult> results =
                List.of(send("c1", STRANGER, "first"), send("c1", STRANGER, "second"), send("c1", STRANGER, "third"));

        assertThat(results).allSatisfy(r -> assertThat(r).isInstanceOf(InboundResult.Held.class));
        long requestId = ((InboundResult.Held) results.getFirst()).requestId();
        assertThat(results)
                .allSatisfy(
                        r -> assertThat(((InboundResult.Held) r).requestId()).isEqualTo(requestId));
        Session session = session(chat, main);
        assertThat(store.claimPending(session.id(), 10)).isEmpty();
        assertThat(woken).isEmpty();
        assertThat(audited("access.request")).singleElement().satisfies(e -> {
            assertThat(e.actor().id()).isEqualTo("test:U9");
            assertThat(e.rule()).isEqualTo("sender_policy approval");
            assertThat(e.details()).containsEntry("request", requestId);
        });
        assertThat(audited("inbound.held")).hasSize(3);

        Access.Outcome outcome = access.admit(OWNER, new SenderRequest.Id(requestId));

        assertThat(outcome)
                .isInstanceOfSatisfying(
                        Access.Outcome.Done.class,
                        d -> assertThat(d.message()).contains("3 held message(s) delivered in order"));
        assertThat(woken).containsExactly(session.id());
        assertThat(store.claimPending(session.id(), 10))
                .extracting(Inbound::text)
                .containsExactly("first", "second", "third");
        assertThat(audited("access.admit"))
                .singleElement()
                .satisfies(e -> assertThat(e.actor().id()).isEqualTo("terminal:owner"));
        assertThat(audited("inbound.accepted"))
                .hasSize(3)
                .allSatisfy(e -> assertThat(e.reason()).contains("admitted by terminal:owner"));
        // Admitted senders are members now: their next message goes straight in.
        assertThat(send("c1", STRANGER, "fourth")).isInstanceOf(InboundResult.Accepted.class);
        assertThat(access.role(STRANGER, main.name())).contains(Role.MEMBER);
        assertThat(access.admit(OWNER, new SenderRequest.Id(requestId)))
                .isInstanceOfSatisfying(
                        Access.Outcome.Rejected.class,
                        r -> assertThat(r.reason()).contains("already admitted"));
    }

    @Test
    void heldMessagesSurviveARestartAndAreDeliveredWhenAdmittedAfterIt() {
        policy(SenderPolicy.APPROVAL);
        send("c1", STRANGER, "before the restart");
        InboundResult.Held held = (InboundResult.Held) send("c1", STRANGER, "also before");

        close();
        open();
        Access.Outcome outcome = access.admit(OWNER, new SenderRequest.Id(held.requestId()));

        assertThat(outcome).isInstanceOf(Access.Outcome.Done.class);
        assertThat(store.claimPending(session(chat, main).id(), 10))
                .extracting(Inbound::text)
                .containsExactly("before the restart", "also before");
        assertThat(audit.verify().ok()).isTrue();
    }

    @Test
    void approvalDropsHeldMessagesWhenRefusedAndKeepsDroppingThatSender() {
        policy(SenderPolicy.APPROVAL);
        send("c1", STRANGER, "first");
        InboundResult.Held held = (InboundResult.Held) send("c1", STRANGER, "second");

        Access.Outcome outcome = access.refuse(OWNER, new SenderRequest.Id(held.requestId()));

        assertThat(outcome)
                .isInstanceOfSatisfying(
                        Access.Outcome.Done.class, d -> assertThat(d.message()).contains("2 held message(s) dropped"));
        assertThat(store.claimPending(session(chat, main).id(), 10)).isEmpty();
        assertThat(audited("access.refuse"))
                .singleElement()
                .satisfies(e -> assertThat(e.decision()).isEqualTo(Decision.DENY));
        assertThat(audited("inbound.dropped")).hasSize(2).allSatisfy(e -> {
            assertThat(e.rule()).isEqualTo("sender_policy approval");
            assertThat(e.reason()).contains("test:U9 was refused for agent main by terminal:owner");
        });

        assertThat(send("c1", STRANGER, "third"))
                .isInstanceOfSatisfying(
                        InboundResult.Dropped.class, d -> assertThat(d.reason()).contains("was refused"));
        assertThat(woken).isEmpty();
    }

    @Test
    void noMessageIsLostOrDuplicatedWhileASenderIsAdmittedDuringAFlood() throws Exception {
        policy(SenderPolicy.APPROVAL);
        send("c1", STRANGER, "opening");
        long requestId = store.senderRequests().getFirst().id().value();
        int flood = 60;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<InboundResult>> results = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < flood; i++) {
                String text = "flood " + i;
                results.add(threads.submit(() -> {
                    go.await();
                    return send("c1", STRANGER, text);
                }));
            }
            Future<Access.Outcome> admitted = threads.submit(() -> {
                go.await();
                return access.admit(OWNER, new SenderRequest.Id(requestId));
            });
            go.countDown();
            assertThat(admitted.get()).isInstanceOf(Access.Outcome.Done.class);
        }
        for (Future<InboundResult> r : results) {
            assertThat(r.get()).isNotInstanceOf(InboundResult.Dropped.class);
        }
        // Messages held after the admit (rare; a new request) are admitted too, so all arrive.
        for (SenderRequest r : store.senderRequests()) {
            if (r.state() == SenderRequest.State.PENDING) {
                access.admit(OWNER, r.id());
            }
        }

        List<String> texts = store.claimPending(session(chat, main).id(), 1_000).stream()
                .map(Inbound::text)
                .toList();
        assertThat(texts).hasSize(flood + 1).doesNotHaveDuplicates().contains("opening");
        assertThat(texts.getFirst()).isEqualTo("opening");
    }

    // ---- pairing

    String code(Agent agent) {
        return ((Access.PairingCode.Issued) access.pair(OWNER, agent.name())).code();
    }

    @Test
    void aPairingCodeWiresAnUnwiredChatOnceAndIsAnsweredInsteadOfReachingTheAgent() {
        String code = code(main);

        InboundResult result = send("new-chat", ALICE, "  " + code.toLowerCase(java.util.Locale.ROOT) + "\n");

        Chat paired = store.ensureChat("test", "new-chat");
        assertThat(result)
                .isInstanceOfSatisfying(
                        InboundResult.Answered.class,
                        a -> assertThat(a.reply()).startsWith("Paired: this chat now talks to agent main."));
        assertThat(store.wiring(paired.id()))
                .hasValueSatisfying(w -> assertThat(w.agentId()).isEqualTo(main.id()));
        assertThat(access.role(ALICE, main.name())).contains(Role.ADMIN);
        assertThat(access.role(ALICE, other.name())).isEmpty();
        assertThat(store.undelivered(paired.id()))
                .singleElement()
                .satisfies(o -> assertThat(o.text()).startsWith("Paired:"));
        assertThat(deliveries).containsExactly(paired.id());
        // The code never reached an agent: no inbound message, no transcript.
        Session session = session(paired, main);
        assertThat(store.claimPending(session.id(), 10)).isEmpty();
        assertThat(store.transcript(session.id())).isEmpty();
        assertThat(audited("pairing.claim"))
                .singleElement()
                .satisfies(e -> assertThat(e.actor().id()).isEqualTo("test:alice"));
        assertThat(audited("pairing.create")).hasSize(1);
        assertThat(audit.read(0, 10_000))
                .noneSatisfy(e -> assertThat(e.event().toString()).containsIgnoringCase(code));

        // The chat now talks to the agent; the code is spent.
        assertThat(send("new-chat", ALICE, "hello main")).isInstanceOf(InboundResult.Accepted.class);
        assertThat(send("third-chat", STRANGER, code))
                .isInstanceOfSatisfying(
                        InboundResult.Dropped.class, d -> assertThat(d.reason()).contains("already used"));
        assertThat(store.wiring(store.ensureChat("test", "third-chat").id())).isEmpty();
    }

    @Test
    void aRedeliveredPairingMessageNeverReachesTheAgent() {
        NewInbound pairing = new NewInbound("test", "new-chat", "p-1", "alice", code(main));

        assertThat(router.accept(pairing)).isInstanceOf(InboundResult.Answered.class);
        assertThat(router.accept(pairing))
                .isInstanceOfSatisfying(
                        InboundResult.Dropped.class,
                        d -> assertThat(d.reason()).contains("a redelivery of the pairing code"));

        Chat paired = store.ensureChat("test", "new-chat");
        assertThat(store.claimPending(session(paired, main).id(), 10)).isEmpty();
        assertThat(store.undelivered(paired.id())).hasSize(1);
    }

    @Test
    void anExpiredPairingCodeIsDroppedAndAudited() {
        String code = code(main);
        clock.advance(Access.PAIRING_CODE_LIFETIME);

        InboundResult result = send("new-chat", ALICE, code);

        assertThat(result)
                .isInstanceOfSatisfying(
                        InboundResult.Dropped.class, d -> assertThat(d.reason()).contains("expired"));
        assertThat(store.wiring(store.ensureChat("test", "new-chat").id())).isEmpty();
        assertThat(audited("inbound.dropped")).singleElement().satisfies(e -> {
            assertThat(e.rule()).isEqualTo("pairing");
            assertThat(e.reason()).contains("cordon pair AGENT");
        });
    }

    @Test
    void inAnUnwiredChatThatEngagesOnMentionOnlyWhatIsAddressedToTheBotIsAudited() {
        Router listening = new Router(store, audit, clock, woken::add, access, false, c -> true);
        String code = code(main);

        InboundResult chatter = listening.accept(
                new NewInbound("test", "busy", "m-1", ALICE.platformUserId(), "lunch?", false, null, null));
        InboundResult addressed = listening.accept(
                new NewInbound("test", "busy", "m-2", ALICE.platformUserId(), "hello bot", true, null, null));

        assertThat(chatter).isInstanceOf(InboundResult.Dropped.class);
        assertThat(addressed).isInstanceOf(InboundResult.Dropped.class);
        assertThat(audited("inbound.dropped"))
                .singleElement()
                .satisfies(e -> assertThat(e.details()).containsEntry("platform_message", "m-2"));
        // A pairing code said without addressing the bot still wires the chat.
        assertThat(listening.accept(
                        new NewInbound("test", "busy", "m-3", ALICE.platformUserId(), code, false, null, null)))
                .isInstanceOf(InboundResult.Answered.class);
    }

    @Test
    void wrongCodesAreLimitedPerChatAndOrdinaryTextIsNotAGuess() {
        String code = code(main);
        assertThat(send("new-chat", ALICE, "hello there"))
                .isInstanceOfSatisfying(
                        InboundResult.Dropped.class, d -> assertThat(d.reason()).contains("is not wired to an agent"));
        for (int i = 0; i < Access.PAIRING_GUESSES; i++) {
            assertThat(send("new-chat", ALICE, "ZZZZZZZ" + (i + 2)))
                    .isInstanceOfSatisfying(
                            InboundResult.Dropped.class,
                            d -> assertThat(d.reason()).contains("not a valid pairing code"));
        }

        // Even the right code is ignored from this chat now; another chat may use it.
        assertThat(send("new-chat", ALICE, code))
                .isInstanceOfSatisfying(
                        InboundResult.Dropped.class, d -> assertThat(d.reason()).contains("wrong codes"));
        assertThat(send("other-chat", ALICE, code)).isInstanceOf(InboundResult.Answered.class);

        clock.advance(Access.PAIRING_GUESS_WINDOW);
        assertThat(send("new-chat", ALICE, code(other))).isInstanceOf(InboundResult.Answered.class);
        assertThat(store.wiring(store.ensureChat("test", "new-chat").id()))
                .hasValueSatisfying(w -> assertThat(w.agentId()).isEqualTo(other.id()));
    }

    // ---- roles and who may change what

    @Test
    void anAdminOfOneAgentAdministersThatAgentOnly() {
        access.grant(OWNER, ALICE, Role.ADMIN, main.name());
        Chat otherChat = store.ensureChat("test", "c2");
        store.wire(otherChat.id(), other.id());

        assertThat(access.mayAdminister(ALICE, main.name())).isTrue();
        assertThat(access.mayApprove(ALICE, main.name())).isTrue();
        assertThat(access.mayApprove("test:alice", main.name())).isTrue();
        assertThat(access.mayAdminister(ALICE, other.name())).isFalse();
        assertThat(access.mayApprove(ALICE, other.name())).isFalse();
        assertThat(access.requireAdmin(ALICE, other.name()))
                .isInstanceOfSatisfying(
                        Access.Permission.Denied.class,
                        d -> assertThat(d.reason())
                                .isEqualTo(
                                        "test:alice is not an admin of agent other; ask an owner or an admin of other,"
                                                + " or run the command on the daemon's host"));
        assertThat(access.requireAdmin(ALICE, null)).isInstanceOf(Access.Permission.Denied.class);

        assertThat(access.grant(ALICE, STRANGER, Role.MEMBER, main.name())).isInstanceOf(Access.Outcome.Done.class);
        assertThat(access.grant(ALICE, STRANGER, Role.MEMBER, other.name()))
                .isInstanceOf(Access.Outcome.Rejected.class);
        assertThat(access.grant(ALICE, STRANGER, Role.ADMIN, null)).isInstanceOf(Access.Outcome.Rejected.class);
        assertThat(access.grant(ALICE, STRANGER, Role.OWNER, null))
                .isInstanceOfSatisfying(
                        Access.Outcome.Rejected.class,
                        r -> assertThat(r.reason()).contains("only an owner"));
        assertThat(access.pair(ALICE, main.name())).isInstanceOf(Access.PairingCode.Issued.class);
        assertThat(access.pair(ALICE, other.name())).isInstanceOf(Access.Outcome.Rejected.class);
        assertThat(access.setSenderPolicy(ALICE, "test:c1", SenderPolicy.PUBLIC))
                .isInstanceOf(Access.Outcome.Done.class);
        assertThat(access.setSenderPolicy(ALICE, "test:c2", SenderPolicy.PUBLIC))
                .isInstanceOf(Access.Outcome.Rejected.class);
        assertThat(access.senderPolicy(otherChat.id())).isEqualTo(SenderPolicy.STRICT);
        // Only the changes that were allowed are on record.
        assertThat(audited("role.grant")).hasSize(2);
        assertThat(audited("chat.policy")).hasSize(1);
    }

    @Test
    void aGlobalAdminAdministersEveryAgentButMakesNoOwners() {
        access.grant(OWNER, ALICE, Role.ADMIN, null);

        assertThat(access.mayAdminister(ALICE, main.name())).isTrue();
        assertThat(access.mayAdminister(ALICE, other.name())).isTrue();
        assertThat(access.requireAdmin(ALICE, null)).isInstanceOf(Access.Permission.Allowed.class);
        assertThat(access.grant(ALICE, STRANGER, Role.OWNER, null)).isInstanceOf(Access.Outcome.Rejected.class);
        assertThat(access.grant(OWNER, STRANGER, Role.OWNER, null)).isInstanceOf(Access.Outcome.Done.class);
        assertThat(access.role(STRANGER, other.name())).contains(Role.OWNER);
    }

    @Test
    void aMemberAdministersNothingAndBadScopesAreRefusedWithTheirReason() {
        access.grant(OWNER, ALICE, Role.MEMBER, null);

        assertThat(access.mayAdminister(ALICE, main.name())).isFalse();
        assertThat(access.grant(ALICE, STRANGER, Role.MEMBER, main.name())).isInstanceOf(Access.Outcome.Rejected.class);
        assertThat(access.grant(OWNER, STRANGER, Role.OWNER, main.name()))
                .isInstanceOfSatisfying(
                        Access.Outcome.Rejected.class,
                        r -> assertThat(r.reason()).contains("the owner role is global"));
        assertThat(access.grant(OWNER, STRANGER, Role.MEMBER, new AgentName("ghost")))
                .isInstanceOfSatisfying(
                        Access.Outcome.Rejected.class,
                        r -> assertThat(r.reason()).contains("there is no agent named 'ghost'"));
        assertThat(access.revoke(OWNER, STRANGER, Role.MEMBER, main.name()))
                .isInstanceOfSatisfying(
                        Access.Outcome.Rejected.class,
                        r -> assertThat(r.reason()).contains("has no member role"));
        assertThat(access.setSenderPolicy(OWNER, "test:nope", SenderPolicy.PUBLIC))
                .isInstanceOfSatisfying(
                        Access.Outcome.Rejected.class,
                        r -> assertThat(r.reason()).contains("there is no chat 'test:nope'"));
    }

    /** A clock the test moves by hand. */
    static final class FakeClock extends Clock {
        private volatile Instant now;

        FakeClock(Instant start) {
            now = start;
        }

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }
}
