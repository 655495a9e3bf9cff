package dev.cordon.store;

import static dev.cordon.store.JdbcStore.instant;
import static java.util.Objects.requireNonNull;

import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.task.Schedule;
import dev.cordon.core.task.Task;
import dev.cordon.core.task.TaskId;
import dev.cordon.core.task.TaskRun;
import dev.cordon.core.task.Tasks;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;

/**
 * {@link Tasks} in the store's database: tables {@code tasks} and {@code task_runs} (migration V7).
 * A firing writes its history rows, its messages (into the inbox, deduplicated like any channel's
 * by the platform message id {@code task-run:<run id>}) and the next run in one transaction, so a
 * crash fires a run wholly or not at all. Thread-safe.
 */
final class JdbcTasks implements Tasks {
    private static final String COLUMNS = "id, agent_id, prompt, schedule_kind, schedule_spec, zone, chat_id,"
            + " session_mode, session_id, catch_up, paused, state, next_run_at, created_by, created_at";

    /** The scheduler's timer: the smallest next run of the live tasks (index tasks_due). */
    static final String EARLIEST_DUE =
            "SELECT min(next_run_at) AS due FROM tasks WHERE state = 'ACTIVE' AND paused = 0 AND next_run_at IS NOT NULL";

    /** The tasks the timer fires (index tasks_due). */
    static final String DUE = "SELECT " + COLUMNS + " FROM tasks"
            + " WHERE state = 'ACTIVE' AND paused = 0 AND next_run_at <= :now ORDER BY next_run_at, id";

    /** A run's status, start and duration come from its message and the reply to it. */
    private static final String RUN_COLUMNS = """
            r.id, r.task_id, r.due_at, r.fired_at, r.inbound_id, r.skipped, r.manual,
            i.state AS inbound_state, i.claimed_at, i.done_at,
            (SELECT o.failed FROM outbound o WHERE o.in_reply_to = r.inbound_id ORDER BY o.id DESC LIMIT 1) AS failed,
            (SELECT o.text FROM outbound o WHERE o.in_reply_to = r.inbound_id ORDER BY o.id DESC LIMIT 1) AS reply
            FROM task_runs r LEFT JOIN inbound i ON i.id = r.inbound_id""";

    private static final RowMapper<Task> TASK = (rs, ctx) -> {
        long sessionId = rs.getLong("session_id");
        SessionId session = rs.wasNull() ? null : new SessionId(sessionId);
        Instant created = instant(rs, "created_at");
        ZoneId zone = ZoneId.of(rs.getString("zone"));
        return new Task(
                new TaskId(rs.getLong("id")),
                new AgentId(rs.getLong("agent_id")),
                rs.getString("prompt"),
                Schedule.parse(rs.getString("schedule_kind"), rs.getString("schedule_spec"), zone, created),
                zone,
                new ChatId(rs.getLong("chat_id")),
                Task.SessionMode.valueOf(rs.getString("session_mode")),
                session,
                Task.CatchUp.valueOf(rs.getString("catch_up")),
                rs.getInt("paused") == 1,
                Task.State.valueOf(rs.getString("state")),
                instant(rs, "next_run_at"),
                rs.getString("created_by"),
                created);
    };

    private static final RowMapper<TaskRun> RUN = (rs, ctx) -> {
        long inbound = rs.getLong("inbound_id");
        boolean hasInbound = !rs.wasNull();
        Instant claimed = instant(rs, "claimed_at");
        Instant done = instant(rs, "done_at");
        String state = rs.getString("inbound_state");
        int failedFlag = rs.getInt("failed");
        boolean failed = !rs.wasNull() && failedFlag == 1;
        TaskRun.Status status;
        if (!hasInbound) {
            status = TaskRun.Status.SKIPPED;
        } else if ("DONE".equals(state)) {
            status = failed ? TaskRun.Status.FAILED : TaskRun.Status.OK;
        } else if ("CLAIMED".equals(state)) {
            status = TaskRun.Status.RUNNING;
        } else {
            status = TaskRun.Status.QUEUED;
        }
        return new TaskRun(
                rs.getLong("id"),
                new TaskId(rs.getLong("task_id")),
                instant(rs, "due_at"),
                status,
                instant(rs, "fired_at"),
                claimed,
                claimed != null && done != null ? Duration.between(claimed, done) : null,
                failed ? rs.getString("reply") : null,
                hasInbound ? new InboundId(inbound) : null,
                rs.getInt("skipped"),
                rs.getInt("manual") == 1);
    };

    private final Database db;
    private final Clock clock;

