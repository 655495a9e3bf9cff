package dev.cordon.core.message;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Outbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.OutboundId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.channel.ChannelAdapter;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.core.store.Store;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The channel between agents, inside the host: no platform, no adapter outside. Agent A's messages
 * to agent B are outbound messages of the chat {@code agent:A>B}, which is wired to B; B talks with
 * A in its own session of that chat. Delivering an outbound there stores it as an inbound message:
 *
 * <ul>
 *   <li>one A sent (its session is A's): into B's session of the pair chat, from sender {@code
 *       agent:A};
 *   <li>one B wrote (its reply to a turn, or a {@code send_message} to its current chat): into the
 *       session of A that sent the message it answers, from sender {@code agent:B}.
 * </ul>
 *
 * The inbound's platform message id is {@code a2a:o<outbound>:h<hops>}: storing it twice stores it
 * once (a delivery redone after a crash), and it carries how far the message has travelled ({@link
 * Hops}). Each hand-over is audited as {@code agent.message} before it counts as delivered; one
 * past {@link Hops#MAX} is refused (delivery then gives it up and tells the owner), since replies
 * between two agents' sessions can otherwise answer each other for ever.
 * Thread-safe.
 */
public final class AgentChannel implements ChannelAdapter {
    /** The channel's name in the store; no platform adapter may take it. */
    public static final String NAME = "agent";

    private final Store store;
    private final AuditLog audit;
    private final Clock clock;
    private final Consumer<SessionId> wake;

    /** @param wake wakes a session that got a message (the session manager's wake) */
    public AgentChannel(Store store, AuditLog audit, Clock clock, Consumer<SessionId> wake) {
        this.store = store;
        this.audit = audit;
        this.clock = clock;
        this.wake = wake;
    }

    /** The chat in which {@code to} hears from {@code from}, wired to {@code to} (made on first use). */
    static Chat pairChat(Store store, Agent from, Agent to) {
        Chat chat = store.ensureChat(NAME, from.name().value() + ">" + to.name().value());
        if (store.wiring(chat.id()).isEmpty()) {
            store.wire(chat.id(), to.id());
        }
        return chat;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** No "queued" notices: the other agent would take one for the reply. */
    @Override
    public boolean takesNotices() {
        return false;
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        Optional<Outbound> found = store.outbound(new OutboundId(message.deliveryId()));
        if (found.isEmpty()) {
            return new DeliveryResult.Failed("no outbound message " + message.deliveryId());
        }
        Outbound out = found.get();
        String[] pair = message.platformChatId().split(">", 2);
        Optional<Agent> from = pair.length == 2 ? agent(pair[0]) : Optional.empty();
        Optional<Agent> to = pair.length == 2 ? agent(pair[1]) : Optional.empty();
        Optional<Session> writer = store.session(out.sessionId());
        if (from.isEmpty() || to.isEmpty() || writer.isEmpty()) {
            return new DeliveryResult.Failed(
                    "agent chat " + message.platformChatId() + " names no pair of existing agents");
        }
        Chat pairChat = store.chat(out.chatId()).orElseThrow();
        boolean forward = writer.get().agentId().equals(from.get().id());
        Session target;
        Chat targetChat;
        int hops;
        if (forward) {
            target = store.ensureSession(to.get().id(), pairChat.id(), "");
            targetChat = pairChat;
            hops = (int) Hops.ofKey(out.idempotencyKey()).orElse(1);
        } else {
            // The receiver's words go back to the session of the sender that the answered message came from.
            String answered = message.replyToPlatformMessageId();
            Optional<Session> origin = Hops.outbound(answered).stream()
                    .mapToObj(id -> store.outbound(new OutboundId(id)))
                    .flatMap(Optional::stream)
                    .findFirst()
                    .flatMap(o -> store.session(o.sessionId()));
            if (origin.isEmpty()) {
                return new DeliveryResult.Failed(
                        "a message of agent " + to.get().name() + " in chat " + message.platformChatId()
                                + " answers no message of agent " + from.get().name());
            }
            target = origin.get();
            targetChat = store.chat(target.chatId()).orElseThrow();
            hops = (int) Hops.ofKey(out.idempotencyKey()).orElse(Hops.of(answered) + 1);
        }
        Agent sender = forward ? from.get() : to.get();
        Agent receiver = forward ? to.get() : from.get();
        if (hops > Hops.MAX) {
            // Replies flow on their own (two agents' sessions can answer each other's answers), so
            // the loop guard holds here too, not only in send_message.
            String why = "stopped a message from agent " + sender.name() + " to agent " + receiver.name() + " after "
                    + (hops - 1) + " hops; at most " + Hops.MAX + " (messages.max_hops)";
            audit.append(handOver(sender, receiver, Decision.DENY, why, Map.of("hops", hops))
                    .withRule("messages.max_hops"));
            return new DeliveryResult.Failed(why);
        }
        String id = Hops.messageId(out.id().value(), hops);
        String text = "[" + (forward ? "Message" : "Reply") + " from agent " + sender.name()
                + (out.failed() ? ", whose turn failed" : "") + ", through Cordon"
                + (forward ? "; your reply goes back to it" : "") + "]\n\n" + message.text();
        Store.InboundStored stored = store.storeInbound(
                target.id(),
                targetChat.id(),
                new NewInbound(
                        targetChat.channel(),
                        targetChat.platformChatId(),
                        id,
                        NAME + ":" + sender.name().value(),
                        text));
        audit.append(handOver(
                        sender,
                        receiver,
                        Decision.ALLOW,
                        (forward ? "a message" : "a reply") + " from agent " + sender.name(),
                        Map.of(
                                "outbound", out.id().value(),
                                "inbound", stored.id().value(),
                                "hops", hops,
                                "duplicate", stored.duplicate()))
                .withSession(target.id()));
        if (!stored.duplicate()) {
            wake.accept(target.id());
        }
        return new DeliveryResult.Delivered(id);
    }

    /** The {@code agent.message} entry of a hand-over from {@code sender} to {@code receiver}. */
    private AuditEvent handOver(
            Agent sender, Agent receiver, Decision decision, String reason, Map<String, Object> details) {
        Map<String, Object> all = new java.util.LinkedHashMap<>(details);
        all.put("from", sender.name().value());
        all.put("to", receiver.name().value());
        return AuditEvent.of(
                        clock.instant(), AuditEvent.Actor.agent(sender.name()), AuditActions.AGENT_MESSAGE, decision)
                .withAgent(receiver.name())
                .withReason(reason)
                .withDetails(all);
    }

    private Optional<Agent> agent(String name) {
        try {
            return store.agentByName(new AgentName(name));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
