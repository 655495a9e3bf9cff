package dev.cordon.core.task;

import dev.cordon.core.Ids.InboundId;
import java.time.Duration;
import java.time.Instant;

/**
 * One line of a task's run history. A run's status follows its message through the session: it is
 * read from the inbox and the reply, never kept twice.
 *
 * @param due the instant the run was due (for a skipped row: the oldest one skipped)
 * @param firedAt when the scheduler put the message in the session
 * @param startedAt when its turn took it, or null before
 * @param duration how long its turn took, or null before it ended
 * @param error the failed turn's message, or null
 * @param inbound the message the run put in the session, or null for a skipped row
 * @param skipped how many due runs this row stands for without running them (catch-up)
 */
public record TaskRun(
        long id,
        TaskId task,
        Instant due,
        Status status,
        Instant firedAt,
        Instant startedAt,
        Duration duration,
        String error,
        InboundId inbound,
        int skipped,
        boolean manual) {

    public enum Status {
        /** In the session's inbox, waiting for its turn. */
        QUEUED,
        /** Its turn is running. */
        RUNNING,
        /** Its turn ended with a reply (or it was answered together with a later message). */
        OK,
        /** Its turn failed; {@code error} says why. */
        FAILED,
        /** Not run, by the task's catch-up policy. */
        SKIPPED
    }
}
