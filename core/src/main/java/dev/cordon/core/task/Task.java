package dev.cordon.core.task;

import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.session.Admission;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Objects;

/**
 * A scheduled task as stored: at each due instant its {@code prompt} enters the agent's session as
 * a message from the scheduler, and the turn's reply goes to {@code destination}.
 *
 * @param session where runs take place: the task's own session (ISOLATED, created at the first
 *     run) or the originating chat's session (ORIGIN, whose chat is then the destination)
 * @param nextRun the next due instant, or null when the task is done or cancelled
 * @param createdBy who asked for it: {@code terminal:owner}, or {@code agent:NAME} for the agent
 */
public record Task(
        TaskId id,
        AgentId agent,
        String prompt,
        Schedule schedule,
        ZoneId zone,
        ChatId destination,
        SessionMode sessionMode,
        SessionId session,
        CatchUp catchUp,
        boolean paused,
        State state,
        Instant nextRun,
        String createdBy,
        Instant createdAt) {

    public Task {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(agent, "agent");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(zone, "zone");
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(sessionMode, "sessionMode");
        Objects.requireNonNull(catchUp, "catchUp");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(createdBy, "createdBy");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /** The thread key of an ISOLATED task's session in its destination chat. */
    public String threadKey() {
        return Admission.TASK_THREAD_PREFIX + id.value();
    }

    /** Where a run's turn takes place. */
    public enum SessionMode {
        /** The task's own session (thread {@code task-ID} of the destination chat), shared by its runs. */
        ISOLATED,
        /** The session of the chat the task was created from. */
        ORIGIN
    }

    /** What happens to runs that fell due while the daemon was down (or the task was late). */
    public enum CatchUp {
        /** None of them run; one history row counts them. */
        SKIP,
        /** One run for all of them (the default). */
        ONCE,
        /** Each runs, oldest first (at most {@link #MAX_RUNS}; the rest are counted as skipped). */
        ALL;

        public static final int MAX_RUNS = 100;
    }

    /** ACTIVE tasks are scheduled; DONE ones have no run left; CANCELLED ones were stopped for good. */
    public enum State {
        ACTIVE,
        DONE,
        CANCELLED
    }
}
