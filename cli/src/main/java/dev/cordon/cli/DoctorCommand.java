package dev.cordon.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/**
 * Runs the server's host check in a child JVM: the checks live in the sandbox module, which this
 * command must not depend on (DESIGN.md). {@code ./cordon doctor} skips this hop.
 */
@Command(
        name = "doctor",
        description = "Check that this host can run Cordon's sandboxes, and say how to fix what is missing.",
        mixinStandardHelpOptions = true)
final class DoctorCommand implements Callable<Integer> {
    /** For {@code --home}: the check reads that home's cordon.yaml. */
    @ParentCommand
    CordonCommand root;

    @Override
    public Integer call() throws IOException {
        Installation installation = Installation.detect();
        installation.requireServerBuilt();
        List<String> command = new ArrayList<>(List.of(
                installation.java().toString(),
                "-Xshare:auto",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                installation.serverClasspath(),
                "dev.cordon.server.Main",
                "doctor"));
        if (root != null && root.home != null) {
            command.addAll(List.of("--home", root.home.toString()));
        }
        Process process = new ProcessBuilder(command).inheritIO().start();
        try {
            return process.waitFor();
        } catch (InterruptedException e) {
            process.destroy();
            Thread.currentThread().interrupt();
            return Exit.SOFTWARE;
        }
    }
}
