package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.access.UserId;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditLog;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live events of {@code /api/v1/events}: what the web channel streams (text, tool calls,
 * replies) and every audit entry as it is appended (approvals, sandboxes, turns, denials), followed
 * from the log itself so nothing is published that is not on record. Each subscriber sees only the
 * events its {@link Visibility} admits. A subscriber that falls {@link #BACKLOG} events behind is
 * dropped (its stream ends; the browser reconnects and reloads), so a slow client never slows the
 * daemon. Thread-safe.
 */
final class WebEvents implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebEvents.class);
    static final int BACKLOG = 1_000;

    /**
     * One event. {@code agent} null: not about one agent. {@code forUser} non-null: about that user's
     * own web chat (shown to them and to the agent's admins).
     */
    record Event(String type, AgentName agent, UserId forUser, Object data) {}

    /** Whether a user may see an event of {@code agent} (null: a daemon-wide one). */
    @FunctionalInterface
    interface Visibility {
        boolean mayWatch(UserId user, AgentName agent);
    }

    /** A subscriber's queue; {@link #next} returns null after the wait or once dropped. */
    final class Subscription implements AutoCloseable {
        private final BlockingQueue<Event> queue = new ArrayBlockingQueue<>(BACKLOG);
        private final Predicate<Event> wants;
        private volatile boolean dropped;

        private Subscription(Predicate<Event> wants) {
            this.wants = wants;
        }

        Event next(Duration wait) throws InterruptedException {
            return dropped ? null : queue.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        }

        boolean dropped() {
            return dropped;
        }

        private void offer(Event event) {
            if (wants.test(event) && !queue.offer(event)) {
                dropped = true;
                subscribers.remove(this);
            }
        }

        @Override
        public void close() {
            subscribers.remove(this);
        }
    }

    private final Set<Subscription> subscribers = ConcurrentHashMap.newKeySet();
    private final List<Consumer<AuditEntry>> auditListeners;
    private final Visibility visibility;
    private final AuditLog audit;
    private volatile boolean closed;
    private Thread follower;

    WebEvents(AuditLog audit, Visibility visibility, List<Consumer<AuditEntry>> auditListeners) {
        this.audit = audit;
        this.visibility = visibility;
        this.auditListeners = List.copyOf(auditListeners);
    }

    /** Follows the audit log from its current end on a virtual thread. */
    void start() {
        long head = lastSeq();
        follower = Thread.ofVirtual().name("web-audit-follower").start(() -> follow(head));
    }

    /**
     * The last entry's seq, in O(log n) one-entry reads: {@code read(x, 1)} is empty exactly when x
     * is at or past the end, whatever gaps the log has.
     */
    private long lastSeq() {
        long hi = 1;
        while (!audit.read(hi, 1).isEmpty()) {
            hi *= 2;
        }
        long lo = 0;
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            if (audit.read(mid, 1).isEmpty()) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private void follow(long after) {
        while (!closed) {
            try {
                for (AuditEntry entry : audit.tail(after, 500, Duration.ofSeconds(5))) {
                    after = entry.seq();
                    auditListeners.forEach(l -> l.accept(entry));
                    publish(new Event("audit", entry.event().agent(), null, WebJson.entry(entry)));
                }
            } catch (InterruptedException e) {
                return;
            } catch (IllegalStateException e) {
                return; // the log closed: the daemon is stopping
            } catch (RuntimeException e) {
                LOG.warn("following the audit log for live events failed; retrying", e);
            }
        }
    }

    void publish(Event event) {
        subscribers.forEach(s -> s.offer(event));
    }

    Subscription subscribe(UserId user) {
        Subscription s = new Subscription(e -> user.equals(e.forUser()) || visibility.mayWatch(user, e.agent()));
        subscribers.add(s);
        return s;
    }

    @Override
    public void close() {
        closed = true;
        if (follower != null) {
            follower.interrupt();
        }
        subscribers.clear();
    }
}
