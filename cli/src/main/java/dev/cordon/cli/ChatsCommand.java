package dev.cordon.cli;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "chats",
        description = "List chats and set who may talk in them (docs/access.md).",
        mixinStandardHelpOptions = true)
final class ChatsCommand {
    @ParentCommand
    CordonCommand root;

    @Command(name = "list", description = "Every chat: its agent and sender policy.", mixinStandardHelpOptions = true)
    int list() {
        ControlEvent.ChatList chats =
                AccessClient.ask(root, new ControlRequest.ChatsList(), ControlEvent.ChatList.class);
        AccessClient.table(
                root.context().out(),
                List.of("CHAT", "AGENT", "SENDER POLICY"),
                chats.chats().stream()
                        .map(c -> List.of(c.chat(), c.agent() == null ? "(not wired)" : c.agent(), c.senderPolicy()))
                        .toList(),
                "No chats yet: a chat appears when its first message arrives (./cordon pair AGENT wires a new one).");
        return Exit.OK;
    }

    @Command(
            name = "policy",
            description = {
                "Set a chat's sender policy. Admin-only.",
                "strict: only users with a role for the agent; approval: others are held until"
                        + " ./cordon senders admit|refuse; public: anyone."
            },
            mixinStandardHelpOptions = true)
    int policy(
            @Parameters(index = "0", paramLabel = "CHAT", description = "CHANNEL:PLATFORM_CHAT_ID, as chats list shows")
                    String chat,
            @Parameters(index = "1", paramLabel = "POLICY", description = "strict, approval or public") String policy) {
        return AccessClient.change(root, new ControlRequest.ChatsPolicy(chat, policy));
    }
}
