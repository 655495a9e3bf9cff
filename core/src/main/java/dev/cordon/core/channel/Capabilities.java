package dev.cordon.core.channel;

/**
 * What a channel's platform can show. The host degrades what it cannot: text longer than {@code
 * maxMessageLength} is split into several messages, options without {@code buttons} become a
 * numbered list (see {@link Delivery}).
 *
 * @param maxMessageLength the longest text one message may carry, in characters; 0 for no limit
 */
public record Capabilities(
        boolean threads,
        boolean edits,
        boolean reactions,
        boolean files,
        boolean buttons,
        boolean typing,
        int maxMessageLength) {
    public Capabilities {
        if (maxMessageLength < 0) {
            throw new IllegalArgumentException("maxMessageLength must be 0 (no limit) or positive");
        }
    }

    /** Plain text of any length, nothing else: what an adapter that declares nothing gets. */
    public static final Capabilities TEXT = new Capabilities(false, false, false, false, false, false, 0);

    /** Plain text only, at most {@code maxMessageLength} characters per message. */
    public static Capabilities text(int maxMessageLength) {
        return new Capabilities(false, false, false, false, false, false, maxMessageLength);
    }
}
