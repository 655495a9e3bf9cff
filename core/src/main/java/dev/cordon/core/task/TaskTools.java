package dev.cordon.core.task;

import dev.cordon.core.Domain.Agent;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.session.HostTools;
import dev.cordon.core.store.Store;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The agent's task tools, run on the host: {@code schedule_task}, {@code list_tasks}, {@code
 * cancel_task}. An agent sees and changes only its own tasks, and a task it schedules replies in the
 * chat it was asked from: it cannot aim a task at another chat or another agent. Arguments are
 * hostile input; every refusal says why and is audited as {@code task.deny}. Thread-safe.
 */
public final class TaskTools implements HostTools {
    public static final String SCHEDULE = "schedule_task";
    public static final String LIST = "list_tasks";
    public static final String CANCEL = "cancel_task";

    /** Live tasks one agent may hold: each run is a turn that costs money. */
    static final int MAX_ACTIVE = 50;

    static final int MAX_PROMPT = 4_000;

    private final Store store;
    private final TaskScheduler scheduler;
    private final AuditLog audit;
    private final Clock clock;
    private final Predicate<Agent> mayScheduleTasks;

    /**
     * @param mayScheduleTasks whether the agent's policy grants it the capability to schedule tasks
     *     (read at each call, so a policy edit applies to the next one); listing and cancelling its
     *     own tasks need no capability
     */
    public TaskTools(
            Store store, TaskScheduler scheduler, AuditLog audit, Clock clock, Predicate<Agent> mayScheduleTasks) {
        this.mayScheduleTasks = mayScheduleTasks;
        this.store = store;
        this.scheduler = scheduler;
        this.audit = audit;
        this.clock = clock;
    }

    @Override
    public Result call(Caller caller, String tool, Map<String, String> arguments) {
        try {
            return switch (tool) {
                case SCHEDULE -> schedule(caller, arguments);
                case LIST -> list(caller);
                case CANCEL -> cancel(caller, arguments);
                default -> new Result("this host offers no tool '" + tool + "'", true);
            };
        } catch (IllegalArgumentException e) {
            return new Result(tool + ": " + e.getMessage(), true);
        }
    }

    private Result schedule(Caller caller, Map<String, String> args) {
        if (!mayScheduleTasks.test(caller.agent())) {
            return deny(
                    caller,
                    SCHEDULE,
                    "capabilities.schedule_tasks",
                    "your policy does not grant you the"
                            + " capability to schedule tasks; the owner can grant it (capabilities: schedule_tasks: true in"
                            + " your policy.yaml) or create the task with ./cordon tasks create");
        }
        String prompt = args.getOrDefault("prompt", "");
        if (prompt.isBlank() || prompt.length() > MAX_PROMPT) {
            throw new IllegalArgumentException("prompt must be 1 to " + MAX_PROMPT + " characters");
        }
        List<String> whens = List.of("cron", "every", "at").stream()
                .filter(k -> args.get(k) != null && !args.get(k).isBlank())
                .toList();
        if (whens.size() != 1) {
            throw new IllegalArgumentException("give exactly one of cron, every or at (got " + whens + ")");
        }
        long active = store.tasks().tasks(caller.agent().id()).stream()
                .filter(t -> t.state() == Task.State.ACTIVE)
                .count();
        if (active >= MAX_ACTIVE) {
            return deny(
                    caller,
                    SCHEDULE,
                    "tasks.max_active",
                    "you already have " + active
                            + " active tasks, the most an agent may have; cancel one first (list_tasks shows them)");
        }
        ZoneId zone = zone(args.get("zone"));
        String kind = whens.getFirst();
        Schedule schedule = Schedule.parse(kind, args.get(kind), zone, clock.instant());
        Task.CatchUp catchUp = choice(Task.CatchUp.class, args.get("catch_up"), Task.CatchUp.ONCE, "catch_up");
        Task.SessionMode mode =
                choice(Task.SessionMode.class, args.get("session"), Task.SessionMode.ISOLATED, "session");
        Task task = scheduler.create(
                new TaskScheduler.Spec(
                        caller.agent().id(),
                        prompt,
                        schedule,
                        zone,
                        caller.session().chatId(),
                        mode,
                        mode == Task.SessionMode.ORIGIN ? caller.session().id() : null,
                        catchUp),
                Actor.agent(caller.agent().name()));
        return new Result(
                "Scheduled task #" + task.id().value() + " (" + schedule.kind() + " " + schedule.spec() + ", " + zone
                        + "); first run " + task.nextRun() + ". Its replies come to this chat.",
                false);
    }

