package dev.cordon.runner.tools;

import dev.cordon.runner.model.ToolSpec;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;

/**
 * {@code bash}: runs {@code bash -c COMMAND} in the workspace with the runner's environment, stdin
 * from /dev/null, and stdout and stderr merged into one pipe (so they interleave in the order they
 * were written).
 *
 * <p>Each command runs under {@code setsid --wait}. A child started by the JVM is not a process
 * group leader, so util-linux {@code setsid} calls {@code setsid(2)} and execs bash directly: bash's
 * pid is then the id of a new session and process group that holds everything the command starts.
 * On timeout or interrupt {@link ProcessGroups#killAll} SIGKILLs that group (and, as a fallback,
 * every descendant), so a background job that keeps the pipe open cannot hold the call hostage.
 * ({@code --wait} only matters if setsid ever had to fork: the exit status is then still bash's.)
 *
 * <p>When bash exits normally, background jobs it left running are not killed — starting a server
 * with {@code &} is legitimate — but if they still hold the output pipe the call returns after
 * {@link #BACKGROUND_GRACE} and a virtual thread keeps draining (and discarding) their output so
 * they never block on a full pipe. They die with the sandbox.
 *
 * <p>Thread-safe: each call has its own process and reader thread.
 */
final class BashTool implements Tool {
    static final String NAME = "bash";

    /** How long to wait for output after bash exits before leaving it to background jobs. */
    static final Duration BACKGROUND_GRACE = Duration.ofMillis(250);

    /** How long to wait for the killed group to close the pipe. */
    private static final Duration KILL_GRACE = Duration.ofSeconds(2);

    private static final String BASH = firstExisting("bash", "/usr/bin/bash", "/bin/bash");
    private static final String SETSID = firstExisting(null, "/usr/bin/setsid", "/bin/setsid");

    private final Path workspace;
    private final long defaultTimeoutMs;
    private final int outputLimit;
    private final InputSchema schema;
    private final ToolSpec spec;

    BashTool(ToolConfig config) {
        this.workspace = config.workspace();
        this.defaultTimeoutMs = config.defaultBashTimeout().toMillis();
        this.outputLimit = config.outputLimitChars();
        long maxTimeoutMs = config.maxBashTimeout().toMillis();
        this.schema = InputSchema.builder(NAME)
                .requiredText("command", "The bash command line to run.")
                .optionalInteger(
                        "timeout_ms",
                        1,
                        maxTimeoutMs,
                        "Timeout in milliseconds (default " + defaultTimeoutMs + ", at most " + maxTimeoutMs + ").")
                .optionalText("description", "A few words on what the command does, for the log.")
                .build();
        this.spec = new ToolSpec(
                NAME,
                "Runs a command with `bash -c` in the workspace directory and returns its stdout and stderr "
                        + "combined. stdin is empty, so interactive commands fail. Times out after "
                        + human(defaultTimeoutMs) + " by default; set timeout_ms for up to " + human(maxTimeoutMs)
                        + ". On timeout the command and every process it started are killed. Output over "
                        + Text.count(outputLimit) + " characters is cut in the middle, keeping the start and "
                        + "the end. A non-zero exit code is reported as an error. Processes started in the "
                        + "background with `&` keep running after the call, but output they write after the "
                        + "command exits is not shown, so redirect it to a file.",
                schema.json());
    }

    @Override
    public ToolSpec spec() {
        return spec;
    }

    @Override
    public ToolOutput run(JsonNode input) {
        try {
            InputSchema.Args args = schema.parse(input);
            return execute(args.string("command"), args.integer("timeout_ms", defaultTimeoutMs));
        } catch (InvalidInputException e) {
            return e.toOutput();
        }
    }

    private ToolOutput execute(String command, long timeoutMs) {
        List<String> argv = new ArrayList<>();
        if (SETSID != null) {
            argv.addAll(List.of(SETSID, "--wait"));
        }
        argv.addAll(List.of(BASH, "-c", command));
        Process process;
        try {
            process = new ProcessBuilder(argv)
                    .directory(workspace.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            return ToolOutput.error("Could not start bash in " + workspace + ": " + e.getMessage());
        }
        OutputCollector output = new OutputCollector(process.getInputStream(), outputLimit);
        Thread reader = Thread.ofVirtual().name("bash-output-" + process.pid()).start(output);

        List<String> notes = new ArrayList<>();
        boolean failed;
        try {
            if (process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
                reader.join(BACKGROUND_GRACE);
                int exit = process.exitValue();
                failed = exit != 0;
                if (failed) {
                    notes.add("[exit code " + exit + "]");
                }
                if (reader.isAlive()) {
                    notes.add("[the command exited but a background process still holds its output open; "
                            + "output written after this point is not shown]");
                }
            } else {
                ProcessGroups.killAll(process, BASH);
                failed = true;
                notes.add("[timed out after " + timeoutMs + " ms; the command and every process it started "
                        + "were killed]");
                awaitAfterKill(process, reader, notes);
            }
        } catch (InterruptedException e) {
            ProcessGroups.killAll(process, BASH);
            Thread.currentThread().interrupt();
            failed = true;
            notes.add("[interrupted; the command and every process it started were killed]");
        }

        StringBuilder content = new StringBuilder(output.text());
        for (String note : notes) {
            if (!content.isEmpty() && content.charAt(content.length() - 1) != '\n') {
                content.append('\n');
            }
            content.append(note);
        }
        if (content.isEmpty()) {
            content.append("(no output)");
        }
        return new ToolOutput(content.toString(), failed);
    }

    /** Gives the killed group a moment to die and close the pipe; never waits longer than that. */
    private static void awaitAfterKill(Process process, Thread reader, List<String> notes) {
        try {
            process.waitFor(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            reader.join(KILL_GRACE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (reader.isAlive()) {
            notes.add("[a process that left the command's process group still holds its output open]");
        }
    }

    private static String human(long ms) {
        if (ms % 60_000 == 0) {
            return Text.count(ms / 60_000, "minute");
        }
        if (ms % 1_000 == 0) {
            return Text.count(ms / 1_000, "second");
        }
        return ms + " ms";
    }

    private static String firstExisting(String fallback, String... candidates) {
        for (String candidate : candidates) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        return fallback;
    }
}
