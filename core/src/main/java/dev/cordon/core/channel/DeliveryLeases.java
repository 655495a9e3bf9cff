package dev.cordon.core.channel;

import dev.cordon.core.Domain.Chat;

/**
 * Which replica hands a chat's replies to its channel when several daemons share one database
 * (docs/store.md, "Several replicas"), so that two never send the same reply at once.
 * Implementations are thread-safe and may block on the store.
 */
public interface DeliveryLeases {
    /** Whether this replica delivers the chat's replies now. */
    enum Turn {
        /** Deliver now; call {@link #done} afterwards. */
        HERE,
        /** Another replica delivers this chat's replies (it holds the channel's connection). */
        ELSEWHERE,
        /** Another replica is delivering to this chat right now: try again shortly. */
        LATER
    }

    Turn take(Chat chat);

    /** The drain that {@link #take} allowed has ended. */
    void done(Chat chat);

    /** A single daemon: every chat's replies are its own to deliver. */
    DeliveryLeases ALONE = new DeliveryLeases() {
        @Override
        public Turn take(Chat chat) {
            return Turn.HERE;
        }

        @Override
        public void done(Chat chat) {}
    };
}
