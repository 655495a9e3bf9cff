package dev.cordon.cli;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "dashboard",
        description = "Print the dashboard's address and a one-time login link (docs/dashboard.md). Needs"
                + " http: enabled: true in cordon.yaml.",
        mixinStandardHelpOptions = true)
final class DashboardCommand implements java.util.concurrent.Callable<Integer> {
    @picocli.CommandLine.ParentCommand
    CordonCommand root;

    @Option(
            names = "--user",
            paramLabel = "web:NAME",
            description = "log in as this web user (default: web:owner); its role comes from ./cordon users grant")
    String user;

    @Option(
            names = "--new-token",
            description = "also create an API token for the user (Authorization: Bearer); it is shown only now")
    boolean newToken;

    @Override
    public Integer call() {
        ControlEvent.DashboardLink link =
                AccessClient.ask(root, new ControlRequest.Dashboard(user, newToken), ControlEvent.DashboardLink.class);
        var out = root.context().out();
        out.println("Dashboard: " + link.url());
        out.println("Log in as " + link.user() + " (one use, expires in 5 minutes):");
        out.println("  " + link.loginUrl());
        if (link.token() != null) {
            out.println("API token for " + link.user() + " (shown once; only its hash is kept):");
            out.println("  " + link.token());
        }
        return Exit.OK;
    }
}
