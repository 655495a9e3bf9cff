package dev.cordon.core.task;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.approval.Scheduler;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.store.Store;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fires scheduled tasks on time. With several replicas on PostgreSQL every replica runs one of
 * these: each due task fires on exactly one of them (the store's {@link Tasks#fire} claims it),
 * and a task another replica is firing is skipped, so the firings spread over the replicas.
 *
 * <p>One timer waits for the earliest next run in the store and is re-armed whenever a task
 * changes or fires: no sweep, no polling (DESIGN.md, event-driven). A run is a message from the scheduler stored in the task's session and a wake of that session, so it
 * goes through the session, sandbox, gateway and audit like any message, and its reply is delivered
 * to the session's chat, the task's destination.
 *
 * <p>Durable: the next run is stored as an instant, and a firing (its history, its messages, the
 * next run) is one transaction, so a crash fires a run wholly or not at all. After downtime the
 * first timer finds the runs that fell due and fires them by the task's catch-up policy.
 *
 * <p>Thread-safe. Firing and every change are serialized by one lock; each blocks on the store and
 * the audit log. Every change is audited after it is stored and before it returns.
 */
public final class TaskScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TaskScheduler.class);
    private static final Actor SCHEDULER = Actor.system("scheduler");
    /** How long a task that failed to fire waits before the next try. */
    static final Duration RETRY = Duration.ofSeconds(30);
    /**
     * When another replica was firing a due task (PostgreSQL, several replicas), how long before this
     * one looks again: the other's firing has committed by then (or failed, and this one fires it).
     */
    static final Duration RECHECK = Duration.ofSeconds(1);

    private final Store store;
    private final Tasks tasks;
    private final AuditLog audit;
    private final Clock clock;
    private final Scheduler timer;
    private final Consumer<SessionId> wake;
    private final ReentrantLock lock = new ReentrantLock();
    private Scheduler.Cancel armed;
    private Instant armedFor;
    private boolean closed;

    /**
     * @param timer runs the firing at the due instant (tests pass a manual one)
     * @param wake wakes a session whose inbox got a run's message
     */
    public TaskScheduler(Store store, AuditLog audit, Clock clock, Scheduler timer, Consumer<SessionId> wake) {
        this.store = Objects.requireNonNull(store, "store");
        this.tasks = store.tasks();
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.timer = Objects.requireNonNull(timer, "timer");
        this.wake = Objects.requireNonNull(wake, "wake");
    }

    /** What a new task is. {@code origin} is the session an ORIGIN task runs in, else null. */
    public record Spec(
            AgentId agent,
            String prompt,
            Schedule schedule,
            ZoneId zone,
            ChatId destination,
            Task.SessionMode sessionMode,
            SessionId origin,
            Task.CatchUp catchUp) {}

    /** Fires what fell due while the daemon was down (by each task's catch-up policy) and arms the timer. */
    public void start() {
        fireDue();
    }

    /**
     * Creates a task and arms the timer for it; audited {@code task.create}.
     *
     * @throws IllegalArgumentException naming what is wrong: an empty prompt, a one-off time in the
     *     past, an ORIGIN session of another agent, a chat or session that does not exist
     */
    public Task create(Spec spec, Actor by) {
        Objects.requireNonNull(spec, "spec");
        if (spec.prompt() == null || spec.prompt().isBlank()) {
            throw new IllegalArgumentException("a task needs a prompt: the message the agent gets at each run");
        }
        Agent agent = store.agent(spec.agent())
                .orElseThrow(() ->
                        new IllegalArgumentException("no agent " + spec.agent().value()));
        ChatId destination = spec.destination();
        SessionId origin = null;
        if (spec.sessionMode() == Task.SessionMode.ORIGIN) {
            Session session = store.session(Objects.requireNonNull(spec.origin(), "origin session"))
                    .filter(s -> s.agentId().equals(agent.id()))
                    .orElseThrow(() -> new IllegalArgumentException(
                            "session " + spec.origin().value() + " is not a session of agent " + agent.name()));
            destination = session.chatId();
            origin = session.id();
        }
        if (store.chat(Objects.requireNonNull(destination, "destination")).isEmpty()) {
            throw new IllegalArgumentException("no chat " + destination.value());
        }
        Instant now = clock.instant();
        Instant next = spec.schedule()
                .next(now.minusMillis(1), spec.zone())
                .orElseThrow(() -> new IllegalArgumentException(
                        "schedule " + spec.schedule().kind() + " "
                                + spec.schedule().spec() + " never runs after now (" + now + ")"));
        lock.lock();
        try {
            Task task = tasks.create(new Tasks.NewTask(
                    agent.id(),
                    spec.prompt(),
                    spec.schedule(),
                    spec.zone(),
                    destination,
                    spec.sessionMode(),
                    origin,
                    spec.catchUp(),
                    next,
                    by.kind().name().toLowerCase(Locale.ROOT) + ":" + by.id()));
            Map<String, Object> details = describe(task);
            audit.append(event(by, AuditActions.TASK_CREATE, agent.name()).withDetails(details));
            arm();
            return task;
        } finally {
            lock.unlock();
        }
    }

    /** Pauses an active task; empty if it is not active or already paused. Audited {@code task.pause}. */
    public Optional<Task> pause(TaskId id, Actor by) {
        return change(id, by, AuditActions.TASK_PAUSE, t -> tasks.setPaused(id, true, t.nextRun()));
    }

    /**
     * Resumes a paused task from now on: what fell due while it was paused does not run (a one-off
     * whose time passed ends DONE). Empty if it is not paused. Audited {@code task.resume}.
     */
    public Optional<Task> resume(TaskId id, Actor by) {
        return change(id, by, AuditActions.TASK_RESUME, t -> {
            Instant next = t.nextRun() == null
                    ? null
                    : t.schedule()
                            .next(clock.instant().minusMillis(1), t.zone())
                            .orElse(null);
            return tasks.setPaused(id, false, next);
        });
    }

    /** Cancels a task for good; empty if there is none or it was cancelled. Audited {@code task.cancel}. */
    public Optional<Task> cancel(TaskId id, Actor by) {
        return change(id, by, AuditActions.TASK_CANCEL, t -> tasks.cancel(id));
    }

    /**
     * Runs an active task now, paused or not, without changing its schedule. Empty if it is not
     * active. Audited {@code task.run} with {@code manual}.
     */
    public Optional<Tasks.Fired> runNow(TaskId id, Actor by) {
        lock.lock();
        try {
            Optional<Task> task = tasks.task(id).filter(t -> t.state() == Task.State.ACTIVE);
            if (task.isEmpty()) {
                return Optional.empty();
            }
            return fire(task.get(), Due.manual(task.get(), clock.instant(), session(task.get())), by);
        } finally {
            lock.unlock();
        }
    }

    private interface Change {
        Optional<Task> apply(Task current);
    }

    private Optional<Task> change(TaskId id, Actor by, String action, Change change) {
        lock.lock();
        try {
            Optional<Task> changed = tasks.task(id).flatMap(change::apply);
            changed.ifPresent(t -> {
                Map<String, Object> details = new HashMap<>();
                details.put("task", t.id().value());
                if (t.nextRun() != null) {
                    details.put("next_run", t.nextRun().toString());
                }
                audit.append(event(by, action, agentName(t)).withDetails(details));
                arm();
            });
            return changed;
        } finally {
            lock.unlock();
        }
    }

    /** The timer's work: fire every task due now, then wait for the next one. */
    private void fireDue() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            armedFor = null;
            Instant now = clock.instant();
            boolean failed = false;
            boolean elsewhere = false;
            for (Task task : tasks.due(now)) {
                try {
                    elsewhere |= fire(task, Due.firing(task, now, session(task)), SCHEDULER)
                            .isEmpty();
                } catch (RuntimeException e) {
                    // One broken task must not stop the others. It stays due and is tried again after
                    // RETRY, not at once: a timer re-armed for the past would spin.
                    LOG.error("task {} could not fire; it is tried again in {}", task.id(), RETRY, e);
                    failed = true;
                }
            }
            // A task another replica is firing still looks due until that firing commits: looking again
            // at once would spin, so the timer waits a moment.
            arm(failed ? now.plus(RETRY) : elsewhere ? now.plus(RECHECK) : null);
        } finally {
            lock.unlock();
        }
    }

    private Optional<Tasks.Fired> fire(Task task, Tasks.Firing firing, Actor by) {
        Optional<Tasks.Fired> fired = tasks.fire(firing);
        if (fired.isEmpty()) {
            return fired; // another scheduler (a PostgreSQL replica) fired it first, or is firing it
        }
        AgentName agent = agentName(task);
        for (TaskRun run : fired.get().runs()) {
            Map<String, Object> details = new HashMap<>();
            details.put("task", task.id().value());
            details.put("run", run.id());
            details.put("due", run.due().toString());
            if (run.status() == TaskRun.Status.SKIPPED) {
                details.put("count", run.skipped());
                audit.append(event(by, AuditActions.TASK_SKIP, agent)
                        .withSession(firing.session())
                        .withRule("catch_up." + task.catchUp().name().toLowerCase(Locale.ROOT))
                        .withDetails(details));
                continue;
            }
            details.put("inbound", run.inbound().value());
            details.put(
                    "late_ms",
                    Math.max(0, Duration.between(run.due(), run.firedAt()).toMillis()));
            details.put("manual", run.manual());
            audit.append(event(by, AuditActions.TASK_RUN, agent)
                    .withSession(firing.session())
                    .withDetails(details));
        }
        if (!fired.get().messages().isEmpty()) {
            wake.accept(firing.session());
        }
        return fired;
    }

    /** The session a run goes to: the origin's, or the task's own in its destination chat. */
    private SessionId session(Task task) {
        if (task.sessionMode() == Task.SessionMode.ORIGIN) {
            return task.session();
        }
        Chat chat = store.chat(task.destination()).orElseThrow();
        return store.ensureSession(task.agent(), chat.id(), task.threadKey()).id();
    }

    private void arm() {
        arm(null);
    }

    /**
     * Points the one timer at the earliest next run (not before {@code notBefore}, if given), if it
     * changed. Called with the lock held.
     */
    private void arm(Instant notBefore) {
        if (closed) {
            return;
        }
        Optional<Instant> next =
                tasks.earliestDue().map(at -> notBefore != null && at.isBefore(notBefore) ? notBefore : at);
        if (next.isPresent() && next.get().equals(armedFor)) {
            return;
        }
        if (armed != null) {
            armed.cancel();
            armed = null;
            armedFor = null;
        }
        next.ifPresent(at -> {
            armedFor = at;
            armed = timer.at(at, this::fireDue);
        });
    }

    /** The instant the timer waits for, or empty when no task is due ever again. For tests and status. */
    public Optional<Instant> armedFor() {
        lock.lock();
        try {
            return Optional.ofNullable(armedFor);
        } finally {
            lock.unlock();
        }
    }

    private AgentName agentName(Task task) {
        return store.agent(task.agent()).map(Agent::name).orElseThrow();
    }

    private AuditEvent event(Actor by, String action, AgentName agent) {
        return AuditEvent.of(clock.instant(), by, action, Decision.ALLOW).withAgent(agent);
    }

    private static Map<String, Object> describe(Task t) {
        Map<String, Object> d = new HashMap<>();
        d.put("task", t.id().value());
        d.put("schedule", t.schedule().kind() + " " + t.schedule().spec());
        d.put("zone", t.zone().getId());
        d.put("destination", t.destination().value());
        d.put("session_mode", t.sessionMode().name().toLowerCase(Locale.ROOT));
        d.put("catch_up", t.catchUp().name().toLowerCase(Locale.ROOT));
        d.put("next_run", String.valueOf(t.nextRun()));
        return d;
    }

    /** Stops the timer; a firing in progress finishes. Idempotent. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            if (armed != null) {
                armed.cancel();
                armed = null;
            }
        } finally {
            lock.unlock();
        }
    }
}