    private Result list(Caller caller) {
        List<Task> tasks = store.tasks().tasks(caller.agent().id());
        if (tasks.isEmpty()) {
            return new Result("You have no scheduled tasks.", false);
        }
        StringBuilder b = new StringBuilder();
        for (Task t : tasks) {
            String state = t.state() == Task.State.ACTIVE && t.paused()
                    ? "paused"
                    : t.state().name().toLowerCase(Locale.ROOT);
            b.append('#')
                    .append(t.id().value())
                    .append(' ')
                    .append(state)
                    .append(" | ")
                    .append(t.schedule().kind())
                    .append(' ')
                    .append(t.schedule().spec())
                    .append(" (")
                    .append(t.zone())
                    .append(')')
                    .append(" | next ")
                    .append(t.nextRun() == null ? "-" : t.nextRun().toString())
                    .append(" | ")
                    .append(t.prompt().length() > 200 ? t.prompt().substring(0, 200) + "…" : t.prompt())
                    .append('\n');
        }
        return new Result(b.toString(), false);
    }

    private Result cancel(Caller caller, Map<String, String> args) {
        String raw = args.getOrDefault("id", "").strip();
        long id;
        try {
            id = Long.parseLong(raw.startsWith("#") ? raw.substring(1) : raw);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("id must be a task number such as 3 (list_tasks shows them)");
        }
        TaskId taskId = new TaskId(id);
        // Another agent's task and no task at all get the same answer: an agent learns nothing of others.
        Optional<Task> own = store.tasks()
                .task(taskId)
                .filter(t -> t.agent().equals(caller.agent().id()));
        if (own.isEmpty()) {
            return deny(caller, CANCEL, "tasks.own", "you have no task #" + id + " (list_tasks shows yours)");
        }
        return scheduler
                .cancel(taskId, Actor.agent(caller.agent().name()))
                .map(t -> new Result("Cancelled task #" + id + "; it never runs again.", false))
                .orElseGet(() -> new Result("task #" + id + " was already cancelled", true));
    }

    private Result deny(Caller caller, String tool, String rule, String why) {
        audit.append(AuditEvent.of(
                        clock.instant(), Actor.agent(caller.agent().name()), AuditActions.TASK_DENY, Decision.DENY)
                .withAgent(caller.agent().name())
                .withSession(caller.session().id())
                .withRule(rule)
                .withReason(why)
                .withDetails(Map.of("tool", tool)));
        return new Result(why, true);
    }

    /** A zone id, UTC when empty. @throws IllegalArgumentException naming the bad id */
    public static ZoneId zone(String zone) {
        if (zone == null || zone.isBlank()) {
            return ZoneOffset.UTC;
        }
        try {
            return ZoneId.of(zone.strip());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException(
                    "zone '" + zone + "' is not a time zone id such as Europe/Paris, America/New_York or UTC");
        }
    }

    /** One of an enum's values by name, any case; {@code fallback} when empty. @throws IllegalArgumentException listing the values */
    public static <E extends Enum<E>> E choice(Class<E> type, String text, E fallback, String what) {
        if (text == null || text.isBlank()) {
            return fallback;
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(text.strip())) {
                return e;
            }
        }
        throw new IllegalArgumentException(what + " '" + text + "' is not one of "
                + java.util.Arrays.stream(type.getEnumConstants())
                        .map(e -> e.name().toLowerCase(Locale.ROOT))
                        .toList());
    }
}
