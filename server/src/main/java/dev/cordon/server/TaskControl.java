package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.store.Store;
import dev.cordon.core.task.Schedule;
import dev.cordon.core.task.Task;
import dev.cordon.core.task.TaskId;
import dev.cordon.core.task.TaskRun;
import dev.cordon.core.task.TaskScheduler;
import dev.cordon.core.task.TaskTools;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code cordon tasks list|show|create|pause|resume|run-now|cancel} on the control socket, as the
 * owner ({@code terminal:owner}): whoever can open the socket is the owner. Each request gets one
 * answer. Changes go through {@link TaskScheduler}, which stores, audits and re-arms the timer.
 * Thread-safe.
 */
final class TaskControl {
    static final Actor OWNER = Actor.user("terminal:owner");
    static final int DEFAULT_RUNS = 20;

    private final Store store;
    private final TaskScheduler scheduler;

    TaskControl(Store store, TaskScheduler scheduler) {
        this.store = store;
        this.scheduler = scheduler;
    }

    ControlEvent handle(ControlRequest.TaskRequest request) {
        try {
            return switch (request) {
                case ControlRequest.TasksList l -> list(l.agent());
                case ControlRequest.TasksShow s -> show(new TaskId(s.id()), s.runs(), null);
                case ControlRequest.TasksChange c -> change(new TaskId(c.id()), c.change());
                case ControlRequest.TasksCreate c -> create(c);
            };
        } catch (IllegalArgumentException e) {
            return new ControlEvent.Failure(e.getMessage());
        }
    }

    private ControlEvent list(String agent) {
        List<Task> tasks = agent == null
                ? store.tasks().tasks()
                : store.tasks().tasks(agent(agent).id());
        return new ControlEvent.TaskListing(tasks.stream().map(this::row).toList());
    }

    private ControlEvent show(TaskId id, int runs, String message) {
        Optional<Task> task = store.tasks().task(id);
        if (task.isEmpty()) {
            return noSuchTask(id);
        }
        int max = runs <= 0 ? DEFAULT_RUNS : Math.min(runs, 1_000);
        return new ControlEvent.TaskDetail(
                row(task.get()),
                store.tasks().runs(id, max).stream().map(TaskControl::row).toList(),
                message);
    }

    private ControlEvent change(TaskId id, ControlRequest.TaskChange change) {
        Optional<Task> task = store.tasks().task(id);
        if (task.isEmpty()) {
            return noSuchTask(id);
        }
        String state = describeState(task.get());
        return switch (change) {
            case PAUSE ->
                scheduler.pause(id, OWNER).isPresent()
                        ? show(id, DEFAULT_RUNS, "Paused task " + id + ".")
                        : new ControlEvent.Failure(
                                "task " + id + " is " + state + ": only an active task can be paused");
            case RESUME ->
                scheduler
                        .resume(id, OWNER)
                        .map(t -> show(
                                id,
                                DEFAULT_RUNS,
                                "Resumed task " + id + "; next run "
                                        + (t.nextRun() == null ? "none (its time passed while paused)" : t.nextRun())
                                        + "."))
                        .orElseGet(() -> new ControlEvent.Failure(
                                "task " + id + " is " + state + ": only a paused task can be resumed"));
            case CANCEL ->
                scheduler.cancel(id, OWNER).isPresent()
                        ? show(id, DEFAULT_RUNS, "Cancelled task " + id + "; it never runs again.")
                        : new ControlEvent.Failure("task " + id + " is already cancelled");
            case RUN_NOW ->
                scheduler
                        .runNow(id, OWNER)
                        .map(f -> show(id, DEFAULT_RUNS, "Task " + id + " runs now; its schedule is unchanged."))
                        .orElseGet(() -> new ControlEvent.Failure(
                                "task " + id + " is " + state + ": only an active task can run"));
        };
    }

