package dev.cordon.runner.model;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * How a {@link ModelClient} retries: the same budget covers failed requests (408, 409, 429, 5xx,
 * connection errors) and streams that break after a 200. Between attempts it waits what the
 * server asked for ({@code retry-after-ms}, then {@code retry-after} when within 0..60 s), or else
 * {@code min(initialBackoff * 2^n, maxBackoff)} for the n-th retry, shortened by a random jitter of
 * up to 25%, as the official Anthropic and OpenAI SDKs do.
 *
 * @param maxRetries retries after the first attempt; 0 means one attempt only
 * @param initialBackoff the wait before the first retry, before jitter
 * @param maxBackoff the cap on the computed (not the server-requested) wait
 * @param idleTimeout how long a response body may send no bytes before the stream counts as broken
 * @param sleeper waits between attempts; tests pass one that records and returns at once
 * @param random the jitter source; called from every thread that uses the client, so thread-safe
 * @param clock reads "now" to turn an HTTP-date {@code retry-after} into a wait
 */
public record RetryPolicy(
        int maxRetries,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration idleTimeout,
        Sleeper sleeper,
        RandomGenerator random,
        Clock clock) {

    /** Longest server-requested wait that is honoured; longer ones fall back to backoff, like the SDKs. */
    static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(60);

    public RetryPolicy {
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must not be negative, was " + maxRetries);
        }
        Objects.requireNonNull(initialBackoff, "initialBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(sleeper, "sleeper");
        Objects.requireNonNull(random, "random");
        Objects.requireNonNull(clock, "clock");
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout must be positive, was " + idleTimeout);
        }
    }

    /**
     * The official SDKs' policy: 2 retries, 0.5 s initial and 8 s maximum backoff, jitter up to 25%
     * down; streams idle for 5 minutes count as broken (Anthropic sends a {@code ping} well within
     * that), real sleeping, system clock.
     */
    public static RetryPolicy defaults() {
        return new RetryPolicy(
                2,
                Duration.ofMillis(500),
                Duration.ofSeconds(8),
                Duration.ofMinutes(5),
                Sleeper.REAL,
                () -> ThreadLocalRandom.current().nextLong(),
                Clock.systemUTC());
    }

    /** This policy with another sleeper; the usual way tests make retries instant. */
    public RetryPolicy withSleeper(Sleeper newSleeper) {
        return new RetryPolicy(maxRetries, initialBackoff, maxBackoff, idleTimeout, newSleeper, random, clock);
    }

    /** This policy with another idle-stream timeout. */
    public RetryPolicy withIdleTimeout(Duration newIdleTimeout) {
        return new RetryPolicy(maxRetries, initialBackoff, maxBackoff, newIdleTimeout, sleeper, random, clock);
    }

    /** The computed wait before retry number {@code retry} (0 for the first retry), jitter included. */
    Duration backoff(int retry) {
        double seconds = Math.min(
                initialBackoff.toNanos() / 1e9 * Math.pow(2, Math.min(retry, 1000)), maxBackoff.toNanos() / 1e9);
        double jitter = 1 - 0.25 * random.nextDouble();
        return Duration.ofNanos((long) (seconds * jitter * 1e9));
    }

    /** Waits between attempts. */
    @FunctionalInterface
    public interface Sleeper {
        /** Really sleeps, on whatever thread calls it (virtual threads welcome). */
        Sleeper REAL = Thread::sleep;

        /** Blocks for {@code duration}; interruptible. */
        void sleep(Duration duration) throws InterruptedException;
    }
}
