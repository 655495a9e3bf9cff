package dev.cordon.cli;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "pair",
        description = {
            "Print a one-time code that wires a new chat to AGENT. Admin-only.",
            "Send the code as a message from that chat (any channel): the chat is wired, you become an"
                    + " admin of AGENT, and the chat gets a confirmation. Valid 10 minutes, once."
        },
        mixinStandardHelpOptions = true)
final class PairCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    @ParentCommand
    CordonCommand root;

    @Parameters(paramLabel = "AGENT", description = "The agent the chat will talk to.")
    String agent;

    @Override
    public Integer call() {
        ControlEvent.PairingCode code =
                AccessClient.ask(root, new ControlRequest.Pair(agent), ControlEvent.PairingCode.class);
        PrintStream out = root.context().out();
        out.println(code.code());
        root.context()
                .err()
                .println("Send this code as a message from the chat to wire to agent " + code.agent()
                        + ". It works once, until " + TIME.format(Instant.ofEpochMilli(code.expiresAtMillis())) + ".");
        return Exit.OK;
    }
}
