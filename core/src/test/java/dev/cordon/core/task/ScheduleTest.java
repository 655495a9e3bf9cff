package dev.cordon.core.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Schedules against real zone rules. New York in 2030: clocks spring forward on 10 March at 02:00
 * EST (07:00Z) to 03:00 EDT, and fall back on 3 November at 02:00 EDT (06:00Z) to 01:00 EST.
 */
class ScheduleTest {
    static final ZoneId NEW_YORK = ZoneId.of("America/New_York");
    static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

    static Schedule cron(String expression) {
        return Schedule.parse("cron", expression, NEW_YORK, NOW);
    }

    static List<Instant> runs(Schedule s, String from, int n) {
        List<Instant> out = new ArrayList<>();
        Instant at = Instant.parse(from);
        for (int i = 0; i < n; i++) {
            at = s.next(at, NEW_YORK).orElseThrow();
            out.add(at);
        }
        return out;
    }

    @Test
    void aDailyCronFollowsTheWallClockAcrossDaylightSavingTime() {
        // 09:00 every day is 14:00Z in winter and 13:00Z in summer.
        assertThat(runs(cron("0 9 * * *"), "2030-03-09T00:00:00Z", 3))
                .containsExactly(
                        Instant.parse("2030-03-09T14:00:00Z"),
                        Instant.parse("2030-03-10T13:00:00Z"),
                        Instant.parse("2030-03-11T13:00:00Z"));
    }

    @Test
    void aTimeSkippedBySpringForwardRunsOnceAtTheInstantTheClocksJump() {
        assertThat(runs(cron("30 2 * * *"), "2030-03-09T07:30:00Z", 3))
                .containsExactly(
                        Instant.parse("2030-03-10T07:00:00Z"), // 03:00 EDT: 02:30 never happened
                        Instant.parse("2030-03-11T06:30:00Z"), // 02:30 EDT
                        Instant.parse("2030-03-12T06:30:00Z"));
    }

    @Test
    void severalTimesSkippedBySpringForwardRunOnceTogether() {
        assertThat(runs(cron("*/15 * * * *"), "2030-03-10T06:45:00Z", 3))
                .containsExactly(
                        Instant.parse("2030-03-10T07:00:00Z"), // 02:00..02:45 skipped: one run at 03:00 EDT
                        Instant.parse("2030-03-10T07:15:00Z"),
                        Instant.parse("2030-03-10T07:30:00Z"));
    }

    @Test
    void aTimeRepeatedByFallBackRunsOnceAtItsFirstOccurrence() {
        assertThat(runs(cron("30 1 * * *"), "2030-11-02T06:00:00Z", 3))
                .containsExactly(
                        Instant.parse("2030-11-03T05:30:00Z"), // 01:30 EDT, the first 01:30
                        Instant.parse("2030-11-04T06:30:00Z"), // 01:30 EST the next day
                        Instant.parse("2030-11-05T06:30:00Z"));
    }

    @Test
    void aRestartInsideTheRepeatedHourDoesNotRunItsTimeAgain() {
        // 06:10Z is 01:10 EST, the second 01:10; 01:30 already ran at 05:30Z.
        assertThat(cron("30 1 * * *").next(Instant.parse("2030-11-03T06:10:00Z"), NEW_YORK))
                .contains(Instant.parse("2030-11-04T06:30:00Z"));
    }

    @Test
    void anHourlyCronHasOneRunFewerOnAFallBackNight() {
        assertThat(runs(cron("0 * * * *"), "2030-11-03T04:30:00Z", 3))
                .containsExactly(
                        Instant.parse("2030-11-03T05:00:00Z"), // 01:00 EDT
                        Instant.parse("2030-11-03T07:00:00Z"), // 02:00 EST: 01:00 EST is not run again
                        Instant.parse("2030-11-03T08:00:00Z"));
    }

    @Test
    void anIntervalIsElapsedTimeAndIgnoresDaylightSavingTime() {
        Schedule every = Schedule.parse("every", "2030-03-10T05:00:00Z/1h", NEW_YORK, NOW);
        assertThat(runs(every, "2030-03-10T05:00:00Z", 3))
                .containsExactly(
                        Instant.parse("2030-03-10T06:00:00Z"),
                        Instant.parse("2030-03-10T07:00:00Z"),
                        Instant.parse("2030-03-10T08:00:00Z"));
        assertThat(every.next(Instant.parse("2030-03-10T04:00:00Z"), NEW_YORK))
                .contains(Instant.parse("2030-03-10T05:00:00Z"));
        assertThat(Schedule.parse("every", every.spec(), NEW_YORK, NOW)).isEqualTo(every);
        assertThat(every.describe()).isEqualTo("every 1h");
    }

