package dev.cordon.cli;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "senders",
        description = "Senders held by a chat's approval policy: list, admit, refuse (docs/access.md).",
        mixinStandardHelpOptions = true)
final class SendersCommand {
    @ParentCommand
    CordonCommand root;

    @Command(name = "list", description = "Every sender request, pending and decided.", mixinStandardHelpOptions = true)
    int list() {
        ControlEvent.SenderList senders =
                AccessClient.ask(root, new ControlRequest.SendersList(), ControlEvent.SenderList.class);
        AccessClient.table(
                root.context().out(),
                List.of("ID", "SENDER", "CHAT", "AGENT", "STATE", "HELD", "DECIDED BY"),
                senders.senders().stream()
                        .map(s -> List.of(
                                Long.toString(s.id()),
                                s.sender(),
                                s.chat(),
                                s.agent(),
                                s.state(),
                                Integer.toString(s.held()),
                                s.decidedBy() == null ? "-" : s.decidedBy()))
                        .toList(),
                "No sender requests: a chat with the approval policy holds unknown senders here.");
        return Exit.OK;
    }

    @Command(
            name = "admit",
            description = "Let the sender in: their held messages reach the agent in order; they become a member.",
            mixinStandardHelpOptions = true)
    int admit(@Parameters(paramLabel = "ID", description = "The request's id, as senders list shows") long id) {
        return AccessClient.change(root, new ControlRequest.SendersAdmit(id));
    }

    @Command(
            name = "refuse",
            description = "Keep the sender out: their held and later messages in that chat are dropped.",
            mixinStandardHelpOptions = true)
    int refuse(@Parameters(paramLabel = "ID", description = "The request's id, as senders list shows") long id) {
        return AccessClient.change(root, new ControlRequest.SendersRefuse(id));
    }
}
