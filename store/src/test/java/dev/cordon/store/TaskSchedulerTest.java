package dev.cordon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditKeys;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.store.Store;
import dev.cordon.core.task.Schedule;
import dev.cordon.core.task.Task;
import dev.cordon.core.task.TaskScheduler;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler on a real SQLite store and a real audit log, with a fake clock and a timer that runs
 * only when the test moves time to the instant the scheduler armed it for. Paris in 2030: clocks
 * spring forward on 31 March at 02:00 CET (01:00Z) to 03:00, and fall back on 27 October at 03:00
 * CEST (01:00Z) to 02:00, so 02:30 does not exist on the first night and happens twice on the second.
 */
class TaskSchedulerTest {
    static final ZoneId PARIS = ZoneId.of("Europe/Paris");
    static final ZoneId UTC = ZoneId.of("UTC");
    static final Actor OWNER = Actor.user("terminal:owner");

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(Instant.parse("2030-03-29T12:00:00Z"));
    final ManualScheduler timer = new ManualScheduler();
    final List<SessionId> woken = new CopyOnWriteArrayList<>();
    Store store;
    AuditLog audit;
    TaskScheduler scheduler;
    Agent ada;
    Chat chat;

    @BeforeEach
    void open() {
        store = Stores.sqlite(dir.resolve("cordon.db"), clock);
        audit = AuditLogs.open(
                store.audit(), AuditKeys.loadOrCreate(dir.resolve("audit-key")), AuditLogs.Settings.DEFAULTS, clock);
        ada = store.ensureAgent(new AgentName("ada"));
        chat = store.ensureChat("terminal", "ada");
        scheduler = newScheduler();
        scheduler.start();
    }

    TaskScheduler newScheduler() {
        return new TaskScheduler(store, audit, clock, timer, woken::add);
    }

    @AfterEach
    void close() {
        scheduler.close();
        audit.close();
        store.close();
    }

    Task create(String kind, String schedule, ZoneId zone, Task.CatchUp catchUp) {
        return scheduler.create(
                new TaskScheduler.Spec(
                        ada.id(),
                        "write the report",
                        Schedule.parse(kind, schedule, zone, clock.instant()),
                        zone,
                        chat.id(),
                        Task.SessionMode.ISOLATED,
                        null,
                        catchUp),
                OWNER);
    }

    /** Moves the clock to the instant the timer waits for and lets it fire; returns that instant. */
    Instant fireNext() {
        Instant at = scheduler.armedFor().orElseThrow();
        clock.set(at);
        timer.runDue(at);
        return at;
    }

    List<AuditEntry> audited(String action) {
        return store.audit().read(0, 10_000).stream()
                .filter(e -> e.event().action().equals(action))
                .toList();
    }

    @Test
    void aDailyCronInADaylightSavingZoneFiresAtTheRightInstantsOnBothChangeNights() {
        Task spring = create("cron", "30 2 * * *", PARIS, Task.CatchUp.ONCE);
        List<Instant> fired = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            fired.add(fireNext());
        }
        assertThat(fired)
                .containsExactly(
                        Instant.parse("2030-03-30T01:30:00Z"), // 02:30 CET
                        Instant.parse("2030-03-31T01:00:00Z"), // no 02:30 that night: at the jump, 03:00 CEST
                        Instant.parse("2030-04-01T00:30:00Z")); // 02:30 CEST
        assertThat(scheduler.cancel(spring.id(), OWNER)).isPresent();

        clock.set(Instant.parse("2030-10-25T12:00:00Z"));
        create("cron", "30 2 * * *", PARIS, Task.CatchUp.ONCE);
        fired.clear();
        for (int i = 0; i < 3; i++) {
            fired.add(fireNext());
        }
        assertThat(fired)
                .containsExactly(
                        Instant.parse("2030-10-26T00:30:00Z"), // 02:30 CEST
                        Instant.parse("2030-10-27T00:30:00Z"), // the first 02:30 only, not the second (01:30Z)
                        Instant.parse("2030-10-28T01:30:00Z")); // 02:30 CET

