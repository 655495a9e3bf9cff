package dev.cordon.core.channel;

import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Domain.Wiring;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.access.Access;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.file.InboundFiles;
import dev.cordon.core.store.Store;
import dev.cordon.core.store.Store.ReceivedFile;
import dev.cordon.core.trace.Tracing;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Maps a channel's message to its agent's session, stores it, and wakes the session: chat →
 * wiring → sender policy → agent → session. Event-driven: the stored message wakes its session
 * directly.
 *
 * <p>Nothing reaches a session before {@link Access} has passed its sender (docs/access.md): an
 * unwired chat's message is either a pairing code (answered by the host, never stored for an agent)
 * or dropped; a wired chat's message is admitted, held, or dropped by the chat's sender policy.
 * Every outcome is audited, with the rule that decided, before the channel hears it.
 */
public final class Router implements InboundSink {
    private final Store store;
    private final AuditLog audit;
    private final Clock clock;
    private final Consumer<SessionId> wake;
    private final Access access;
    private final boolean bodies;
    private final Predicate<Chat> mentionOnly;
    private volatile Tracing tracing = Tracing.OFF;
    private volatile InboundFiles files = InboundFiles.none();

    /** Every accepted, held or dropped message is audited before the channel hears the outcome. */
    public Router(Store store, AuditLog audit, Clock clock, Consumer<SessionId> wake, Access access) {
        this(store, audit, clock, wake, access, false);
    }

    /**
     * @param bodies whether an accepted message's text goes into its audit entry (clipped to 4,096
     *     characters); off by default: the log records decisions, not conversations
     */
    public Router(Store store, AuditLog audit, Clock clock, Consumer<SessionId> wake, Access access, boolean bodies) {
        this(store, audit, clock, wake, access, bodies, chat -> false);
    }

    /**
     * @param mentionOnly the chats that engage on mention: their messages that are not addressed to
     *     the bot ({@link NewInbound#mentioned}) are ignored, unstored and unaudited, as the talk of a
     *     group around the bot is none of the agent's business (nor the audit log's)
     */
    public Router(
            Store store,
            AuditLog audit,
            Clock clock,
            Consumer<SessionId> wake,
            Access access,
            boolean bodies,
            Predicate<Chat> mentionOnly) {
        this.mentionOnly = mentionOnly;
        this.store = store;
        this.audit = audit;
        this.clock = clock;
        this.wake = wake;
        this.access = access;
        this.bodies = bodies;
    }

    /** Where routing spans go (the root of each message's trace); set once, before the first message. */
    public void traceWith(Tracing tracing) {
        this.tracing = tracing;
    }

    /**
     * Where the files people send are fetched and kept (the daemon's vault and limit); set once,
     * before the first message. Without it each file is noted as not kept.
     */
    public void receiveFilesWith(InboundFiles files) {
        this.files = files;
    }

