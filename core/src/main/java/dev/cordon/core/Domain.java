package dev.cordon.core;

import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.OutboundId;
import dev.cordon.core.Ids.SessionId;
import java.time.Instant;
import java.util.Objects;

/** The host's stored entities. Immutable snapshots of rows. */
public final class Domain {
    private Domain() {}

    public record Agent(AgentId id, AgentName name, Instant createdAt) {}

    /** A conversation on one channel, known by the channel's own id for it. */
    public record Chat(ChatId id, String channel, String platformChatId) {}

    /** How a chat reaches an agent. */
    public record Wiring(ChatId chatId, AgentId agentId) {}

    /** One conversation of an agent; {@code threadKey} is empty for a chat-wide session. */
    public record Session(SessionId id, AgentId agentId, ChatId chatId, String threadKey, Instant createdAt) {}

    /** An inbound message as a channel reported it, before it is stored. */
    public record NewInbound(
            String channel, String platformChatId, String platformMessageId, String senderId, String text) {
        public NewInbound {
            Objects.requireNonNull(channel, "channel");
            Objects.requireNonNull(platformChatId, "platformChatId");
            Objects.requireNonNull(platformMessageId, "platformMessageId");
            Objects.requireNonNull(senderId, "senderId");
            Objects.requireNonNull(text, "text");
        }
    }

    public enum InboundState {
        /** Stored, not yet taken by a turn. */
        PENDING,
        /** Taken by a turn that has not finished. Reset to PENDING at start-up (the turn died). */
        CLAIMED,
        /** Its turn finished and the reply (if any) is stored. */
        DONE
    }

    public record Inbound(
            InboundId id,
            SessionId sessionId,
            ChatId chatId,
            String platformMessageId,
            String senderId,
            String text,
            InboundState state,
            Instant receivedAt) {}

    /**
     * A reply waiting for, or past, delivery. {@code idempotencyKey} is unique: storing the same
     * key twice stores one row. {@code failed} marks a reply that reports a failed turn.
     */
    public record Outbound(
            OutboundId id,
            ChatId chatId,
            SessionId sessionId,
            InboundId inReplyTo,
            String text,
            boolean failed,
            String idempotencyKey,
            Instant createdAt,
            Instant deliveredAt,
            String platformMessageId) {}
}
