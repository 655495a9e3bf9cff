package dev.cordon.core.channel;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Domain.Wiring;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.store.Store;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Maps a channel's message to its agent's session, stores it, and wakes the session: chat →
 * wiring → agent → session. Event-driven: the stored message wakes its session directly.
 */
public final class Router implements InboundSink {
    private final Store store;
    private final AuditLog audit;
    private final Clock clock;
    private final Consumer<SessionId> wake;

    /** Every accepted or dropped message is audited before the channel hears the outcome. */
    public Router(Store store, AuditLog audit, Clock clock, Consumer<SessionId> wake) {
        this.store = store;
        this.audit = audit;
        this.clock = clock;
        this.wake = wake;
    }

    @Override
    public InboundResult accept(NewInbound message) {
        Chat chat = store.ensureChat(message.channel(), message.platformChatId());
        Optional<Wiring> wiring = store.wiring(chat.id());
        AuditEvent.Actor sender = AuditEvent.Actor.user(message.channel() + ":" + message.senderId());
        Map<String, Object> where = Map.of(
                "channel", message.channel(),
                "chat", message.platformChatId(),
                "platform_message", message.platformMessageId());
        if (wiring.isEmpty()) {
            String why = "chat " + message.channel() + ":" + message.platformChatId() + " is not wired to an agent";
            audit.append(AuditEvent.of(clock.instant(), sender, AuditActions.INBOUND_DROPPED, Decision.DENY)
                    .withReason(why)
                    .withDetails(where));
            return new InboundResult.Dropped(why);
        }
        Session session = store.ensureSession(wiring.get().agentId(), chat.id(), "");
        Store.InboundStored stored = store.storeInbound(session.id(), chat.id(), message);
        AgentName agent = store.agent(session.agentId()).map(Agent::name).orElse(null);
        Map<String, Object> details = new HashMap<>(where);
        details.put("inbound", stored.id().value());
        audit.append(AuditEvent.of(
                        clock.instant(),
                        sender,
                        stored.duplicate() ? AuditActions.INBOUND_DROPPED : AuditActions.INBOUND_ACCEPTED,
                        stored.duplicate() ? Decision.INFO : Decision.ALLOW)
                .withAgent(agent)
                .withSession(session.id())
                .withReason(stored.duplicate() ? "a redelivery of a message already stored" : null)
                .withDetails(details));
        if (!stored.duplicate()) {
            wake.accept(session.id());
        }
        return new InboundResult.Accepted(stored.id().value(), stored.duplicate());
    }
}
