package dev.cordon.cli;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "users",
        description = {
            "List, grant and revoke users' roles (docs/access.md).",
            "A user is CHANNEL:PLATFORM_USER_ID (slack:U123); roles: owner (global), admin and member"
                    + " (global, or on one agent with --agent)."
        },
        mixinStandardHelpOptions = true)
final class UsersCommand {
    @ParentCommand
    CordonCommand root;

    @Command(
            name = "list",
            description = "Every role: user, role, scope, who granted it.",
            mixinStandardHelpOptions = true)
    int list() {
        ControlEvent.UserList users =
                AccessClient.ask(root, new ControlRequest.UsersList(), ControlEvent.UserList.class);
        AccessClient.table(
                root.context().out(),
                List.of("USER", "ROLE", "SCOPE", "GRANTED BY"),
                users.users().stream()
                        .map(u -> List.of(
                                u.user(), u.role(), u.agent() == null ? "global" : "agent " + u.agent(), u.grantedBy()))
                        .toList(),
                "No roles.");
        return Exit.OK;
    }

    @Command(
            name = "grant",
            description = "Give USER the role ROLE, globally or (--agent) on one agent. Admin-only.",
            mixinStandardHelpOptions = true)
    int grant(
            @Parameters(index = "0", paramLabel = "USER", description = "CHANNEL:PLATFORM_USER_ID, like slack:U123")
                    String user,
            @Parameters(index = "1", paramLabel = "ROLE", description = "owner, admin or member") String role,
            @Option(names = "--agent", paramLabel = "NAME", description = "Scope the role to this agent.")
                    String agent) {
        return AccessClient.change(root, new ControlRequest.UsersGrant(user, role, agent));
    }

    @Command(
            name = "revoke",
            description = "Take the role ROLE with exactly this scope away from USER. Admin-only.",
            mixinStandardHelpOptions = true)
    int revoke(
            @Parameters(index = "0", paramLabel = "USER", description = "CHANNEL:PLATFORM_USER_ID") String user,
            @Parameters(index = "1", paramLabel = "ROLE", description = "owner, admin or member") String role,
            @Option(names = "--agent", paramLabel = "NAME", description = "The agent the role is scoped to.")
                    String agent) {
        return AccessClient.change(root, new ControlRequest.UsersRevoke(user, role, agent));
    }
}
