package dev.cordon.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "chat",
        description = {
            "Chat with an agent in this terminal (the default command).",
            "Replies that arrived while you were away are shown first. Ctrl-D leaves; the daemon keeps"
                    + " running. Ctrl-C during a reply returns to the prompt; the reply appears when it is done.",
            "Without a terminal, reads one message per line from stdin and prints each reply."
        },
        mixinStandardHelpOptions = true)
final class ChatCommand implements Callable<Integer> {
    static final String DEFAULT_AGENT = "main";

    @ParentCommand
    CordonCommand root;

    @Option(
            names = {"-a", "--agent"},
            paramLabel = "NAME",
            defaultValue = DEFAULT_AGENT,
            description = "The agent to talk to (default: ${DEFAULT-VALUE}).")
    String agent;

    @Override
    public Integer call() {
        return new ChatSession(root.context(), root.daemon(), agent).run();
    }
}
