package dev.cordon.cli;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "sessions",
        description = "Live, queued and hibernated sessions, and stopping one (docs/sessions.md).",
        mixinStandardHelpOptions = true)
final class SessionsCommand {
    @ParentCommand
    CordonCommand root;

    @Command(
            name = "list",
            description = "Live sessions (busy in a turn, or idle) with their sandbox's use, queued ones, then the"
                    + " most recent hibernated ones.",
            mixinStandardHelpOptions = true)
    int list(
            @Option(
                            names = "--hibernated",
                            paramLabel = "N",
                            defaultValue = "20",
                            description = "how many hibernated sessions to show (default: ${DEFAULT-VALUE})")
                    int hibernated) {
        ControlEvent.SessionListing listing = AccessClient.ask(
                root, new ControlRequest.SessionsList(Math.max(0, hibernated)), ControlEvent.SessionListing.class);
        root.context()
                .out()
                .printf(
                        Locale.ROOT,
                        "%d of %d sandbox slots in use, %s of %s memory committed%n%n",
                        listing.live(),
                        listing.maxLive(),
                        mib(listing.committedBytes()),
                        mib(listing.maxMemoryBytes()));
        AccessClient.table(
                root.context().out(),
                List.of("SESSION", "AGENT", "CHAT", "STATE", "SANDBOX", "MEMORY", "PROCS", "CPU"),
                listing.sessions().stream()
                        .map(r -> List.of(
                                Long.toString(r.session()),
                                r.agent(),
                                r.chat(),
                                r.state(),
                                r.sandboxId() == null ? "-" : r.sandboxId(),
                                r.memoryBytes() < 0 ? "-" : mib(r.memoryBytes()),
                                r.pids() < 0 ? "-" : Long.toString(r.pids()),
                                r.cpuMillis() < 0 ? "-" : String.format(Locale.ROOT, "%.1f s", r.cpuMillis() / 1000.0)))
                        .toList(),
                "No sessions yet: a session starts with the first message to an agent.");
        return Exit.OK;
    }

    @Command(
            name = "kill",
            description = "Stop a session's sandbox now. A turn in progress fails (it is not retried); the next"
                    + " message starts a fresh sandbox. Files in /workspace are kept.",
            mixinStandardHelpOptions = true)
    int kill(@Parameters(index = "0", paramLabel = "ID", description = "the session, as sessions list shows") long id) {
        return AccessClient.change(root, new ControlRequest.SessionsKill(id));
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%d MiB", bytes >> 20);
    }
}