        // Each firing put one message in the task's own session, woke it, and was audited on time.
        List<AuditEntry> runs = audited(AuditActions.TASK_RUN);
        assertThat(runs).hasSize(6);
        assertThat(runs).allSatisfy(e -> assertThat(e.event().details()).containsEntry("late_ms", 0L));
        assertThat(woken).hasSize(6);
        assertThat(store.sessionsWithPending()).hasSize(2);
    }

    @Test
    void runsMissedWhileTheDaemonWasDownFollowTheCatchUpPolicyAtStart() {
        clock.set(Instant.parse("2030-01-01T00:30:00Z"));
        Task once = create("cron", "0 * * * *", UTC, Task.CatchUp.ONCE);
        Task skip = create("cron", "0 * * * *", UTC, Task.CatchUp.SKIP);
        Task all = create("every", "2030-01-01T01:00:00Z/1h", UTC, Task.CatchUp.ALL);
        scheduler.close(); // the daemon stops before 01:00 and starts again at 05:30

        clock.set(Instant.parse("2030-01-01T05:30:00Z"));
        scheduler = newScheduler();
        scheduler.start();

        assertThat(statuses(once)).containsExactly("QUEUED 05:00", "SKIPPED 01:00 x4");
        assertThat(statuses(skip)).containsExactly("SKIPPED 01:00 x5");
        assertThat(statuses(all))
                .containsExactly("QUEUED 05:00", "QUEUED 04:00", "QUEUED 03:00", "QUEUED 02:00", "QUEUED 01:00");
        for (Task t : List.of(once, skip, all)) {
            assertThat(store.tasks().task(t.id()).orElseThrow().nextRun())
                    .isEqualTo(Instant.parse("2030-01-01T06:00:00Z"));
        }
        assertThat(scheduler.armedFor()).contains(Instant.parse("2030-01-01T06:00:00Z"));
        assertThat(audited(AuditActions.TASK_SKIP)).hasSize(2);
        assertThat(audited(AuditActions.TASK_RUN)).hasSize(6);
    }

    List<String> statuses(Task t) {
        return store.tasks().runs(t.id(), 20).stream()
                .map(r -> r.status() + " " + r.due().toString().substring(11, 16)
                        + (r.skipped() > 0 ? " x" + r.skipped() : ""))
                .toList();
    }

    @Test
    void aPausedTaskDisarmsTheTimerAndResumesFromNowWithoutCatchingUp() {
        clock.set(Instant.parse("2030-01-01T00:30:00Z"));
        Task t = create("every", "2030-01-01T01:00:00Z/1h", UTC, Task.CatchUp.ALL);
        assertThat(scheduler.armedFor()).contains(Instant.parse("2030-01-01T01:00:00Z"));

        assertThat(scheduler.pause(t.id(), OWNER))
                .hasValueSatisfying(p -> assertThat(p.paused()).isTrue());
        assertThat(scheduler.pause(t.id(), OWNER)).as("already paused").isEmpty();
        assertThat(scheduler.armedFor()).isEmpty();
        clock.set(Instant.parse("2030-01-01T03:10:00Z"));
        timer.runDue(clock.instant());
        assertThat(store.tasks().runs(t.id(), 10)).isEmpty();

        Task resumed = scheduler.resume(t.id(), OWNER).orElseThrow();
        assertThat(resumed.nextRun()).isEqualTo(Instant.parse("2030-01-01T04:00:00Z"));
        assertThat(fireNext()).isEqualTo(Instant.parse("2030-01-01T04:00:00Z"));
        assertThat(store.tasks().runs(t.id(), 10)).hasSize(1);

        assertThat(scheduler.cancel(t.id(), OWNER)).isPresent();
        assertThat(scheduler.armedFor()).isEmpty();
        assertThat(scheduler.resume(t.id(), OWNER)).isEmpty();
        assertThat(scheduler.runNow(t.id(), OWNER))
                .as("a cancelled task never runs")
                .isEmpty();
        assertThat(audited(AuditActions.TASK_PAUSE)).hasSize(1);
        assertThat(audited(AuditActions.TASK_RESUME)).hasSize(1);
        assertThat(audited(AuditActions.TASK_CANCEL)).hasSize(1);
    }

    @Test
    void runNowFiresAPausedTaskOnceWithoutChangingItsSchedule() {
        Task t = create("cron", "0 9 * * *", PARIS, Task.CatchUp.ONCE);
        assertThat(scheduler.pause(t.id(), OWNER)).isPresent();

        var fired = scheduler.runNow(t.id(), OWNER).orElseThrow();

        assertThat(fired.task().nextRun()).isEqualTo(t.nextRun());
        assertThat(fired.runs()).singleElement().satisfies(r -> {
            assertThat(r.manual()).isTrue();
            assertThat(r.due()).isEqualTo(clock.instant());
        });
        Session own = store.ensureSession(ada.id(), chat.id(), t.threadKey());
        assertThat(woken).containsExactly(own.id());
        assertThat(audited(AuditActions.TASK_RUN))
                .singleElement()
                .satisfies(e -> assertThat(e.event().actor()).isEqualTo(OWNER));
    }

    @Test
    void aOneOffRunsOnceAndIsDone() {
        Task t = create("at", "2030-03-29T14:00", PARIS, Task.CatchUp.ONCE);
        assertThat(fireNext()).isEqualTo(Instant.parse("2030-03-29T13:00:00Z"));
        assertThat(store.tasks().task(t.id()).orElseThrow().state()).isEqualTo(Task.State.DONE);
        assertThat(scheduler.armedFor()).isEmpty();
    }

    @Test
    void badTasksAreRefusedWithWhatIsWrong() {
        assertThatThrownBy(() -> create("at", "2030-03-29T11:00:00Z", UTC, Task.CatchUp.ONCE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("never runs after now");
        Agent bob = store.ensureAgent(new AgentName("bob"));
        Session bobs = store.ensureSession(bob.id(), chat.id(), "");
        assertThatThrownBy(() -> scheduler.create(
                        new TaskScheduler.Spec(
                                ada.id(),
                                "p",
                                Schedule.parse("every", "1h", UTC, clock.instant()),
                                UTC,
                                chat.id(),
                                Task.SessionMode.ORIGIN,
                                bobs.id(),
                                Task.CatchUp.ONCE),
                        OWNER))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a session of agent ada");
        assertThat(store.tasks().tasks()).isEmpty();
        assertThat(audited(AuditActions.TASK_CREATE)).isEmpty();
    }
}
