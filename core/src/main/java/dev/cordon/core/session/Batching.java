package dev.cordon.core.session;

import java.time.Duration;

/**
 * How an agent's queued messages become turns (policy section {@code turns}, docs/sessions.md).
 * Messages are always handed over oldest first; a turn takes up to {@code maxMessages} of them.
 *
 * @param maxMessages the most queued messages one turn takes (1: a turn per message)
 * @param gather how long a session that was idle waits after being woken before it takes its
 *     messages, so that a thought sent as several short messages becomes one turn. Messages that
 *     arrive during a turn are taken as soon as the turn ends, without this wait.
 */
public record Batching(int maxMessages, Duration gather) {
    /** The most messages a turn may take, whatever the policy says. */
    public static final int MAX_MESSAGES = 500;
    /** The longest gathering wait a policy may ask for. */
    public static final Duration MAX_GATHER = Duration.ofMinutes(1);

    public static final Batching DEFAULT = new Batching(50, Duration.ZERO);

    public Batching {
        if (maxMessages < 1 || maxMessages > MAX_MESSAGES) {
            throw new IllegalArgumentException("maxMessages must be 1.." + MAX_MESSAGES + ": " + maxMessages);
        }
        if (gather == null || gather.isNegative() || gather.compareTo(MAX_GATHER) > 0) {
            throw new IllegalArgumentException("gather must be 0.." + MAX_GATHER + ": " + gather);
        }
    }
}
