package dev.cordon.core.task;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneRules;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * When a task runs: once at an instant, every fixed interval, or by a cron expression read on the
 * wall clock of the task's time zone. Immutable and thread-safe.
 *
 * <p>Daylight saving (cron only; an instant and an interval are elapsed time and never shift):
 *
 * <ul>
 *   <li>a wall-clock time the clocks skip (02:30 on a spring-forward night) runs once, at the instant
 *       the clocks jump (03:00 new time); several skipped times of one night run once together;
 *   <li>a wall-clock time the clocks repeat (01:30 on a fall-back night) runs once, at its first
 *       occurrence; the repeated hour is not run again, so an hourly or finer cron has fewer runs
 *       that night (use an interval for elapsed-time spacing).
 * </ul>
 */
public sealed interface Schedule {
    /** Shortest interval: a run is a whole agent turn. */
    Duration MIN_INTERVAL = Duration.ofMinutes(1);

    /**
     * The first instant strictly after {@code after} at which this schedule fires in {@code zone}, or
     * empty when it never fires again.
     */
    Optional<Instant> next(Instant after, ZoneId zone);

    /** The stored and displayed form, which {@link #parse} reads back. */
    String spec();

    /** {@code at}, {@code every} or {@code cron}. */
    String kind();

    /**
     * For people (task lists): the kind and the spec, an interval as {@code every 30m} or {@code every
     * 26h}, as {@code --every} takes it (its start shows as the next run), rather than the stored
     * {@code START/PT30M}.
     */
    default String describe() {
        return kind() + " " + spec();
    }

    /**
     * Reads a schedule as stored or typed: {@code kind} is {@code at} (an ISO instant such as {@code
     * 2030-01-02T09:00:00Z}, or a local date-time {@code 2030-01-02T09:00} read in {@code zone}),
     * {@code every} ({@code PT30M}, {@code 30m}, {@code 2h}, {@code 1d}; optionally {@code
     * START/INTERVAL} with an ISO start, else the first run is one interval after {@code now}) or {@code cron} (five
     * fields: minute hour day-of-month month day-of-week).
     *
     * @throws IllegalArgumentException naming the kind and what is wrong with the text
     */
    static Schedule parse(String kind, String text, ZoneId zone, Instant now) {
        Objects.requireNonNull(text, "schedule text");
        String t = text.strip();
        return switch (Objects.requireNonNull(kind, "schedule kind")) {
            case "at" -> new At(instant(t, zone, "at"));
            case "every" -> {
                int slash = t.indexOf('/');
                Duration interval = duration(slash < 0 ? t : t.substring(slash + 1));
                // Without a start, the first run is one interval from now, not at once.
                Instant start =
                        slash < 0 ? now.plus(interval) : instant(t.substring(0, slash), zone, "every (its start)");
                yield new Every(interval, start);
            }
            case "cron" -> new Cron(t);
            default ->
                throw new IllegalArgumentException("schedule kind '" + kind + "' is not one of: at, every, cron");
        };
    }

    /** Runs once, at {@code at} (to the millisecond, as the store keeps it). */
    record At(Instant at) implements Schedule {
        public At {
            at = Objects.requireNonNull(at, "at").truncatedTo(ChronoUnit.MILLIS);
        }

        @Override
        public Optional<Instant> next(Instant after, ZoneId zone) {
            return at.isAfter(after) ? Optional.of(at) : Optional.empty();
        }

        @Override
        public String spec() {
            return at.toString();
        }

        @Override
        public String kind() {
            return "at";
        }
    }

    /**
     * Runs at {@code start}, then every {@code interval} of elapsed time after it. Both are kept to
     * the millisecond, as the store keeps the next run: a finer start would make the stored next run
     * fall before it and count the first run twice.
     */
    record Every(Duration interval, Instant start) implements Schedule {
        public Every {
            interval = Objects.requireNonNull(interval, "interval").truncatedTo(ChronoUnit.MILLIS);
            start = Objects.requireNonNull(start, "start").truncatedTo(ChronoUnit.MILLIS);
            if (interval.compareTo(MIN_INTERVAL) < 0) {
                throw new IllegalArgumentException(
                        "schedule every: the interval " + interval + " is shorter than the minimum, 1 minute");
            }
        }

