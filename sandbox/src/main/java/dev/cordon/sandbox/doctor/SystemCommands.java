package dev.cordon.sandbox.doctor;

import dev.cordon.sandbox.doctor.HostDoctor.CommandResult;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Runs real programs found on {@code PATH}, with a timeout. */
final class SystemCommands implements HostDoctor.Commands {
    private static final long TIMEOUT_SECONDS = 15;

    @Override
    public CommandResult run(List<String> argv) {
        Process process;
        try {
            // "/" as the working directory: when the check drops to uid 65534, the caller's
            // directory (often /root) is not accessible to it, and bwrap would complain about that.
            process = new ProcessBuilder(argv)
                    .directory(new File("/"))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
        } catch (IOException e) {
            return new CommandResult(false, -1, "", String.valueOf(e.getMessage()));
        }
        try (var readers = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> stdout = readers.submit(() -> drain(process.getInputStream()));
            Future<String> stderr = readers.submit(() -> drain(process.getErrorStream()));
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return new CommandResult(
                        true, -1, "", String.join(" ", argv) + " did not finish within " + TIMEOUT_SECONDS + " s");
            }
            return new CommandResult(
                    true,
                    process.exitValue(),
                    stdout.get(TIMEOUT_SECONDS, TimeUnit.SECONDS),
                    stderr.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            return new CommandResult(true, -1, "", "interrupted");
        } catch (ExecutionException | TimeoutException e) {
            process.destroyForcibly();
            return new CommandResult(true, -1, "", "could not read the output of " + argv.getFirst() + ": " + e);
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
