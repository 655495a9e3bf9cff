package dev.cordon.core.session;

import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.SessionId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.IntConsumer;

/**
 * Admission control for sandboxes (docs/sessions.md): at most {@code maxLive} live at once and at
 * most {@code maxMemory} bytes of memory limits committed to them. A session that does not fit
 * waits in its agent's queue; the queues are served round robin, so one busy agent cannot starve
 * the others, and within an agent oldest first. Interactive sessions (someone is waiting for the
 * answer) come before background ones (scheduled tasks): no background session is admitted while
 * an interactive one waits, even one that would fit. Before anyone waits, an idle live sandbox is
 * hibernated to make room ({@link Evictor}). Thread-safe.
 */
public final class Admission {
    /** Hibernates one live sandbox that is between turns, if there is one. */
    @FunctionalInterface
    public interface Evictor {
        /** @return whether a sandbox was hibernated (its slot is then released) */
        boolean evictIdle(SessionId forWhom);
    }

    /** What {@link #snapshot} reports. */
    public record Snapshot(int live, long committedBytes, int maxLive, long maxMemoryBytes, List<SessionId> queued) {
        public Snapshot {
            queued = List.copyOf(queued);
        }
    }

    /** Who a sandbox is for: interactive sessions are admitted before background ones. */
    public enum Priority {
        /** A chat: a person is waiting for the answer. */
        INTERACTIVE,
        /** A scheduled task's run: nobody is waiting on it right now. */
        BACKGROUND
    }

    /** The thread key prefix of scheduled tasks' own sessions ({@code core/task/Task#threadKey}). */
    public static final String TASK_THREAD_PREFIX = "task-";

    /** A scheduled task's own session is {@link Priority#BACKGROUND}; every other session is interactive. */
    public static Priority priorityOf(Session session) {
        return session.threadKey().startsWith(TASK_THREAD_PREFIX) ? Priority.BACKGROUND : Priority.INTERACTIVE;
    }

    /** Counts a sandbox whose policy sets no memory limit as this much. */
    public static final long UNLIMITED_COUNTS_AS = 1L << 30;

    private final int maxLive;
    private final long maxMemory;
    private final Map<SessionId, Long> live = new HashMap<>();
    /** Waiting interactive sessions per agent, the agent served longest ago first. */
    private final LinkedHashMap<AgentId, ArrayDeque<Waiter>> interactive = new LinkedHashMap<>();
    /** Waiting background sessions, likewise: served only while no interactive one waits. */
    private final LinkedHashMap<AgentId, ArrayDeque<Waiter>> background = new LinkedHashMap<>();

    private long committed;
    private volatile Evictor evictor = forWhom -> false;

    private record Waiter(AgentId agent, SessionId session, long memory, CompletableFuture<Void> granted) {}

    public Admission(int maxLive, long maxMemoryBytes) {
        if (maxLive < 1 || maxMemoryBytes < 1) {
            throw new IllegalArgumentException("caps must be positive: " + maxLive + ", " + maxMemoryBytes);
        }
        this.maxLive = maxLive;
        this.maxMemory = maxMemoryBytes;
    }

    /** Who hibernates idle sandboxes to make room: the session manager, once it exists. */
    public void evictWith(Evictor evictor) {
        this.evictor = Objects.requireNonNull(evictor);
    }

    /**
     * Blocks until {@code session} may start a sandbox whose memory limit is {@code memoryBytes} (0:
     * none). Returns at once if it fits, or if the session already holds a slot. If it must wait,
     * {@code queued} hears its place in line (1 = next) once.
     *
     * @throws InterruptedException if interrupted while waiting; the session then holds nothing
     */
    public void acquire(AgentId agent, SessionId session, long memoryBytes, IntConsumer queued)
            throws InterruptedException {
        acquire(agent, session, memoryBytes, Priority.INTERACTIVE, queued);
    }

