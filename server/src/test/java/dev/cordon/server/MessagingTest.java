package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Outbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.core.message.AgentChannel;
import dev.cordon.core.message.Destination;
import dev.cordon.core.message.Messaging;
import dev.cordon.core.session.HostTools;
import dev.cordon.core.store.Store;
import dev.cordon.store.Stores;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code send_message} and the channel between agents against a real SQLite store: the loop guard,
 * the per-turn cap, and how a message the host redelivers after a crash is stored once.
 */
class MessagingTest {
    @TempDir
    Path dir;

    Store store;
    AuditLog audit;
    Agent main;
    Agent sales;
    Chat terminal;
    Session session;
    final List<ChatId> woken = new CopyOnWriteArrayList<>();
    final List<SessionId> wokenSessions = new CopyOnWriteArrayList<>();
    Messaging messaging;
    AgentChannel channel;

    @BeforeEach
    void open() {
        store = Stores.sqlite(dir.resolve("cordon.db"));
        audit = AuditLogs.open(store.audit(), dir.resolve("keys/audit-ed25519"));
        main = store.ensureAgent(new AgentName("main"));
        sales = store.ensureAgent(new AgentName("sales"));
        terminal = store.ensureChat("terminal", "main");
        store.wire(terminal.id(), main.id());
        session = store.ensureSession(main.id(), terminal.id(), "");
        messaging = new Messaging(
                store,
                audit,
                Clock.systemUTC(),
                agent -> agent.equals(main) ? Map.of("sales", new Destination.Agent(sales.name())) : Map.of(),
                channel -> channel.equals("terminal"),
                woken::add);
        channel = new AgentChannel(store, audit, Clock.systemUTC(), wokenSessions::add);
    }

    @AfterEach
    void close() {
        audit.close();
        store.close();
    }

    private Inbound inbound(String platformId) {
        Store.InboundStored stored = store.storeInbound(
                session.id(), terminal.id(), new NewInbound("terminal", "main", platformId, "owner", "hi"));
        return store.inbound(stored.id()).orElseThrow();
    }

    private HostTools.Result send(String turn, Inbound answering, String to, String text) {
        return messaging.call(
                new HostTools.Caller(main, session, terminal, turn, List.of(answering)),
                Messaging.SEND,
                to == null ? Map.of("text", text) : Map.of("to", to, "text", text));
    }

    private List<String> actions() {
        return audit.read(0, 1000).stream()
                .map(AuditEntry::event)
                .map(e -> e.action() + (e.rule() == null ? "" : " " + e.rule()))
                .toList();
    }

    @Test
    void aMessageThatWouldTravelPastTheHopLimitIsRefusedAndAudited() {
        HostTools.Result far = send("t1", inbound("a2a:o7:h8"), "sales", "and again");
        assertThat(far.error()).isTrue();
        assertThat(far.text()).contains("has gone 8 hops, and a message may make at most 8");

        HostTools.Result near = send("t2", inbound("a2a:o9:h7"), "sales", "once more");
        assertThat(near.error()).as(near.text()).isFalse();

        assertThat(actions()).containsExactly("message.deny messages.max_hops", "message.send destinations.sales");
        Outbound out = store.undelivered().getFirst();
        assertThat(out.idempotencyKey()).endsWith(":h8");
    }

    @Test
    void aTurnSendsAtMostTwentyMessages() {
        Inbound asked = inbound("p1");
        for (int i = 0; i < 20; i++) {
            assertThat(send("t1", asked, null, "note " + i).error()).isFalse();
        }
        HostTools.Result more = send("t1", asked, null, "note 20");
        assertThat(more.error()).isTrue();
        assertThat(more.text()).startsWith("a turn may send at most 20 messages");
        assertThat(send("t2", asked, null, "a new turn").error()).isFalse();
        assertThat(store.undelivered()).hasSize(21);
    }