    JdbcTasks(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    @Override
    public Task create(NewTask t) {
        requireNonNull(t, "task");
        requireNonNull(t.schedule(), "schedule");
        requireNonNull(t.zone(), "zone");
        requireNonNull(t.sessionMode(), "sessionMode");
        requireNonNull(t.catchUp(), "catchUp");
        if (t.sessionMode() == Task.SessionMode.ORIGIN && t.session() == null) {
            throw new IllegalArgumentException("an ORIGIN task needs the session it was created from");
        }
        return db.withWriteTransaction("createTask", h -> {
            long id = h.createQuery("""
                            INSERT INTO tasks (agent_id, prompt, schedule_kind, schedule_spec, zone, chat_id,
                                session_mode, session_id, catch_up, paused, state, next_run_at, created_by, created_at)
                            VALUES (:agent, :prompt, :kind, :spec, :zone, :chat, :mode, :session, :catchUp, 0,
                                :state, :next, :by, :now)
                            RETURNING id""")
                    .bind("agent", t.agent().value())
                    .bind("prompt", t.prompt())
                    .bind("kind", t.schedule().kind())
                    .bind("spec", t.schedule().spec())
                    .bind("zone", t.zone().getId())
                    .bind("chat", t.destination().value())
                    .bind("mode", t.sessionMode().name())
                    .bind("session", t.session() == null ? null : t.session().value())
                    .bind("catchUp", t.catchUp().name())
                    .bind("state", t.nextRun() == null ? "DONE" : "ACTIVE")
                    .bind("next", millis(t.nextRun()))
                    .bind("by", t.createdBy())
                    .bind("now", clock.millis())
                    .mapTo(Long.class)
                    .one();
            return find(h, new TaskId(id)).orElseThrow();
        });
    }

    @Override
    public Optional<Task> task(TaskId id) {
        requireNonNull(id, "id");
        return db.withReadTransaction("task", h -> find(h, id));
    }

    @Override
    public List<Task> tasks() {
        return db.withReadTransaction(
                "tasks",
                h -> h.createQuery("SELECT " + COLUMNS + " FROM tasks ORDER BY id")
                        .map(TASK)
                        .list());
    }

    @Override
    public List<Task> tasks(AgentId agent) {
        requireNonNull(agent, "agent");
        return db.withReadTransaction(
                "agentTasks",
                h -> h.createQuery("SELECT " + COLUMNS + " FROM tasks WHERE agent_id = :agent ORDER BY id")
                        .bind("agent", agent.value())
                        .map(TASK)
                        .list());
    }

    @Override
    public Optional<Instant> earliestDue() {
        return db.withReadTransaction(
                "earliestDue",
                h -> h.createQuery(EARLIEST_DUE)
                        .map((rs, ctx) -> instant(rs, "due"))
                        .findOne()
                        .flatMap(Optional::ofNullable));
    }

    @Override
    public List<Task> due(Instant now) {
        requireNonNull(now, "now");
        return db.withReadTransaction(
                "dueTasks",
                h -> h.createQuery(DUE)
                        .bind("now", now.toEpochMilli())
                        .map(TASK)
                        .list());
    }

    @Override
    public Optional<Task> setPaused(TaskId id, boolean paused, Instant nextRun) {
        requireNonNull(id, "id");
        return db.withWriteTransaction("pauseTask", h -> {
            int changed = h.createUpdate("""
                            UPDATE tasks SET paused = :paused, next_run_at = :next,
                                state = :state
                            WHERE id = :id AND state = 'ACTIVE' AND paused = :was""")
                    .bind("id", id.value())
                    .bind("paused", paused ? 1 : 0)
                    .bind("was", paused ? 0 : 1)
                    .bind("next", millis(nextRun))
                    .bind("state", nextRun == null ? "DONE" : "ACTIVE")
                    .execute();
            return changed == 0 ? Optional.<Task>empty() : find(h, id);
        });
    }

    @Override
    public Optional<Task> cancel(TaskId id) {
        requireNonNull(id, "id");
        return db.withWriteTransaction("cancelTask", h -> {
            int changed = h.createUpdate("UPDATE tasks SET state = 'CANCELLED', next_run_at = NULL"
                            + " WHERE id = :id AND state <> 'CANCELLED'")
                    .bind("id", id.value())
                    .execute();
            return changed == 0 ? Optional.<Task>empty() : find(h, id);
        });
    }

    @Override
    public Optional<Fired> fire(Firing f) {
        requireNonNull(f, "firing");
        requireNonNull(f.runs(), "runs");
        requireNonNull(f.session(), "session");
        return db.withWriteTransaction("fireTask", h -> {
            long now = clock.millis();
            // Several replicas' schedulers find the same tasks due. On PostgreSQL the first to lock a
            // task's row fires it; the others skip it at once, on to their next due task, instead of
            // queueing behind the lock only to find it fired: the firing is spread over the replicas.
            // Exactly once is the compare-and-set below. A manual run waits its turn instead.
            if (!f.manual()
                    && h.createQuery("SELECT id FROM tasks WHERE id = :id"
                                    + db.dialect().skipLocked())
                            .bind("id", f.task().value())
                            .mapTo(Long.class)
                            .findOne()
                            .isEmpty()) {
                return Optional.<Fired>empty();
            }
            int claimed = h.createUpdate("""
                            UPDATE tasks SET next_run_at = :next, session_id = :session,
                                state = :state
                            WHERE id = :id AND state = 'ACTIVE' AND coalesce(next_run_at, -1) = :expected""")
                    .bind("id", f.task().value())
                    .bind("next", millis(f.nextRun()))
                    .bind("state", f.nextRun() == null ? "DONE" : "ACTIVE")
                    .bind("session", f.session().value())
                    .bind(
                            "expected",
                            f.expectedNext() == null ? -1 : f.expectedNext().toEpochMilli())
                    .execute();
            if (claimed == 0) {
                return Optional.<Fired>empty();
            }
            List<TaskRun> runs = new ArrayList<>();
            List<InboundId> messages = new ArrayList<>();
            if (f.skipped() > 0) {
                long skippedRow = insertRun(h, f, requireNonNull(f.firstSkipped(), "firstSkipped"), now, f.skipped());
                runs.add(findRun(h, skippedRow));
            }
            for (Instant due : f.runs()) {
                long run = insertRun(h, f, due, now, 0);
                InboundId message = insertMessage(h, f, run, now);
                h.createUpdate("UPDATE task_runs SET inbound_id = :inbound WHERE id = :id")
                        .bind("inbound", message.value())
                        .bind("id", run)
                        .execute();
                messages.add(message);
                runs.add(findRun(h, run));
            }
            return Optional.of(new Fired(find(h, f.task()).orElseThrow(), runs, messages));
        });
    }

    private static long insertRun(Handle h, Firing f, Instant due, long now, int skipped) {
        return h.createQuery("""
                        INSERT INTO task_runs (task_id, due_at, fired_at, skipped, manual)
                        VALUES (:task, :due, :now, :skipped, :manual)
                        RETURNING id""")
                .bind("task", f.task().value())
                .bind("due", due.toEpochMilli())
                .bind("now", now)
                .bind("skipped", skipped)
                .bind("manual", f.manual() ? 1 : 0)
                .mapTo(Long.class)
                .one();
    }

    /** The run's message, as a channel's would be stored: in the session's chat, from the scheduler. */
    private static InboundId insertMessage(Handle h, Firing f, long run, long now) {
        return new InboundId(h.createQuery("""
                        INSERT INTO inbound (session_id, chat_id, channel, platform_message_id, sender_id, text,
                                             state, received_at)
                        SELECT s.id, s.chat_id, c.channel, :message, :sender, :text, 'PENDING', :now
                        FROM sessions s JOIN chats c ON c.id = s.chat_id
                        WHERE s.id = :session
                        RETURNING id""")
                .bind("session", f.session().value())
                .bind("message", "task-run:" + run)
                .bind(
                        "sender",
                        dev.cordon.core.Domain.Inbound.SCHEDULER + "task-"
                                + f.task().value())
                .bind("text", f.prompt())
                .bind("now", now)
                .mapTo(Long.class)
                .findOne()
                .orElseThrow(() -> new IllegalArgumentException("fire task "
                        + f.task().value() + ": no session " + f.session().value())));
    }

    @Override
    public List<TaskRun> runs(TaskId task, int max) {
        requireNonNull(task, "task");
        return db.withReadTransaction(
                "taskRuns",
                h -> h.createQuery("SELECT " + RUN_COLUMNS + " WHERE r.task_id = :task ORDER BY r.id DESC LIMIT :max")
                        .bind("task", task.value())
                        .bind("max", max)
                        .map(RUN)
                        .list());
    }

    private static Optional<Task> find(Handle h, TaskId id) {
        return h.createQuery("SELECT " + COLUMNS + " FROM tasks WHERE id = :id")
                .bind("id", id.value())
                .map(TASK)
                .findOne();
    }

    private static TaskRun findRun(Handle h, long id) {
        return h.createQuery("SELECT " + RUN_COLUMNS + " WHERE r.id = :id")
                .bind("id", id)
                .map(RUN)
                .one();
    }

    private static Long millis(Instant at) {
        return at == null ? null : at.toEpochMilli();
    }
}
