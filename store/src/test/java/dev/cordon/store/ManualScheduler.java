package dev.cordon.store;

import dev.cordon.core.approval.Scheduler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** A {@link Scheduler} whose tasks run only when a test says time has come. Thread-safe. */
final class ManualScheduler implements Scheduler {
    private record Task(Instant at, Runnable run, boolean[] cancelled) {}

    private final List<Task> tasks = new ArrayList<>();

    @Override
    public synchronized Cancel at(Instant when, Runnable task) {
        Task t = new Task(when, task, new boolean[1]);
        tasks.add(t);
        return () -> {
            synchronized (ManualScheduler.this) {
                t.cancelled()[0] = true;
            }
        };
    }

    /** Runs, on this thread, every task due at {@code now} that was not cancelled. */
    void runDue(Instant now) {
        List<Task> due = new ArrayList<>();
        synchronized (this) {
            for (Task t : List.copyOf(tasks)) {
                if (!t.at().isAfter(now)) {
                    tasks.remove(t);
                    if (!t.cancelled()[0]) {
                        due.add(t);
                    }
                }
            }
        }
        due.forEach(t -> t.run().run());
    }

    /** Tasks armed and not cancelled. */
    synchronized int armed() {
        return (int) tasks.stream().filter(t -> !t.cancelled()[0]).count();
    }
}