    @Test
    void aScheduleIsDescribedForPeopleWithTheIntervalAsEveryTakesItAndNoStart() {
        Instant start = Instant.parse("2030-03-10T05:00:00Z");
        assertThat(new Schedule.Every(Duration.ofMinutes(30), start).describe()).isEqualTo("every 30m");
        assertThat(new Schedule.Every(Duration.ofMinutes(90), start).describe()).isEqualTo("every 90m");
        assertThat(new Schedule.Every(Duration.ofDays(1).plusHours(2), start).describe())
                .isEqualTo("every 26h");
        assertThat(new Schedule.Every(Duration.ofDays(2), start).describe()).isEqualTo("every 2d");
        assertThat(new Schedule.Every(Duration.ofSeconds(61), start).describe()).isEqualTo("every 61s");
        assertThat(new Schedule.Every(Duration.ofMillis(60_500), start).describe())
                .isEqualTo("every PT1M0.5S");
        for (Duration d : List.of(
                Duration.ofMinutes(90), Duration.ofHours(26), Duration.ofSeconds(61), Duration.ofMillis(60_500))) {
            Schedule.Every every = new Schedule.Every(d, start);
            assertThat(Schedule.parse("every", every.describe().substring("every ".length()), NEW_YORK, NOW))
                    .as("what the list shows is what --every takes")
                    .extracting(sc -> ((Schedule.Every) sc).interval())
                    .isEqualTo(d);
        }
        assertThat(new Schedule.At(start).describe()).isEqualTo("at 2030-03-10T05:00:00Z");
        assertThat(new Schedule.Cron("0 9 * * 1-5").describe()).isEqualTo("cron 0 9 * * 1-5");
    }

    @Test
    void anIntervalStartIsKeptToTheMillisecondLikeTheStoredNextRun() {
        Instant start = Instant.parse("2030-03-10T05:00:00.123456Z");
        Schedule every = new Schedule.Every(Duration.ofMinutes(1), start);
        Instant stored = Instant.parse("2030-03-10T05:00:00.123Z");
        assertThat(every.next(stored, NEW_YORK)).contains(stored.plusSeconds(60));
    }

    @Test
    void anIntervalWithoutAStartCountsFromNow() {
        assertThat(Schedule.parse("every", "30m", NEW_YORK, NOW).next(NOW, NEW_YORK))
                .contains(NOW.plus(Duration.ofMinutes(30)));
        assertThat(Schedule.parse("every", "PT2H", NEW_YORK, NOW).next(NOW, NEW_YORK))
                .contains(NOW.plus(Duration.ofHours(2)));
    }

    @Test
    void aOneOffRunsOnceAndALocalTimeIsReadInTheZone() {
        Schedule at = Schedule.parse("at", "2030-03-10T09:00", NEW_YORK, NOW);
        assertThat(at.next(NOW, NEW_YORK)).contains(Instant.parse("2030-03-10T13:00:00Z"));
        assertThat(at.next(Instant.parse("2030-03-10T13:00:00Z"), NEW_YORK)).isEmpty();
        assertThat(Schedule.parse("at", "2030-03-10T02:30", NEW_YORK, NOW).next(NOW, NEW_YORK))
                .contains(Instant.parse("2030-03-10T07:00:00Z"));
        assertThat(Schedule.parse("at", "2030-03-10T09:00:00+01:00", ZoneOffset.UTC, NOW)
                        .next(NOW, NEW_YORK))
                .contains(Instant.parse("2030-03-10T08:00:00Z"));
    }

    @Test
    void badSchedulesAreRefusedWithWhatIsWrong() {
        assertThatThrownBy(() -> cron("61 * * * *"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("schedule cron '61 * * * *'")
                .hasMessageContaining("five fields");
        assertThatThrownBy(() -> cron("0 9 * *")).hasMessageContaining("schedule cron '0 9 * *'");
        assertThatThrownBy(() -> Schedule.parse("every", "30s", NEW_YORK, NOW))
                .hasMessageContaining("shorter than the minimum, 1 minute");
        assertThatThrownBy(() -> Schedule.parse("every", "soon", NEW_YORK, NOW))
                .hasMessageContaining("'soon' is not an interval");
        assertThatThrownBy(() -> Schedule.parse("at", "tomorrow", NEW_YORK, NOW))
                .hasMessageContaining("schedule at: 'tomorrow' is not a date-time");
        assertThatThrownBy(() -> Schedule.parse("weekly", "x", NEW_YORK, NOW))
                .hasMessageContaining("'weekly' is not one of: at, every, cron");
    }
}