        @Override
        public Optional<Instant> next(Instant after, ZoneId zone) {
            if (after.isBefore(start)) {
                return Optional.of(start);
            }
            long step = interval.toMillis();
            long done = (after.toEpochMilli() - start.toEpochMilli()) / step + 1;
            return Optional.of(start.plusMillis(Math.multiplyExact(done, step)));
        }

        @Override
        public String spec() {
            return start + "/" + interval;
        }

        @Override
        public String describe() {
            // In the largest unit that holds it exactly, as --every takes it (parse reads it back).
            long seconds = interval.toSeconds();
            if (interval.toMillisPart() != 0) {
                return "every " + interval;
            }
            if (seconds % 86_400 == 0) {
                return "every " + seconds / 86_400 + "d";
            }
            if (seconds % 3_600 == 0) {
                return "every " + seconds / 3_600 + "h";
            }
            return seconds % 60 == 0 ? "every " + seconds / 60 + "m" : "every " + seconds + "s";
        }

        @Override
        public String kind() {
            return "every";
        }
    }

    /** Runs whenever the wall clock of the task's zone matches a five-field cron expression. */
    record Cron(String expression) implements Schedule {
        private static final CronParser PARSER =
                new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

        public Cron {
            Objects.requireNonNull(expression, "expression");
            execution(expression);
        }

        @Override
        public Optional<Instant> next(Instant after, ZoneId zone) {
            ExecutionTime execution = execution(expression);
            ZoneRules rules = zone.getRules();
            // cron-utils walks the wall clock in UTC, which has no DST; this method alone maps wall
            // times to instants, so the DST rules above are ours, not the library's.
            ZonedDateTime wall = LocalDateTime.ofInstant(after, zone).atZone(ZoneOffset.UTC);
            // A skipped or repeated wall time maps to an instant at or before 'after'; move on. Bounded:
            // a night repeats at most a few hours, and an expression with no date left ends at once.
            for (int i = 0; i < 10_000; i++) {
                Optional<ZonedDateTime> n = execution.nextExecution(wall);
                if (n.isEmpty()) {
                    return Optional.empty();
                }
                Instant at = instant(n.get().toLocalDateTime(), rules);
                if (at.isAfter(after)) {
                    return Optional.of(at);
                }
                wall = n.get();
            }
            return Optional.empty();
        }

        /** A skipped wall time is the transition's instant; a repeated one its first occurrence. */
        static Instant instant(LocalDateTime wall, ZoneRules rules) {
            List<ZoneOffset> offsets = rules.getValidOffsets(wall);
            if (offsets.isEmpty()) {
                return rules.getTransition(wall).getInstant();
            }
            return wall.toInstant(offsets.getFirst());
        }

        private static ExecutionTime execution(String expression) {
            try {
                return ExecutionTime.forCron(PARSER.parse(expression.strip()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "schedule cron '" + expression + "': " + e.getMessage()
                                + " (five fields: minute hour day-of-month month day-of-week)",
                        e);
            }
        }

        @Override
        public String spec() {
            return expression;
        }

        @Override
        public String kind() {
            return "cron";
        }
    }

    private static Instant instant(String text, ZoneId zone, String what) {
        try {
            return text.endsWith("Z") || text.matches(".*[+-]\\d\\d:\\d\\d$")
                    ? java.time.OffsetDateTime.parse(text).toInstant()
                    : Cron.instant(LocalDateTime.parse(text), zone.getRules());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("schedule " + what + ": '" + text
                    + "' is not a date-time such as 2030-01-02T09:00 or 2030-01-02T09:00:00Z");
        }
    }

    private static Duration duration(String text) {
        String t = text.strip();
        try {
            if (t.startsWith("P") || t.startsWith("p")) {
                return Duration.parse(t);
            }
            long n = Long.parseLong(t.substring(0, t.length() - 1));
            return switch (t.charAt(t.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                case 'd' -> Duration.ofDays(n);
                default -> throw new NumberFormatException();
            };
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    "schedule every: '" + text + "' is not an interval such as 30m, 2h, 1d or PT30M");
        }
    }
}
