package dev.cordon.cli;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "tasks",
        description =
                "Scheduled tasks: a prompt an agent gets on a schedule, its reply sent to a chat" + " (docs/tasks.md).",
        mixinStandardHelpOptions = true)
final class TasksCommand {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss xxx", Locale.ROOT);

    @ParentCommand
    CordonCommand root;

    @Command(name = "list", description = "Every task, or one agent's.", mixinStandardHelpOptions = true)
    int list(@Option(names = "--agent", paramLabel = "NAME", description = "only this agent's tasks") String agent) {
        ControlEvent.TaskListing listing =
                AccessClient.ask(root, new ControlRequest.TasksList(agent), ControlEvent.TaskListing.class);
        AccessClient.table(
                root.context().out(),
                List.of("ID", "AGENT", "SCHEDULE", "ZONE", "NEXT RUN", "STATE", "TO", "PROMPT"),
                listing.tasks().stream()
                        .map(t -> List.of(
                                Long.toString(t.id()),
                                t.agent(),
                                t.schedule(),
                                t.zone(),
                                time(t.nextRunMillis(), t.zone()),
                                state(t),
                                t.destination(),
                                clip(t.prompt(), 40)))
                        .toList(),
                "No tasks: ./cordon tasks create AGENT --cron '0 9 * * 1-5' 'Write the daily report.'");
        return Exit.OK;
    }

    @Command(name = "show", description = "A task and its newest runs.", mixinStandardHelpOptions = true)
    int show(
            @Parameters(index = "0", paramLabel = "ID", description = "the task, as tasks list shows") long id,
            @Option(
                            names = "--runs",
                            paramLabel = "N",
                            defaultValue = "20",
                            description = "how many runs to show (default: ${DEFAULT-VALUE})")
                    int runs) {
        print(AccessClient.ask(root, new ControlRequest.TasksShow(id, runs), ControlEvent.TaskDetail.class));
        return Exit.OK;
    }

    @Command(name = "pause", description = "Stop running a task until it is resumed.", mixinStandardHelpOptions = true)
    int pause(@Parameters(index = "0", paramLabel = "ID") long id) {
        return change(id, ControlRequest.TaskChange.PAUSE);
    }

    @Command(
            name = "resume",
            description = "Run a paused task again from now on; what fell due while paused does not run.",
            mixinStandardHelpOptions = true)
    int resume(@Parameters(index = "0", paramLabel = "ID") long id) {
        return change(id, ControlRequest.TaskChange.RESUME);
    }

    @Command(
            name = "run-now",
            description = "Run a task once now (paused or not); its schedule does not change.",
            mixinStandardHelpOptions = true)
    int runNow(@Parameters(index = "0", paramLabel = "ID") long id) {
        return change(id, ControlRequest.TaskChange.RUN_NOW);
    }

    @Command(name = "cancel", description = "Stop a task for good; its history stays.", mixinStandardHelpOptions = true)
    int cancel(@Parameters(index = "0", paramLabel = "ID") long id) {
        return change(id, ControlRequest.TaskChange.CANCEL);
    }

    /** Exactly one way to say when. */
    static final class When {
        @Option(names = "--cron", paramLabel = "EXPR", description = "minute hour day-of-month month day-of-week")
        String cron;

        @Option(names = "--every", paramLabel = "INTERVAL", description = "30m, 2h, 1d, PT45M; at least 1 minute")
        String every;

        @Option(names = "--at", paramLabel = "TIME", description = "once: 2030-01-02T09:00 (in --zone) or an instant")
        String at;
    }