    private ControlEvent create(ControlRequest.TasksCreate c) {
        Agent agent = agent(c.agent());
        ZoneId zone = TaskTools.zone(c.zone());
        Schedule schedule = Schedule.parse(c.kind(), c.schedule(), zone, Instant.now());
        Task.SessionMode mode =
                TaskTools.choice(Task.SessionMode.class, c.sessionMode(), Task.SessionMode.ISOLATED, "session");
        Task.CatchUp catchUp = TaskTools.choice(Task.CatchUp.class, c.catchUp(), Task.CatchUp.ONCE, "catch-up");
        Chat chat = destination(agent, c.chat());
        SessionId origin = mode == Task.SessionMode.ORIGIN
                ? store.ensureSession(agent.id(), chat.id(), "").id()
                : null;
        Task task = scheduler.create(
                new TaskScheduler.Spec(agent.id(), c.prompt(), schedule, zone, chat.id(), mode, origin, catchUp),
                OWNER);
        return show(task.id(), DEFAULT_RUNS, "Created task " + task.id() + "; first run " + task.nextRun() + ".");
    }

    /** The agent's terminal chat by default (wired as attaching wires it); another chat must be wired to it. */
    private Chat destination(Agent agent, String chat) {
        if (chat == null || chat.isBlank()) {
            Chat terminal = store.ensureChat(TerminalChannel.NAME, agent.name().value());
            store.wire(terminal.id(), agent.id());
            return terminal;
        }
        int colon = chat.indexOf(':');
        Chat found = (colon <= 0
                        ? Optional.<Chat>empty()
                        : store.findChat(chat.substring(0, colon), chat.substring(colon + 1)))
                .orElseThrow(() -> new IllegalArgumentException(
                        "no chat '" + chat + "' (channel:id); ./cordon chats list shows them"));
        boolean wired = store.wiring(found.id())
                .map(w -> w.agentId().equals(agent.id()))
                .orElse(false);
        if (!wired) {
            throw new IllegalArgumentException("chat '" + chat + "' is not wired to agent " + agent.name()
                    + ": a task's replies go only to a chat of its agent");
        }
        return found;
    }

    private Agent agent(String name) {
        AgentName parsed = new AgentName(name);
        return store.agentByName(parsed)
                .orElseThrow(() -> new IllegalArgumentException("there is no agent named '" + name + "'; agents: "
                        + store.agents().stream().map(a -> a.name().value()).toList()));
    }

    private static ControlEvent noSuchTask(TaskId id) {
        return new ControlEvent.Failure("there is no task " + id + " (./cordon tasks list shows them)");
    }

    static String describeState(Task t) {
        return t.state() == Task.State.ACTIVE && t.paused()
                ? "paused"
                : t.state().name().toLowerCase(Locale.ROOT);
    }

    ControlEvent.TaskRow row(Task t) {
        return new ControlEvent.TaskRow(
                t.id().value(),
                store.agent(t.agent()).map(a -> a.name().value()).orElse("?"),
                t.prompt(),
                t.schedule().describe(),
                t.zone().getId(),
                store.chat(t.destination())
                        .map(c -> c.channel() + ":" + c.platformChatId())
                        .orElse("?"),
                t.sessionMode().name().toLowerCase(Locale.ROOT),
                t.catchUp().name().toLowerCase(Locale.ROOT),
                t.paused(),
                t.state().name().toLowerCase(Locale.ROOT),
                t.nextRun() == null ? -1 : t.nextRun().toEpochMilli(),
                t.createdBy(),
                t.createdAt().toEpochMilli());
    }

    static ControlEvent.TaskRunRow row(TaskRun r) {
        return new ControlEvent.TaskRunRow(
                r.id(),
                r.due().toEpochMilli(),
                r.status().name().toLowerCase(Locale.ROOT),
                r.firedAt().toEpochMilli(),
                r.startedAt() == null ? -1 : r.startedAt().toEpochMilli(),
                r.duration() == null ? -1 : r.duration().toMillis(),
                r.error(),
                r.skipped(),
                r.manual());
    }
}
