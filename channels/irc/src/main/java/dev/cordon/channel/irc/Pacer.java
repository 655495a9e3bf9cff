package dev.cordon.channel.irc;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Flood control: a token bucket of {@code burst} lines that refills one line per {@code interval}.
 * IRC servers throttle or disconnect a client that sends faster than a line a second or so, and a
 * disconnect loses whatever was queued. Thread-safe.
 */
final class Pacer {
    private final int burst;
    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private double tokens;
    private long last;

    Pacer(int burst, Duration interval, LongSupplier nanoTime) {
        this.burst = burst;
        this.intervalNanos = interval.toNanos();
        this.nanoTime = nanoTime;
        this.tokens = burst;
        this.last = nanoTime.getAsLong();
    }

    /** Five lines at once, then one a second. */
    static Pacer standard() {
        return new Pacer(5, Duration.ofSeconds(1), System::nanoTime);
    }

    /** How long the caller must wait before sending one more line, and takes that line's token. */
    synchronized Duration take() {
        long now = nanoTime.getAsLong();
        tokens = Math.min(burst, tokens + (double) (now - last) / intervalNanos);
        last = now;
        tokens -= 1;
        if (tokens >= 0) {
            return Duration.ZERO;
        }
        return Duration.ofNanos((long) (-tokens * intervalNanos));
    }
}