    @Override
    public InboundResult accept(NewInbound message) {
        Instant began = clock.instant();
        Chat chat = store.ensureChat(message.channel(), message.platformChatId());
        Optional<Wiring> wiring = store.wiring(chat.id());
        AuditEvent.Actor sender = AuditEvent.Actor.user(message.channel() + ":" + message.senderId());
        Map<String, Object> where = Map.of(
                "channel", message.channel(),
                "chat", message.platformChatId(),
                "platform_message", message.platformMessageId());
        if (wiring.isEmpty()) {
            return unwired(chat, message, sender, where);
        }
        if (!message.mentioned() && mentionOnly.test(chat)) {
            return new InboundResult.Dropped("not addressed to the agent: chat " + message.channel() + ":"
                    + message.platformChatId() + " engages on mention");
        }
        Agent agent = store.agent(wiring.get().agentId()).orElseThrow();
        // A message held for an admin keeps no files (they are fetched only for a sender let in):
        // the text it is held with says which, so the agent can ask for them once it is admitted.
        Access.Screening screening = access.screen(chat, agent, InboundFiles.noteUnkept(message));
        String rule;
        String reason;
        switch (screening) {
            case Access.Screening.Drop drop -> {
                audit.append(AuditEvent.of(clock.instant(), sender, AuditActions.INBOUND_DROPPED, Decision.DENY)
                        .withAgent(agent.name())
                        .withRule(drop.rule())
                        .withReason(drop.reason())
                        .withDetails(where));
                return new InboundResult.Dropped(drop.reason());
            }
            case Access.Screening.Held held -> {
                // Stored and audited by Access; the agent sees it only once an admin admits the sender.
                return new InboundResult.Held(held.request().id().value(), held.reason());
            }
            case Access.Screening.Admit admit -> {
                rule = admit.rule();
                reason = admit.reason();
            }
        }
        Session session = store.ensureSession(agent.id(), chat.id(), "");
        // Fetched before the transaction that stores them with the message (a download may take
        // long); a redelivery was fetched the first time and is not fetched again.
        List<ReceivedFile> received =
                message.files().isEmpty() || store.hasInbound(chat.id(), message.platformMessageId())
                        ? List.of()
                        : files.receive(message.files());
        Store.InboundStored stored = store.storeInbound(session.id(), chat.id(), message, received);
        Map<String, Object> details = new HashMap<>(where);
        details.put("inbound", stored.id().value());
        if (!received.isEmpty()) {
            details.put("files", received.size());
        }
        if (bodies) {
            details.put("body", AuditEvent.clip(message.text()));
        }
        // Its place in the chain is fixed before the session can act; the session starts while the
        // entry is synced, and the channel hears Accepted only once it is durable (invariant 6).
        AuditLog.Pending written = audit.appendLater(AuditEvent.of(
                        clock.instant(),
                        sender,
                        stored.duplicate() ? AuditActions.INBOUND_DROPPED : AuditActions.INBOUND_ACCEPTED,
                        stored.duplicate() ? Decision.INFO : Decision.ALLOW)
                .withAgent(agent.name())
                .withSession(session.id())
                .withRule(rule)
                .withReason(stored.duplicate() ? "a redelivery of a message already stored" : reason)
                .withDetails(details));
        if (!stored.duplicate()) {
            auditMissed(received, stored, sender, agent, session);
        }
        try (Tracing.Span span = stored.duplicate()
                ? Tracing.NO_SPAN
                : tracing.span(
                        stored.id().value(),
                        "inbound",
                        true,
                        began,
                        Map.of(
                                "cordon.channel", message.channel(),
                                "cordon.agent", agent.name().value(),
                                "cordon.session", session.id().value()))) {
            if (!stored.duplicate()) {
                wake.accept(session.id());
            }
            written.await();
        }
        return new InboundResult.Accepted(stored.id().value(), stored.duplicate());
    }

    /** A file that did not arrive is audited; the agent reads the same reason with the message. */
    private void auditMissed(
            List<ReceivedFile> received,
            Store.InboundStored stored,
            AuditEvent.Actor sender,
            Agent agent,
            Session session) {
        for (ReceivedFile f : received) {
            if (!f.kept()) {
                audit.append(AuditEvent.of(clock.instant(), sender, AuditActions.INBOUND_FILE_MISSED, Decision.DENY)
                        .withAgent(agent.name())
                        .withSession(session.id())
                        .withRule(InboundFiles.ruleOf(f))
                        .withReason(f.problem())
                        .withDetails(Map.of(
                                "inbound", stored.id().value(),
                                "name", f.name(),
                                "media_type", f.mediaType(),
                                "size", f.size())));
            }
        }
    }

    private InboundResult unwired(Chat chat, NewInbound message, AuditEvent.Actor sender, Map<String, Object> where) {
        String chatName = message.channel() + ":" + message.platformChatId();
        return switch (access.claim(chat, message)) {
            case Access.Claim.Paired paired -> new InboundResult.Answered(paired.reply());
            case Access.Claim.Refused refused -> {
                audit.append(AuditEvent.of(clock.instant(), sender, AuditActions.INBOUND_DROPPED, Decision.DENY)
                        .withRule(refused.rule())
                        .withReason(refused.reason())
                        .withDetails(where));
                yield new InboundResult.Dropped(refused.reason());
            }
            case Access.Claim.NotACode n -> {
                String why = "chat " + chatName + " is not wired to an agent; an admin can wire it: run cordon pair"
                        + " AGENT and send the code it prints in this chat";
                if (!message.mentioned() && mentionOnly.test(chat)) {
                    // A group's talk where the bot merely listens (every channel of a Discord server,
                    // say): not for the audit log, which would fill with it.
                    yield new InboundResult.Dropped(why);
                }
                audit.append(AuditEvent.of(clock.instant(), sender, AuditActions.INBOUND_DROPPED, Decision.DENY)
                        .withRule("wiring")
                        .withReason(why)
                        .withDetails(where));
                yield new InboundResult.Dropped(why);
            }
        };
    }
}
