package dev.cordon.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditKeys;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.store.Store;
import dev.cordon.core.task.Schedule;
import dev.cordon.core.task.Task;
import dev.cordon.core.task.TaskScheduler;
import java.nio.file.Path;
import java.security.KeyPair;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas' schedulers on one real PostgreSQL, each with its own store, audit log and timer:
 * every due task fires exactly once, and a task one replica is firing is skipped by the other, which
 * fires the rest instead (docs/tasks.md, "Several replicas").
 */
class PostgresTaskReplicasTest {
    static final ZoneId UTC = ZoneId.of("UTC");
    static final Actor OWNER = Actor.user("terminal:owner");

    @TempDir
    Path dir;

    final PostgresTestDatabase db = new PostgresTestDatabase();
    final MutableClock clock = new MutableClock(Instant.parse("2030-03-29T12:00:00Z"));
    final List<Replica> replicas = new ArrayList<>();
    Agent ada;
    Chat chat;

    /** One daemon's share: its store, its audit log (one key for all, as the replicas share it), its timer. */
    final class Replica implements AutoCloseable {
        final Store store;
        final AuditLog audit;
        final ManualScheduler timer = new ManualScheduler();
        final List<SessionId> woken = new CopyOnWriteArrayList<>();
        final TaskScheduler scheduler;

        Replica(String name, KeyPair key) {
            store = db.open(clock, name);
            audit = AuditLogs.open(store.audit(), key, AuditLogs.Settings.DEFAULTS, clock);
            scheduler = new TaskScheduler(store, audit, clock, timer, woken::add);
            scheduler.start();
        }

        void fireDue() {
            timer.runDue(clock.instant());
        }

        @Override
        public void close() {
            scheduler.close();
            audit.close();
            store.close();
        }
    }

    @BeforeEach
    void open() {
        KeyPair key = AuditKeys.loadOrCreate(dir.resolve("audit-key"));
        replicas.add(new Replica("a", key));
        replicas.add(new Replica("b", key));
        ada = a().store.ensureAgent(new AgentName("ada"));
        chat = a().store.ensureChat("terminal", "ada");
    }

    Replica a() {
        return replicas.get(0);
    }

    Replica b() {
        return replicas.get(1);
    }

    @AfterEach
    void close() {
        replicas.forEach(Replica::close);
        db.close();
    }

    List<Task> createDue(int n, Instant at) {
        List<Task> made = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            made.add(a().scheduler
                    .create(
                            new TaskScheduler.Spec(
                                    ada.id(),
                                    "report " + i,
                                    Schedule.parse("at", at.toString(), UTC, clock.instant()),
                                    UTC,
                                    chat.id(),
                                    Task.SessionMode.ISOLATED,
                                    null,
                                    Task.CatchUp.ONCE),
                            OWNER));
        }
        return made;
    }

    long count(String sql) throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void everyDueTaskFiresExactlyOnceWhenTwoReplicasFireAtOnce() throws Exception {
        Instant due = clock.instant().plus(Duration.ofMinutes(5));
        createDue(40, due);
        // B learns of the tasks as a replica does: from the store, at its next arming.
        b().scheduler.start();
        clock.set(due);

        CountDownLatch go = new CountDownLatch(1);
        List<Thread> firing = new ArrayList<>();
        for (Replica r : replicas) {
            firing.add(Thread.ofVirtual().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                r.fireDue();
            }));
        }
        go.countDown();
        for (Thread t : firing) {
            t.join();
        }
        // What was skipped while the other replica fired it is looked at again a moment later.
        clock.set(due.plus(Duration.ofSeconds(2)));
        replicas.forEach(Replica::fireDue);

        assertThat(count("SELECT count(*) FROM task_runs")).isEqualTo(40);
        assertThat(count("SELECT count(DISTINCT task_id) FROM task_runs")).isEqualTo(40);
        assertThat(count("SELECT count(*) FROM inbound"))
                .as("one message per run")
                .isEqualTo(40);
        assertThat(count("SELECT count(*) FROM tasks WHERE state = 'DONE'")).isEqualTo(40);
        assertThat(count("SELECT count(*) FROM audit WHERE action = 'task.run'"))
                .isEqualTo(40);
        assertThat(a().woken.size() + b().woken.size()).isEqualTo(40);
        System.out.printf(
                "fired by a: %d, by b: %d%n", a().woken.size(), b().woken.size());
    }

    @Test
    void aTaskAnotherReplicaIsFiringIsSkippedAndTheOthersFireHere() throws Exception {
        Instant due = clock.instant().plus(Duration.ofMinutes(5));
        List<Task> tasks = createDue(3, due);
        b().scheduler.start();
        clock.set(due);

        try (Connection other = db.connect()) {
            // Replica A is in the middle of firing the first task: its transaction holds the row.
            other.setAutoCommit(false);
            try (Statement s = other.createStatement()) {
                s.execute("SELECT id FROM tasks WHERE id = "
                        + tasks.getFirst().id().value() + " FOR UPDATE");
            }

            b().fireDue();

            assertThat(count("SELECT count(*) FROM task_runs WHERE task_id = "
                            + tasks.getFirst().id().value()))
                    .as("skipped, not waited for")
                    .isZero();
            assertThat(count("SELECT count(*) FROM task_runs")).isEqualTo(2);
            assertThat(b().scheduler.armedFor()).contains(due.plus(Duration.ofSeconds(1)));
            other.rollback(); // A's firing failed: the task is still due
        }

        clock.set(due.plus(Duration.ofSeconds(1)));
        b().fireDue();
        assertThat(count("SELECT count(*) FROM task_runs")).isEqualTo(3);
        assertThat(count("SELECT count(*) FROM task_runs WHERE task_id = "
                        + tasks.getFirst().id().value()))
                .isEqualTo(1);
    }
}
