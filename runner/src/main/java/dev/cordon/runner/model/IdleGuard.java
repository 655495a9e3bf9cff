package dev.cordon.runner.model;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * Closes a response body when a read on it has been blocked longer than the idle timeout, so a
 * stalled stream fails instead of hanging the turn. HttpClient has no per-read timeout (its request
 * timeout stops at the response head), hence a watchdog. Time spent by the caller between reads (a
 * slow listener) does not count: only a read that waits for bytes does.
 *
 * <p>Starts one virtual thread; {@link #close()} stops it and closes the body.
 */
final class IdleGuard implements AutoCloseable {
    private final InputStream body;
    private volatile long idleNanos;
    private final Thread watcher;
    private volatile long readStartedAt;
    private volatile boolean reading;
    private volatile boolean fired;
    private volatile boolean closed;

    private IdleGuard(InputStream body, Duration idle) {
        this.body = body;
        this.idleNanos = idle.toNanos();
        this.watcher = Thread.ofVirtual().name("model-stream-idle-guard").unstarted(this::watch);
    }

    static IdleGuard start(InputStream body, Duration idle) {
        IdleGuard guard = new IdleGuard(body, idle);
        guard.watcher.start();
        return guard;
    }

    /** The body to read through; reads on it are what the guard times. */
    InputStream stream() {
        return new FilterInputStream(body) {
            @Override
            public int read() throws IOException {
                begin();
                try {
                    return super.read();
                } finally {
                    reading = false;
                }
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                begin();
                try {
                    return super.read(b, off, len);
                } finally {
                    reading = false;
                }
            }
        };
    }

    /** From now on, a read may wait at most {@code idle}. */
    void shorten(Duration idle) {
        idleNanos = Math.min(idleNanos, idle.toNanos());
        LockSupport.unpark(watcher);
    }

    /** Whether the guard closed the body because it went idle. */
    boolean fired() {
        return fired;
    }

    private void begin() {
        readStartedAt = System.nanoTime();
        reading = true;
    }

    private void watch() {
        while (!closed) {
            long wait = idleNanos;
            if (reading) {
                wait = readStartedAt + idleNanos - System.nanoTime();
                if (wait <= 0 && reading) {
                    fired = true;
                    closeQuietly();
                    return;
                }
            }
            LockSupport.parkNanos(this, Math.max(wait, 1_000_000));
        }
    }

    private void closeQuietly() {
        try {
            body.close();
        } catch (IOException e) {
            // The body is being abandoned either way; the reader sees the failure.
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(watcher);
        closeQuietly();
    }
}
