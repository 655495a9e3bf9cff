package dev.cordon.core.task;

import dev.cordon.core.Ids.SessionId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/** What a due task fires at an instant, by its catch-up policy. Pure: tests call it with any clock. */
final class Due {
    /**
     * A run due at most this long ago is on time (the timer fired it, a little late at worst); older
     * ones were missed (the daemon was down) and follow the catch-up policy.
     */
    static final Duration GRACE = Duration.ofMinutes(1);

    /** Most due instants counted one by one; beyond, the task jumps to its next run after now. */
    static final int MAX_COUNTED = 10_000;

    private Due() {}

    /**
     * The firing of {@code task} at {@code now} in {@code session}: every instant from its next run up
     * to {@code now} is due; the newest is on time if within {@link #GRACE}.
     */
    static Tasks.Firing firing(Task task, Instant now, SessionId session) {
        Deque<Instant> due = new ArrayDeque<>();
        int count = 0;
        Instant at = task.nextRun();
        while (at != null && !at.isAfter(now) && count < MAX_COUNTED) {
            count++;
            due.addLast(at);
            if (due.size() > Task.CatchUp.MAX_RUNS) {
                due.removeFirst();
            }
            at = task.schedule().next(at, task.zone()).orElse(null);
        }
        if (at != null && !at.isAfter(now)) {
            at = task.schedule().next(now, task.zone()).orElse(null);
        }
        Instant last = due.getLast();
        boolean onTime = Duration.between(last, now).compareTo(GRACE) <= 0;
        List<Instant> runs = switch (task.catchUp()) {
            case SKIP -> onTime ? List.of(last) : List.of();
            case ONCE -> List.of(last);
            case ALL -> List.copyOf(due);
        };
        int skipped = count - runs.size();
        return new Tasks.Firing(
                task.id(), task.nextRun(), runs, skipped, task.nextRun(), at, session, task.prompt(), false);
    }

    /** A run a person asked for: now, the schedule unchanged. */
    static Tasks.Firing manual(Task task, Instant now, SessionId session) {
        return new Tasks.Firing(
                task.id(), task.nextRun(), List.of(now), 0, null, task.nextRun(), session, task.prompt(), true);
    }
}