    @Command(
            name = "create",
            description = "Give an agent a prompt on a schedule; its replies go to its terminal chat unless --chat.",
            mixinStandardHelpOptions = true)
    int create(
            @Parameters(index = "0", paramLabel = "AGENT") String agent,
            @Parameters(index = "1", paramLabel = "PROMPT", description = "what the agent is told at each run")
                    String prompt,
            @ArgGroup(multiplicity = "1") When when,
            @Option(names = "--zone", paramLabel = "ZONE", description = "time zone of --cron and --at (default: UTC)")
                    String zone,
            @Option(names = "--chat", paramLabel = "CHANNEL:ID", description = "where replies go (a chat of the agent)")
                    String chat,
            @Option(
                            names = "--session",
                            paramLabel = "MODE",
                            description = "isolated (the task's own session, default) or origin (the chat's session)")
                    String session,
            @Option(
                            names = "--catch-up",
                            paramLabel = "POLICY",
                            description = "runs missed while the daemon was down: once (default), skip or all")
                    String catchUp) {
        String kind = when.cron != null ? "cron" : when.every != null ? "every" : "at";
        String text = when.cron != null ? when.cron : when.every != null ? when.every : when.at;
        print(AccessClient.ask(
                root,
                new ControlRequest.TasksCreate(agent, kind, text, zone, prompt, chat, session, catchUp),
                ControlEvent.TaskDetail.class));
        return Exit.OK;
    }

    private int change(long id, ControlRequest.TaskChange change) {
        print(AccessClient.ask(root, new ControlRequest.TasksChange(id, change), ControlEvent.TaskDetail.class));
        return Exit.OK;
    }

    private void print(ControlEvent.TaskDetail detail) {
        PrintStream out = root.context().out();
        ControlEvent.TaskRow t = detail.task();
        if (detail.message() != null) {
            out.println(detail.message());
        }
        out.printf(Locale.ROOT, "task %d of %s: %s%n", t.id(), t.agent(), state(t));
        out.printf(Locale.ROOT, "  schedule   %s (%s)%n", t.schedule(), t.zone());
        out.printf(Locale.ROOT, "  next run   %s%n", time(t.nextRunMillis(), t.zone()));
        out.printf(
                Locale.ROOT,
                "  replies to %s, session %s, catch-up %s%n",
                t.destination(),
                t.sessionMode(),
                t.catchUp());
        out.printf(Locale.ROOT, "  created by %s at %s%n", t.createdBy(), time(t.createdAtMillis(), t.zone()));
        out.printf(Locale.ROOT, "  prompt     %s%n", clip(t.prompt(), 400));
        out.println();
        AccessClient.table(
                out,
                List.of("RUN", "DUE", "STATUS", "STARTED", "TOOK", "NOTE"),
                detail.runs().stream()
                        .map(r -> List.of(
                                Long.toString(r.id()),
                                time(r.dueMillis(), t.zone()),
                                r.status(),
                                time(r.startedAtMillis(), t.zone()),
                                r.durationMillis() < 0 ? "-" : seconds(r.durationMillis()),
                                note(r)))
                        .toList(),
                "No runs yet.");
    }

    private static String note(ControlEvent.TaskRunRow r) {
        if (r.skipped() > 0) {
            return r.skipped() + " missed run(s) skipped, the oldest due at the time shown";
        }
        if (r.error() != null) {
            return clip(r.error(), 80);
        }
        return r.manual() ? "run-now" : "";
    }

    private static String state(ControlEvent.TaskRow t) {
        return t.paused() && t.state().equals("active") ? "paused" : t.state();
    }

    private static String time(long millis, String zone) {
        if (millis < 0) {
            return "-";
        }
        return TIME.format(Instant.ofEpochMilli(millis).atZone(ZoneId.of(zone)));
    }

    private static String seconds(long millis) {
        return String.format(Locale.ROOT, "%.1f s", Duration.ofMillis(millis).toMillis() / 1000.0);
    }

    /** One line, control characters made visible: a prompt may hold anything its author typed. */
    private static String clip(String text, int max) {
        StringBuilder b = new StringBuilder();
        text.codePoints().forEach(c -> {
            if (c == '\n') {
                b.append("\\n");
            } else if (Character.isISOControl(c)) {
                b.append(String.format(Locale.ROOT, "\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.length() <= max ? b.toString() : b.substring(0, max - 1) + "…";
    }
}
