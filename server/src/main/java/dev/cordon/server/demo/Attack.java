package dev.cordon.server.demo;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * One scripted attack: a bash command the fake model asks the agent to run, and how to read its
 * output.
 *
 * <p>Conventions every command follows, so the judges stay simple: a line starting with {@code
 * ESCAPED} is printed only when the attack got what it tried; a line starting with {@code SKIPPED}
 * when a program it needs is missing. Anything else is matched against the denials the judge knows.
 *
 * @param round which turn it runs in; destructive attacks run in later turns of their own
 * @param id the tool call id, unique in the demo
 * @param title what the attacker wants, in a few words
 * @param tried the command, shortened for the table
 * @param command the bash command line sent as the tool call
 * @param timeout the tool call's timeout
 * @param judge reads the output
 * @param ifSandboxKilled the verdict's reason when the sandbox itself was killed before the result
 *     came back (the memory bomb may take the runner with it), or null if that is not a stop
 */
record Attack(
        int round,
        String id,
        String title,
        String tried,
        String command,
        Duration timeout,
        Judge judge,
        String ifSandboxKilled) {
    Attack {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(tried, "tried");
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(judge, "judge");
    }

    /** Reads an attack's output. */
    @FunctionalInterface
    interface Judge {
        Finding judge(String output);
    }

    /** A verdict and the output line that shows it. */
    record Finding(Verdict verdict, String result) {}

    /** A denial the output may show: the text to look for and what it means here. */
    record Denial(String text, String reason) {}

    static Denial denial(String text, String reason) {
        return new Denial(text, reason);
    }

    /**
     * A judge that looks, in order, for an {@code ESCAPED} line, a {@code SKIPPED} line, then each
     * denial; the first denial found wins. Output that shows none of them is {@link Verdict.Unclear}.
     */
    static Judge denials(Denial... denials) {
        List<Denial> list = List.of(denials);
        return output -> {
            Finding marked = marked(output);
            if (marked != null) {
                return marked;
            }
            for (Denial d : list) {
                String line = lineWith(output, d.text());
                if (line != null) {
                    return new Finding(new Verdict.Stopped(d.reason()), line);
                }
            }
            return unclear(output);
        };
    }

    /** The {@code ESCAPED} or {@code SKIPPED} finding of this output, or null if it has neither. */
    static Finding marked(String output) {
        String escaped = lineStarting(output, "ESCAPED");
        if (escaped != null) {
            return new Finding(new Verdict.Escaped(escaped), escaped);
        }
        String skipped = lineStarting(output, "SKIPPED");
        if (skipped != null) {
            return new Finding(
                    new Verdict.Skipped(skipped.substring("SKIPPED".length()).replaceFirst("^[: ]+", "")), skipped);
        }
        return null;
    }

    static Finding unclear(String output) {
        return new Finding(new Verdict.Unclear("no known denial in the output"), firstLine(output));
    }

    /** The last line holding {@code text}, stripped, or null. */
    static String lineWith(String output, String text) {
        String found = null;
        for (String line : output.split("\n", -1)) {
            if (line.contains(text)) {
                found = line.strip();
            }
        }
        return found;
    }

    static String lineStarting(String output, String prefix) {
        for (String line : output.split("\n", -1)) {
            if (line.strip().startsWith(prefix)) {
                return line.strip();
            }
        }
        return null;
    }

    static String firstLine(String output) {
        for (String line : output.split("\n", -1)) {
            if (!line.isBlank()) {
                return line.strip();
            }
        }
        return "(no output)";
    }
}
