package dev.cordon.core;

import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a job on a virtual thread whenever {@link #wake} is called, never twice at once, and again
 * if woken while running — so a wake is never lost and work stays serial. Thread-safe.
 */
public final class SerialWorker {
    private static final Logger LOG = LoggerFactory.getLogger(SerialWorker.class);
    private final String name;
    private final Runnable job;
    // 0 idle, 1 running, 2 running and woken again
    private final AtomicInteger state = new AtomicInteger();

    public SerialWorker(String name, Runnable job) {
        this.name = name;
        this.job = job;
    }

    /** Ensures the job runs (again) soon. Never blocks. */
    public void wake() {
        while (true) {
            int s = state.get();
            if (s == 2) {
                return;
            }
            if (state.compareAndSet(s, s + 1)) {
                if (s == 0) {
                    Thread.ofVirtual().name(name).start(this::loop);
                }
                return;
            }
        }
    }

    private void loop() {
        do {
            try {
                job.run();
            } catch (RuntimeException e) {
                LOG.error("{} failed; it runs again on the next wake", name, e);
            }
        } while (state.decrementAndGet() > 0);
    }
}
