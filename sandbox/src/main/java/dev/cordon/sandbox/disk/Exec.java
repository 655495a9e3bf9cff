package dev.cordon.sandbox.disk;

import dev.cordon.core.sandbox.SandboxException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Runs the host programs a quota needs (mkfs.ext4, mount, cp, ...), as root, by absolute path and
 * with an empty environment: nothing from the daemon's environment (PATH, LD_PRELOAD, locale) can
 * change what runs or how its output reads.
 */
final class Exec {
    private Exec() {}

    /** What a program did. */
    record Result(List<String> argv, int exitCode, String stdout, String stderr) {
        boolean ok() {
            return exitCode == 0;
        }

        /** The program's complaint, for an error message: stderr, else stdout, first lines. */
        String why() {
            String text = stderr.isBlank() ? stdout : stderr;
            String joined = text.strip().lines().limit(6).collect(Collectors.joining(" / "));
            if (joined.isEmpty()) {
                return "exit " + exitCode + ", no message";
            }
            return "exit " + exitCode + ": " + (joined.length() > 600 ? joined.substring(0, 600) + "…" : joined);
        }

        String command() {
            return String.join(" ", argv);
        }
    }

    /**
     * Runs {@code argv} (first element an absolute path) in {@code /} with stdin from /dev/null.
     *
     * @throws SandboxException if it cannot be started, does not finish within {@code timeout}
     *     (it is then killed), or the thread is interrupted (the interrupt flag is kept)
     */
    static Result run(Duration timeout, List<String> argv) {
        ProcessBuilder builder = new ProcessBuilder(argv)
                .directory(new File("/"))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().clear();
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new SandboxException("cannot run " + argv.getFirst() + ": " + e.getMessage(), e);
        }
        try (var readers = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> stdout = readers.submit(() -> drain(process.getInputStream()));
            Future<String> stderr = readers.submit(() -> drain(process.getErrorStream()));
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new SandboxException(String.join(" ", argv) + " did not finish within " + timeout.toSeconds()
                        + " s and was killed; check the host's disk and kernel log (dmesg)");
            }
            return new Result(
                    argv, process.exitValue(), stdout.get(10, TimeUnit.SECONDS), stderr.get(10, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new SandboxException("interrupted while running " + String.join(" ", argv), e);
        } catch (ExecutionException | TimeoutException e) {
            process.destroyForcibly();
            throw new SandboxException("cannot read the output of " + argv.getFirst() + ": " + e, e);
        }
    }

    private static String drain(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