    /** {@link #acquire(AgentId, SessionId, long, IntConsumer)} for a session of the given priority. */
    public void acquire(AgentId agent, SessionId session, long memoryBytes, Priority priority, IntConsumer queued)
            throws InterruptedException {
        long memory = memoryBytes == 0 ? UNLIMITED_COUNTS_AS : memoryBytes;
        LinkedHashMap<AgentId, ArrayDeque<Waiter>> queues = priority == Priority.INTERACTIVE ? interactive : background;
        Waiter waiter;
        synchronized (this) {
            if (live.containsKey(session)) {
                return;
            }
            boolean noneAhead = interactive.isEmpty() && (priority == Priority.INTERACTIVE || background.isEmpty());
            if (noneAhead && fits(memory)) {
                grant(session, memory);
                return;
            }
            waiter = new Waiter(agent, session, memory, new CompletableFuture<>());
            queues.computeIfAbsent(agent, a -> new ArrayDeque<>()).add(waiter);
        }
        // Make room by hibernating sandboxes that sit idle between turns (outside the lock: it takes time).
        while (!waiter.granted().isDone() && evictor.evictIdle(session)) {
            // each eviction released a slot and served the queue
        }
        if (!waiter.granted().isDone()) {
            queued.accept(place(waiter));
        }
        try {
            waiter.granted().get();
        } catch (InterruptedException e) {
            synchronized (this) {
                ArrayDeque<Waiter> q = queues.get(agent);
                if (q != null && q.remove(waiter) && q.isEmpty()) {
                    queues.remove(agent);
                }
                serve(); // a background waiter may have been held back by this one
            }
            if (waiter.granted().isDone()) {
                release(session);
            }
            throw e;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The session's sandbox is gone: its slot goes to the next in line. Idempotent. */
    public void release(SessionId session) {
        synchronized (this) {
            Long memory = live.remove(session);
            if (memory == null) {
                return;
            }
            committed -= memory;
            serve();
        }
    }

    /** Whether someone is waiting for a slot (then a sandbox whose turn ended should give its slot up). */
    public synchronized boolean anyoneWaiting() {
        return !interactive.isEmpty() || !background.isEmpty();
    }

    /** The caps, what is live, and who waits: interactive sessions first, each tier agent by agent. */
    public synchronized Snapshot snapshot() {
        List<SessionId> waiting = new ArrayList<>();
        interactive.values().forEach(q -> q.forEach(w -> waiting.add(w.session())));
        background.values().forEach(q -> q.forEach(w -> waiting.add(w.session())));
        return new Snapshot(live.size(), committed, maxLive, maxMemory, waiting);
    }

    /** Whether {@code session} holds a slot. */
    public synchronized boolean holds(SessionId session) {
        return live.containsKey(session);
    }

    private boolean fits(long memory) {
        // A sandbox bigger than the whole memory cap still runs, alone.
        return live.size() < maxLive && (committed + memory <= maxMemory || live.isEmpty());
    }

    private void grant(SessionId session, long memory) {
        live.put(session, memory);
        committed += memory;
    }

    /**
     * Grants waiting sessions while they fit: interactive ones first, background ones only while no
     * interactive one waits; in each tier the agent served longest ago first. Holds the lock.
     */
    private void serve() {
        while (serveOne(interactive) || (interactive.isEmpty() && serveOne(background))) {
            // one more granted
        }
    }

    /** Grants the first waiter of {@code queues} that fits, round robin; whether one was. */
    private boolean serveOne(LinkedHashMap<AgentId, ArrayDeque<Waiter>> queues) {
        for (Iterator<Map.Entry<AgentId, ArrayDeque<Waiter>>> it =
                        queues.entrySet().iterator();
                it.hasNext(); ) {
            Map.Entry<AgentId, ArrayDeque<Waiter>> entry = it.next();
            Waiter head = entry.getValue().peek();
            if (!fits(head.memory())) {
                continue;
            }
            entry.getValue().poll();
            it.remove();
            if (!entry.getValue().isEmpty()) {
                queues.put(entry.getKey(), entry.getValue()); // to the back of the line
            }
            grant(head.session(), head.memory());
            head.granted().complete(null);
            return true;
        }
        return false;
    }

    /** The waiter's place in line if the queues are served as {@link #serve} does from now: 1 = next. */
    private synchronized int place(Waiter waiter) {
        int place = 0;
        for (LinkedHashMap<AgentId, ArrayDeque<Waiter>> tier : List.of(interactive, background)) {
            List<ArrayDeque<Waiter>> lines = new ArrayList<>();
            tier.values().forEach(q -> lines.add(new ArrayDeque<>(q)));
            while (!lines.isEmpty()) {
                for (Iterator<ArrayDeque<Waiter>> it = lines.iterator(); it.hasNext(); ) {
                    ArrayDeque<Waiter> line = it.next();
                    place++;
                    if (line.poll() == waiter) {
                        return place;
                    }
                    if (line.isEmpty()) {
                        it.remove();
                    }
                }
            }
        }
        return place;
    }
}
