package dev.cordon.core.approval;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** Runs a task at an instant: the approvals' timeouts. Injected so tests move time by hand. */
@FunctionalInterface
public interface Scheduler {

    /**
     * Runs {@code task} once at {@code when} (at once if that has passed), on a thread of the
     * scheduler's. The returned handle cancels it if it has not started.
     */
    Cancel at(Instant when, Runnable task);

    @FunctionalInterface
    interface Cancel {
        void cancel();
    }

    /**
     * On {@code timer}, with delays measured on {@code clock}. Each task runs on a virtual thread of
     * its own, because an expiry writes to the store and the audit log, and the timer is shared.
     */
    static Scheduler of(ScheduledExecutorService timer, Clock clock) {
        return (when, task) -> {
            long delay = Math.max(0, Duration.between(clock.instant(), when).toMillis());
            ScheduledFuture<?> f = timer.schedule(
                    () -> Thread.ofVirtual().name("approval-timeout").start(task), delay, TimeUnit.MILLISECONDS);
            return () -> f.cancel(false);
        };
    }
}
