package dev.cordon.core;

/** Typed ids: every id in the host is one of these records, never a bare number or string. */
public final class Ids {
    private Ids() {}

    /** Row id of an agent. */
    public record AgentId(long value) {}

    /** Row id of a chat (a channel's conversation: a DM, a channel, a terminal). */
    public record ChatId(long value) {}

    /** Row id of a session: one conversation of one agent, served by at most one sandbox at a time. */
    public record SessionId(long value) {}

    /** Row id of a stored inbound message. */
    public record InboundId(long value) {}

    /** Row id of a stored outbound message. */
    public record OutboundId(long value) {}
}
