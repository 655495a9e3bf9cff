package dev.cordon.core.channel;

/**
 * One chat platform. An adapter knows platform ids only (chat, thread, sender, message) — never
 * the host's agents or sessions (DESIGN.md routing). It reports inbound messages to an {@link
 * InboundSink} and delivers what the host hands it, already fitted to its {@link #capabilities}.
 */
public interface ChannelAdapter {
    /** The channel's name as stored with its chats, e.g. {@code terminal}. */
    String name();

    /**
     * Delivers one message and blocks until the platform confirms it (invariant 6: a reply is
     * marked delivered only after the platform confirms). Called for one chat at a time, in order.
     */
    DeliveryResult deliver(OutgoingMessage message);

    /** What the platform can show; the host degrades the rest (long text split, options numbered). */
    default Capabilities capabilities() {
        return Capabilities.TEXT;
    }

    /**
     * Whether this channel shows {@link #live} events to its user. A channel that does not (a chat
     * platform) gets the host's notices, such as "queued", as ordinary messages instead.
     */
    default boolean showsLive() {
        return false;
    }

    /**
     * Whether the host's notices ("queued") may be sent as messages when the channel does not show
     * live events. False for a channel whose every message is read as an answer (a webhook's reply
     * endpoint, an issue comment): there a status note would be noise, or taken for the reply.
     */
    default boolean takesNotices() {
        return true;
    }

    /** Best-effort live view of a turn in progress (streamed text). Never blocks for long. */
    default void live(String platformChatId, LiveEvent event) {}
}
