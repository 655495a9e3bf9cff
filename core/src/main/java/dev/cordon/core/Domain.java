package dev.cordon.core;

import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.OutboundId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.channel.InboundFile;
import java.time.Instant;
import java.util.List;
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

    /**
     * An inbound message as a channel reported it, before it is stored.
     *
     * @param mentioned the message is addressed to the bot: a direct message, or a group message
     *     that mentions it (the adapter strips the mention from {@code text}). A chat that engages on
     *     mention only passes the agent nothing else.
     * @param threadId the platform's id of the thread the message belongs to, or null
     * @param replyToPlatformMessageId the platform's id of the message this one answers, or null
     * @param files the files the sender attached, often none
     */
    public record NewInbound(
            String channel,
            String platformChatId,
            String platformMessageId,
            String senderId,
            String text,
            boolean mentioned,
            String threadId,
            String replyToPlatformMessageId,
            List<InboundFile> files) {
        public NewInbound {
            Objects.requireNonNull(channel, "channel");
            Objects.requireNonNull(platformChatId, "platformChatId");
            Objects.requireNonNull(platformMessageId, "platformMessageId");
            Objects.requireNonNull(senderId, "senderId");
            Objects.requireNonNull(text, "text");
            files = List.copyOf(files);
        }

        /** A message without files. */
        public NewInbound(
                String channel,
                String platformChatId,
                String platformMessageId,
                String senderId,
                String text,
                boolean mentioned,
                String threadId,
                String replyToPlatformMessageId) {
            this(
                    channel,
                    platformChatId,
                    platformMessageId,
                    senderId,
                    text,
                    mentioned,
                    threadId,
                    replyToPlatformMessageId,
                    List.of());
        }

        /** A direct message (addressed to the bot), outside any thread. */
        public NewInbound(
                String channel, String platformChatId, String platformMessageId, String senderId, String text) {
            this(channel, platformChatId, platformMessageId, senderId, text, true, null, null);
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
            Instant receivedAt) {
        /** How the sender of a task run's message begins (the store writes {@code scheduler:task-N}). */
        public static final String SCHEDULER = "scheduler:";

        /**
         * Whether the scheduler wrote this message (a task run): then no platform message stands
         * behind its id. (Another agent's message does carry one the agent channel routes by.)
         */
        public boolean fromScheduler() {
            return senderId.startsWith(SCHEDULER);
        }
    }

    /**
     * A reply waiting for, or past, delivery. {@code idempotencyKey} is unique: storing the same
     * key twice stores one row. {@code failed} marks a reply that reports a failed turn. {@code
     * options} are the choices its reader picks one of (buttons, or a numbered list), often none.
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
            String platformMessageId,
            List<String> options) {
        public Outbound {
            options = List.copyOf(options);
        }
    }
}
