package dev.cordon.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "stop",
        description = {
            "Stop the daemon and wait (up to 30 s) until it is gone.",
            "Stored messages and undelivered replies are kept; the next command starts it again."
        },
        mixinStandardHelpOptions = true)
final class StopCommand implements Callable<Integer> {
    @ParentCommand
    CordonCommand root;

    @Override
    public Integer call() {
        Daemon daemon = root.daemon();
        if (daemon.stop()) {
            root.context().out().println("stopped");
        } else {
            root.context().out().println("Cordon is not running (home: " + daemon.home() + ")");
        }
        return Exit.OK;
    }
}
