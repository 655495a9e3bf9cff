package dev.cordon.runner.model;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records what a client tells its listener and how long it asked to sleep. */
final class Recorder implements StreamListener, RetryPolicy.Sleeper {
    static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    /** In order: {@code text:<delta>} and {@code reset:<reason>}. */
    final List<String> events = new CopyOnWriteArrayList<>();

    final List<Duration> sleeps = new CopyOnWriteArrayList<>();

    @Override
    public void onText(String delta) {
        events.add("text:" + delta);
    }

    @Override
    public void onReset(String reason) {
        events.add("reset:" + reason);
    }

    @Override
    public void sleep(Duration duration) {
        sleeps.add(duration);
    }

    List<String> texts() {
        return events.stream()
                .filter(e -> e.startsWith("text:"))
                .map(e -> e.substring(5))
                .toList();
    }

    List<String> resets() {
        return events.stream()
                .filter(e -> e.startsWith("reset:"))
                .map(e -> e.substring(6))
                .toList();
    }

    /**
     * The SDK defaults, except: sleeps are recorded, not slept; jitter is zero (so backoff is exactly
     * 0.5 s, 1 s, ...); the clock stands still at {@link #NOW}; and streams idle for 300 ms count as broken.
     */
    RetryPolicy policy() {
        return new RetryPolicy(
                2,
                Duration.ofMillis(500),
                Duration.ofSeconds(8),
                Duration.ofMillis(300),
                this,
                () -> 0L,
                Clock.fixed(NOW, ZoneOffset.UTC));
    }
}
