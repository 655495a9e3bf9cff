package dev.cordon.core.session;

import dev.cordon.core.Ids.SessionId;

/**
 * Which sessions this daemon may run when several replicas share one database (docs/store.md,
 * "Several replicas"): a session's turns run on the replica that holds its lease, so one session
 * never has two sandboxes. Implementations are thread-safe and may block on the store.
 */
public interface SessionLeases {
    /**
     * Takes the session for this replica, or keeps it. Called before each claim of its messages.
     *
     * @return false if another live replica holds it: that replica runs its turns (it is woken too)
     */
    boolean acquire(SessionId session);

    /** Gives the session up: its sandbox is gone (hibernated, or none was started). */
    void release(SessionId session);

    /** A single daemon: every session is its own. */
    SessionLeases ALONE = new SessionLeases() {
        @Override
        public boolean acquire(SessionId session) {
            return true;
        }

        @Override
        public void release(SessionId session) {}
    };
}
