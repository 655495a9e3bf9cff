package dev.cordon.core.task;

import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.SessionId;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;

/**
 * The scheduled tasks and their run history, in the store's database ({@code Store#tasks}). Every
 * method is one transaction, durable when it returns, and thread-safe; infrastructure failures throw
 * {@link dev.cordon.core.store.StoreException}.
 */
public interface Tasks {

    /**
     * Stores a new ACTIVE task.
     *
     * @throws IllegalArgumentException if the agent, the chat or the session does not exist
     */
    Task create(NewTask task);

    /** {@code session} is null for an ISOLATED task (its session is made at the first run). */
    record NewTask(
            AgentId agent,
            String prompt,
            Schedule schedule,
            ZoneId zone,
            ChatId destination,
            Task.SessionMode sessionMode,
            SessionId session,
            Task.CatchUp catchUp,
            Instant nextRun,
            String createdBy) {}

    Optional<Task> task(TaskId id);

    /** Every task, oldest first. */
    List<Task> tasks();

    /** The tasks of one agent, oldest first. */
    List<Task> tasks(AgentId agent);

    /** The earliest next run of an ACTIVE, unpaused task: what the scheduler's timer waits for. */
    Optional<Instant> earliestDue();

    /** ACTIVE, unpaused tasks due at {@code now} (next run at or before it), earliest first. */
    List<Task> due(Instant now);

    /**
     * Pauses or resumes an ACTIVE task; {@code nextRun} is its next run from now on (a resumed task
     * does not run what fell due while it was paused). Returns the task as changed, or empty (and
     * changes nothing) if it is not ACTIVE or already in that state.
     */
    Optional<Task> setPaused(TaskId id, boolean paused, Instant nextRun);

    /** Cancels a task that is not already cancelled: it never runs again. Empty if there is no such task or it was. */
    Optional<Task> cancel(TaskId id);

    /**
     * Fires a task, in one transaction, if its next run is still {@code expectedNext} (null-safe) and
     * it is ACTIVE: a message with {@code prompt} goes into {@code session}'s inbox for each instant
     * of {@code runs} (each a history row), a SKIPPED row counts {@code skipped} (if above 0), and
     * the next run becomes {@code nextRun} (null: the task is DONE). Two schedulers racing on one
     * task fire it once: the loser gets empty and nothing is written. A firing that is not manual
     * gets empty at once, without waiting, while another transaction is firing the same task
     * (PostgreSQL: {@code FOR UPDATE SKIP LOCKED}); a manual one waits for it.
     *
     * @throws IllegalArgumentException if the session does not exist
     */
    Optional<Fired> fire(Firing firing);

    /**
     * @param manual a run asked for by a person ({@code run-now}): it changes no schedule ({@code
     *     nextRun} should be {@code expectedNext}) and also fires a paused task
     * @param firstSkipped the oldest instant skipped, when {@code skipped} is above 0
     */
    record Firing(
            TaskId task,
            Instant expectedNext,
            List<Instant> runs,
            int skipped,
            Instant firstSkipped,
            Instant nextRun,
            SessionId session,
            String prompt,
            boolean manual) {}

    /** What {@link #fire} stored: the history rows (runs oldest first) and their messages. */
    record Fired(Task task, List<TaskRun> runs, List<InboundId> messages) {}

    /** The newest {@code max} runs of a task, newest first. */
    List<TaskRun> runs(TaskId task, int max);
}
