package dev.cordon.core.task;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The catch-up policies: an hourly task whose daemon was down from 00:30 to 10:00:30. */
class DueTest {
    static final ZoneId UTC = ZoneId.of("UTC");
    static final Instant FIRST = Instant.parse("2030-01-01T01:00:00Z");
    static final SessionId SESSION = new SessionId(7);

    static Task hourly(Task.CatchUp catchUp, Instant next) {
        return task(Schedule.parse("cron", "0 * * * *", UTC, FIRST), catchUp, next);
    }

    static Task task(Schedule schedule, Task.CatchUp catchUp, Instant next) {
        return new Task(
                new TaskId(1),
                new AgentId(1),
                "report",
                schedule,
                UTC,
                new ChatId(1),
                Task.SessionMode.ISOLATED,
                null,
                catchUp,
                false,
                Task.State.ACTIVE,
                next,
                "terminal:owner",
                FIRST);
    }

    @Test
    void onceRunsOneRunForEverythingMissedAndCountsTheRestAsSkipped() {
        Tasks.Firing f = Due.firing(hourly(Task.CatchUp.ONCE, FIRST), at("10:00:30"), SESSION);
        assertThat(f.runs()).containsExactly(at("10:00:00"));
        assertThat(f.skipped()).isEqualTo(9);
        assertThat(f.firstSkipped()).isEqualTo(FIRST);
        assertThat(f.nextRun()).isEqualTo(at("11:00:00"));
        assertThat(f.expectedNext()).isEqualTo(FIRST);
    }

    @Test
    void skipRunsOnlyARunThatIsOnTime() {
        Tasks.Firing late = Due.firing(hourly(Task.CatchUp.SKIP, FIRST), at("10:30:00"), SESSION);
        assertThat(late.runs()).isEmpty();
        assertThat(late.skipped()).isEqualTo(10);
        assertThat(late.nextRun()).isEqualTo(at("11:00:00"));

        Tasks.Firing onTime = Due.firing(hourly(Task.CatchUp.SKIP, FIRST), at("10:00:30"), SESSION);
        assertThat(onTime.runs()).containsExactly(at("10:00:00"));
        assertThat(onTime.skipped()).isEqualTo(9);
    }

    @Test
    void allRunsEachMissedRunOldestFirst() {
        Tasks.Firing f = Due.firing(hourly(Task.CatchUp.ALL, FIRST), at("03:59:00"), SESSION);
        assertThat(f.runs()).containsExactly(at("01:00:00"), at("02:00:00"), at("03:00:00"));
        assertThat(f.skipped()).isZero();
    }

    @Test
    void allRunsAtMostAHundredAndCountsTheOlderOnesAsSkipped() {
        Instant now = FIRST.plus(Duration.ofHours(150));
        Tasks.Firing f = Due.firing(hourly(Task.CatchUp.ALL, FIRST), now, SESSION);
        assertThat(f.runs()).hasSize(Task.CatchUp.MAX_RUNS).last().isEqualTo(now);
        assertThat(f.runs().getFirst()).isEqualTo(now.minus(Duration.ofHours(99)));
        assertThat(f.skipped()).isEqualTo(51);
    }

    @Test
    void aRunOnTimeIsJustARun() {
        Tasks.Firing f = Due.firing(hourly(Task.CatchUp.SKIP, FIRST), FIRST.plusMillis(3), SESSION);
        assertThat(f.runs()).containsExactly(FIRST);
        assertThat(f.skipped()).isZero();
        assertThat(f.nextRun()).isEqualTo(at("02:00:00"));
    }

    @Test
    void aOneOffHasNoNextRun() {
        Task once = task(new Schedule.At(FIRST), Task.CatchUp.ONCE, FIRST);
        Tasks.Firing f = Due.firing(once, at("05:00:00"), SESSION);
        assertThat(f.runs()).isEqualTo(List.of(FIRST));
        assertThat(f.nextRun()).isNull();
    }

    @Test
    void aYearOfMissedMinutesIsCountedUpToTheCapAndTheTaskJumpsToAfterNow() {
        Task everyMinute = task(new Schedule.Every(Duration.ofMinutes(1), FIRST), Task.CatchUp.ONCE, FIRST);
        Instant now = FIRST.plus(Duration.ofDays(365)).plusSeconds(30);
        Tasks.Firing f = Due.firing(everyMinute, now, SESSION);
        assertThat(f.skipped()).isEqualTo(Due.MAX_COUNTED - 1);
        assertThat(f.nextRun()).isEqualTo(FIRST.plus(Duration.ofDays(365)).plusSeconds(60));
    }

    static Instant at(String time) {
        return Instant.parse("2030-01-01T" + time + "Z");
    }
}
