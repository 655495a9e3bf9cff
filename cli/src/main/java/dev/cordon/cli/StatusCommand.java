package dev.cordon.cli;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlEvent.StatusReport;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "status",
        description = "Show whether the daemon runs, its model, sandbox backend, agents and queues.",
        mixinStandardHelpOptions = true)
final class StatusCommand implements Callable<Integer> {
    @ParentCommand
    CordonCommand root;

    @Override
    public Integer call() {
        Daemon daemon = root.daemon();
        Optional<StatusReport> status = daemon.status();
        PrintStream out = root.context().out();
        if (status.isEmpty()) {
            out.println("Cordon is not running (home: " + daemon.home() + ")");
            return Exit.NOT_RUNNING;
        }
        print(status.get(), out);
        return Exit.OK;
    }

    static void print(StatusReport s, PrintStream out) {
        out.printf("Cordon %s is running (pid %d, up %s)%n", s.version(), s.pid(), uptime(s.uptimeMillis()));
        row(out, "home", s.home());
        if (s.modelProblem() != null) {
            row(out, "model", s.modelProblem().strip().replace("\n", "\n" + " ".repeat(13)));
        } else {
            row(out, "model", s.model());
        }
        row(out, "sandbox", s.sandbox());
        row(out, "agents", s.agents() == null || s.agents().isEmpty() ? "none" : String.join(", ", s.agents()));
        row(out, "sandboxes", s.liveSandboxes() + " live");
        for (ControlEvent.LiveSandbox box : s.sandboxes()) {
            out.printf(
                    "  %-10s %s session %d (%s): memory %s (peak %s), %s, CPU %s%s%n",
                    "",
                    box.agent(),
                    box.session(),
                    box.sandboxId(),
                    mib(box.memoryBytes()),
                    mib(box.memoryPeakBytes()),
                    box.pids() < 0 ? "? processes" : box.pids() + " processes and threads",
                    box.cpuMillis() < 0
                            ? "?"
                            : String.format(java.util.Locale.ROOT, "%.1f s", box.cpuMillis() / 1000.0),
                    box.pidsLimitHits() > 0 ? ", " + box.pidsLimitHits() + " forks refused at its process limit" : "");
        }
        row(
                out,
                "queues",
                s.pendingMessages() + " session" + (s.pendingMessages() == 1 ? "" : "s") + " with messages waiting, "
                        + s.undeliveredReplies() + " repl" + (s.undeliveredReplies() == 1 ? "y" : "ies")
                        + " not yet delivered");
        row(out, "files", files(s));
        row(out, "dashboard", dashboard(s.dashboard()));
    }

    /** Where the dashboard is, or how to turn it on. */
    static String dashboard(String url) {
        return url == null
                ? "off (http: in cordon.yaml; docs/dashboard.md)"
                : url + " (a login link: ./cordon dashboard)";
    }

    /** "3 in the vault, 12 MiB; each kept 30 days after the last message that needs it". */
    static String files(ControlEvent.StatusReport s) {
        String held = s.files() < 0 ? "the vault cannot be read" : s.files() + " in the vault, " + mib(s.fileBytes());
        return held
                + (s.fileKeepDays() == 0
                        ? "; kept for ever (files.keep_days: 0)"
                        : "; each kept " + s.fileKeepDays() + " day" + (s.fileKeepDays() == 1 ? "" : "s")
                                + " after the last message that needs it");
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "?" : (bytes + (1 << 19)) / (1 << 20) + " MiB";
    }

    private static void row(PrintStream out, String label, String value) {
        out.printf("  %-10s %s%n", label, value == null ? "-" : value);
    }

    /** "45s", "3m 12s", "2h 5m", "3d 4h". */
    static String uptime(long millis) {
        Duration d = Duration.ofMillis(Math.max(0, millis));
        if (d.toDays() > 0) {
            return d.toDays() + "d " + d.toHoursPart() + "h";
        }
        if (d.toHours() > 0) {
            return d.toHours() + "h " + d.toMinutesPart() + "m";
        }
        if (d.toMinutes() > 0) {
            return d.toMinutes() + "m " + d.toSecondsPart() + "s";
        }
        return d.toSeconds() + "s";
    }
}
