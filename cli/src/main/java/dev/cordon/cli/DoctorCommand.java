package dev.cordon.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * Runs the server's host check in a child JVM: the checks live in the sandbox module, which this
 * command must not depend on (DESIGN.md). {@code ./cordon doctor} skips this hop.
 */
@Command(
        name = "doctor",
        description = "Check that this host can run Cordon's sandboxes, and say how to fix what is missing.",
        mixinStandardHelpOptions = true)
final class DoctorCommand implements Callable<Integer> {

    @Override
    public Integer call() throws IOException {
        Installation installation = Installation.detect();
        installation.requireServerBuilt();
        Process process = new ProcessBuilder(
                        installation.java().toString(),
                        "-Xshare:auto",
                        "-XX:TieredStopAtLevel=1",
                        "-cp",
                        installation.serverClasspath(),
                        "dev.cordon.server.Main",
                        "doctor")
                .inheritIO()
                .start();
        try {
            return process.waitFor();
        } catch (InterruptedException e) {
            process.destroy();
            Thread.currentThread().interrupt();
            return Exit.SOFTWARE;
        }
    }
}