    @Test
    void theOtherAgentsReplyGoesBackToTheSendingSessionAndARedeliveryIsStoredOnce() {
        assertThat(send("t1", inbound("p1"), "sales", "price?").error()).isFalse();
        Outbound asked = store.undelivered().getFirst();
        Chat pair = store.chat(asked.chatId()).orElseThrow();
        assertThat(pair.channel() + ":" + pair.platformChatId()).isEqualTo("agent:main>sales");
        assertThat(store.wiring(pair.id()).orElseThrow().agentId()).isEqualTo(sales.id());

        OutgoingMessage forward = new OutgoingMessage(
                asked.id().value(), pair.platformChatId(), 0, null, asked.text(), false, asked.idempotencyKey());
        DeliveryResult first = channel.deliver(forward);
        DeliveryResult again = channel.deliver(forward);
        assertThat(first)
                .isEqualTo(again)
                .isEqualTo(new DeliveryResult.Delivered("a2a:o" + asked.id().value() + ":h1"));
        Session salesSession = store.ensureSession(sales.id(), pair.id(), "");
        List<Inbound> heard = store.claimPending(salesSession.id(), 10);
        assertThat(heard).singleElement().satisfies(m -> {
            assertThat(m.senderId()).isEqualTo("agent:main");
            assertThat(m.text())
                    .startsWith("[Message from agent main, through Cordon")
                    .endsWith("price?");
        });

        store.completeTurn(
                salesSession.id(),
                List.of(heard.getFirst().id()),
                List.of(),
                new Store.NewOutbound(pair.id(), heard.getFirst().id(), "12 EUR", false, "turn:x"));
        Outbound reply = store.undelivered(pair.id()).getLast();
        DeliveryResult back = channel.deliver(new OutgoingMessage(
                reply.id().value(),
                pair.platformChatId(),
                heard.getFirst().id().value(),
                heard.getFirst().platformMessageId(),
                reply.text(),
                false,
                reply.idempotencyKey()));
        assertThat(back)
                .isEqualTo(new DeliveryResult.Delivered("a2a:o" + reply.id().value() + ":h2"));
        assertThat(store.claimPending(session.id(), 10))
                .filteredOn(m -> m.senderId().equals("agent:sales"))
                .singleElement()
                .satisfies(m -> assertThat(m.text()).endsWith("12 EUR"));
        assertThat(wokenSessions).containsExactly(salesSession.id(), session.id());
    }

    @Test
    void aReplyThatWouldTravelPastTheHopLimitIsNotHandedOverAndTheRefusalIsAudited() {
        assertThat(send("t1", inbound("p1"), "sales", "price?").error()).isFalse();
        Outbound asked = store.undelivered().getFirst();
        Chat pair = store.chat(asked.chatId()).orElseThrow();
        Session salesSession = store.ensureSession(sales.id(), pair.id(), "");
        // What the other agent answers came to it after 8 hops (two sessions answering each other).
        Inbound deep = store.inbound(store.storeInbound(
                                salesSession.id(),
                                pair.id(),
                                new NewInbound(
                                        "agent",
                                        pair.platformChatId(),
                                        "a2a:o" + asked.id().value() + ":h8",
                                        "agent:main",
                                        "x"))
                        .id())
                .orElseThrow();
        store.completeTurn(
                salesSession.id(),
                List.of(),
                List.of(),
                new Store.NewOutbound(pair.id(), deep.id(), "y", false, "turn:d"));
        Outbound reply = store.undelivered(pair.id()).getLast();

        DeliveryResult result = channel.deliver(new OutgoingMessage(
                reply.id().value(),
                pair.platformChatId(),
                deep.id().value(),
                deep.platformMessageId(),
                "y",
                false,
                "turn:d"));

        assertThat(result).isInstanceOf(DeliveryResult.Failed.class);
        assertThat(((DeliveryResult.Failed) result).reason()).contains("after 8 hops; at most 8 (messages.max_hops)");
        assertThat(store.claimPending(session.id(), 10))
                .as("nothing of sales reached main")
                .noneMatch(m -> m.senderId().equals("agent:sales"));
        assertThat(actions()).endsWith("agent.message messages.max_hops");
    }
}
