package dev.cordon.sandbox.doctor;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Checks whether this host can run Cordon's sandboxes, and says how to fix what it cannot.
 *
 * <p>Behind {@code ./cordon doctor}. Every check reads the kernel's own view ({@code /proc},
 * {@code /sys}) or runs the real tool (a throw-away bubblewrap sandbox), so a green report means
 * the default backend will start, not merely that a package is installed.
 *
 * <p>Thread-safe and stateless. {@link #run()} blocks for as long as the probes take (normally
 * well under a second; a hung {@code bwrap} is killed after 15 seconds).
 */
public final class HostDoctor {

    private HostDoctor() {}

    /**
     * The outcome of one check.
     *
     * @param name what was checked, e.g. {@code "bubblewrap"}
     * @param detail what was found, one line
     * @param fix what to do about it, one line; empty when {@code status} is {@link Status#OK}
     */
    public record Check(String name, Status status, String detail, String fix) {
        public Check {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(detail, "detail");
            Objects.requireNonNull(fix, "fix");
        }
    }

    /** How bad a check's outcome is. */
    public enum Status {
        /** Works. */
        OK,
        /** Sandboxes still run, but with less protection, or an optional backend is unavailable. */
        WARN,
        /** The default (bubblewrap) sandbox cannot run until this is fixed. */
        MISSING
    }

    /** Runs a command and returns what it did. Implementations must not throw for a missing program. */
    @FunctionalInterface
    public interface Commands {
        CommandResult run(List<String> argv);
    }

    /**
     * What a command did.
     *
     * @param started false when the program could not be started at all (not installed); {@code
     *     stderr} then says why
     * @param exitCode the exit status, or -1 when it did not start or was killed after a timeout
     */
    public record CommandResult(boolean started, int exitCode, String stdout, String stderr) {
        public boolean succeeded() {
            return started && exitCode == 0;
        }
    }

    /**
     * Everything the checks look at, so tests can point them at a fake host.
     *
     * @param root where {@code proc/}, {@code sys/} and {@code dev/} are found ({@code /} on a real host)
     * @param java the version of the JVM that will run Cordon
     * @param javaHome where that JVM lives, for the report
     * @param commands how {@code bwrap} and {@code setpriv} are run
     */
    public record Probes(Path root, Runtime.Version java, String javaHome, Commands commands) {
        public Probes {
            Objects.requireNonNull(root, "root");
            Objects.requireNonNull(java, "java");
            Objects.requireNonNull(javaHome, "javaHome");
            Objects.requireNonNull(commands, "commands");
        }

        /** This host, this JVM, programs from {@code PATH}. */
        public static Probes system() {
            return new Probes(Path.of("/"), Runtime.version(), System.getProperty("java.home"), new SystemCommands());
        }
    }

    /** Runs every check on this host. Never throws: a probe that fails is reported as a check. */
    public static List<Check> run() {
        return run(Probes.system());
    }

    /** Runs every check against {@code probes}. Never throws for a missing or unreadable file. */
    public static List<Check> run(Probes probes) {
        return new Checks(probes).all();
    }

    /**
     * The report as text: one line per check, a {@code fix:} line under each that is not OK, and a
     * verdict. Ends with a newline.
     */
    public static String render(List<Check> checks) {
        int width = checks.stream().mapToInt(c -> c.name().length()).max().orElse(0);
        StringBuilder out = new StringBuilder("Cordon host check\n");
        for (Check check : checks) {
            // A detail of several lines (every mistake in a file) keeps the column of the first.
            String detail = check.detail().replace("\n", "\n" + " ".repeat(2 + 7 + 2 + width + 2));
            out.append(String.format("  %-7s  %-" + width + "s  %s%n", check.status(), check.name(), detail));
            if (check.status() != Status.OK && !check.fix().isEmpty()) {
                out.append(String.format("  %-7s  %-" + width + "s  fix: %s%n", "", "", check.fix()));
            }
        }
        long missing = checks.stream().filter(c -> c.status() == Status.MISSING).count();
        long warnings = checks.stream().filter(c -> c.status() == Status.WARN).count();
        if (missing > 0) {
            out.append(String.format(
                    "Not ready: %d missing%s. Apply the fixes above, then run ./cordon doctor again.%n",
                    missing, warnings > 0 ? ", " + plural(warnings, "warning") : ""));
        } else if (warnings > 0) {
            out.append(String.format("Ready: sandboxes can run (%s; see above).%n", plural(warnings, "warning")));
        } else {
            out.append("Ready: sandboxes can run.\n");
        }
        return out.toString();
    }

    private static String plural(long count, String noun) {
        return count + " " + noun + (count == 1 ? "" : "s");
    }
}
