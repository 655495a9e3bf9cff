package dev.cordon.core.channel;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * How long an adapter waits before its next reconnect: exponential from {@code base} up to {@code
 * max}, with jitter (a random point in the upper half of the step), so that many adapters cut off
 * by one outage do not all come back in the same second. Thread-safe (deliveries of several chats
 * may share one).
 */
public final class Backoff {
    private final Duration base;
    private final Duration max;
    private final RandomGenerator random;
    private int failures;

    /**
     * @param random draws the jitter; tests pass a seeded one
     * @throws IllegalArgumentException if {@code base} is not positive or {@code max} is below it
     */
    public Backoff(Duration base, Duration max, RandomGenerator random) {
        if (base.isNegative() || base.isZero() || max.compareTo(base) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < base <= max, got " + base + " and " + max);
        }
        this.base = base;
        this.max = max;
        this.random = random;
    }

    /** The wait after one more failure in a row. */
    public synchronized Duration next() {
        long ceiling = base.toMillis() << Math.min(failures, 20);
        failures++;
        long cap = Math.min(max.toMillis(), ceiling);
        long half = cap / 2;
        return Duration.ofMillis(half + random.nextLong(cap - half + 1));
    }

    /** The connection works again: the next failure starts from {@code base}. */
    public synchronized void reset() {
        failures = 0;
    }
}
