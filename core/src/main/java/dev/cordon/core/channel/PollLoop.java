package dev.cordon.core.channel;

import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background loop of an adapter that reads its platform by polling (long polls, syncs) or over
 * a connection it holds (a gateway, one step per connection): one virtual thread runs the
 * adapter's {@link Step} again and again. A step says how long to wait before the next; a failure
 * waits the {@link Backoff}'s next step, is logged once (not once per attempt) and is kept as
 * {@link #trouble()} until a step {@link #worked() works} again. A step that {@link #gaveUp gives
 * up} (a rejected token) ends the loop for good.
 *
 * <p>Thread-safe. {@link #start} once; {@link #close} interrupts the step in progress (the JDK's
 * HTTP client gives up a request on interrupt) and waits up to 5 s for the thread to end.
 */
public final class PollLoop implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PollLoop.class);

    /** One poll of the platform and the handling of what it brought. */
    @FunctionalInterface
    public interface Step {
        /**
         * @return how long to wait before the next step: zero after a success, or {@link
         *     #troubled}'s answer after a failure the step recognised; {@link #gaveUp}'s null to
         *     end the loop
         * @throws IOException if the platform could not be reached: logged, retried after a back-off
         * @throws InterruptedException if the loop is closing
         */
        Duration poll() throws IOException, InterruptedException;
    }

    private final String platform;
    private final Backoff backoff;
    private volatile String trouble;
    private volatile boolean closed;
    private volatile boolean gaveUp;
    private Thread thread;

    /** @param platform names the platform in log lines and troubles, e.g. {@code Telegram} */
    public PollLoop(String platform, Backoff backoff) {
        this.platform = platform;
        this.backoff = backoff;
    }

    /** Starts running {@code step} on a virtual thread named {@code threadName}. */
    public synchronized void start(String threadName, Step step) {
        if (thread != null) {
            throw new IllegalStateException(platform + ": the poll loop is already started");
        }
        thread = Thread.ofVirtual().name(threadName).start(() -> run(step));
    }

    private void run(Step step) {
        while (!closed) {
            Duration wait;
            try {
                wait = step.poll();
            } catch (IOException e) {
                wait = troubled("cannot reach " + platform + ": " + e.getMessage());
            } catch (RuntimeException e) {
                String why = "a poll failed: " + e;
                if (!why.equals(trouble)) {
                    LOG.error("{}: a poll failed", platform, e); // the stack once, not at every retry
                }
                wait = troubled(why);
            } catch (InterruptedException e) {
                return;
            }
            if (wait == null) {
                return;
            }
            if (wait.isZero()) {
                continue;
            }
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** A step worked: the trouble is over and the next failure waits from the back-off's base. */
    public void worked() {
        if (trouble != null) {
            LOG.info("{}: polling works again", platform);
        }
        trouble = null;
        backoff.reset();
    }

    /** Records {@code why} as the trouble (logged if it is new); returns the back-off's next wait. */
    public Duration troubled(String why) {
        return troubled(why, backoff.next());
    }

    /** Records {@code why} as the trouble (logged if it is new); returns {@code wait}, the platform's own. */
    public Duration troubled(String why, Duration wait) {
        if (!closed) {
            if (!why.equals(trouble)) {
                LOG.error("{}: {} (next attempt in {} ms)", platform, why, wait.toMillis());
            }
            trouble = why;
        }
        return wait;
    }

    /**
     * Records {@code why} as the trouble for good (logged): retrying cannot help, only a change of
     * configuration and a restart. Returns null, which a step returns to end the loop.
     */
    public Duration gaveUp(String why) {
        trouble = why;
        gaveUp = true;
        LOG.error("{}: stopped: {}", platform, why);
        return null;
    }

    /** Whether a step {@link #gaveUp gave up}: the loop ends and {@link #trouble()} says why. */
    public boolean gaveUp() {
        return gaveUp;
    }

    /** Whether the loop's thread is alive: started, and neither closed nor given up. */
    public synchronized boolean running() {
        return thread != null && thread.isAlive();
    }

    /** What kept the last step from working, or null if it worked. */
    public String trouble() {
        return trouble;
    }

    /** Whether {@link #close} was called: a step in a batch stops early. */
    public boolean closed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
