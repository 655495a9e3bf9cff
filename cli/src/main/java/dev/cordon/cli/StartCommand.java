package dev.cordon.cli;

import dev.cordon.protocol.control.ControlEvent.StatusReport;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "start",
        description = {
            "Start the daemon unless it runs, and print its pid (for scripts).",
            "A missing model is reported on stderr but does not fail the command."
        },
        mixinStandardHelpOptions = true)
final class StartCommand implements Callable<Integer> {
    @ParentCommand
    CordonCommand root;

    @Override
    public Integer call() {
        StatusReport status = root.daemon().ensureRunning();
        if (status.modelProblem() != null) {
            root.context()
                    .err()
                    .println("Warning: no model is configured. "
                            + status.modelProblem().strip());
        }
        root.context().out().println(status.pid());
        return Exit.OK;
    }
}
