package dev.cordon.cli;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.time.Instant;
import java.util.ArrayList;
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
                    + " most recent hibernated ones. With several replicas: every replica's sessions, which"
                    + " replica runs each, and the replicas.",
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
        boolean several = !listing.replicas().isEmpty();
        root.context()
                .out()
                .printf(
                        Locale.ROOT,
                        "%d of %d sandbox slots in use%s, %s of %s memory committed%n%n",
                        listing.live(),
                        listing.maxLive(),
                        several ? " on this replica" : "",
                        mib(listing.committedBytes()),
                        mib(listing.maxMemoryBytes()));
        List<String> header =
                new ArrayList<>(List.of("SESSION", "AGENT", "CHAT", "STATE", "SANDBOX", "MEMORY", "PROCS", "CPU"));
        if (several) {
            header.addAll(List.of("REPLICA", "HEARTBEAT"));
        }
        AccessClient.table(
                root.context().out(),
                header,
                listing.sessions().stream()
                        .map(r -> {
                            List<String> row = new ArrayList<>(List.of(
                                    Long.toString(r.session()),
                                    r.agent(),
                                    r.chat(),
                                    r.state(),
                                    r.sandboxId() == null ? "-" : r.sandboxId(),
                                    r.memoryBytes() < 0 ? "-" : mib(r.memoryBytes()),
                                    r.pids() < 0 ? "-" : Long.toString(r.pids()),
                                    r.cpuMillis() < 0 ? "-" : seconds(r.cpuMillis())));
                            if (several) {
                                row.add(r.replica() == null ? "-" : r.replica());
                                row.add(r.heartbeatAgeMillis() < 0 ? "-" : seconds(r.heartbeatAgeMillis()) + " ago");
                            }
                            return List.copyOf(row);
                        })
                        .toList(),
                "No sessions yet: a session starts with the first message to an agent.");
        if (several) {
            root.context().out().println();
            AccessClient.table(
                    root.context().out(),
                    List.of("REPLICA", "STARTED", "HEARTBEAT", "CHANNELS", "SESSIONS"),
                    listing.replicas().stream()
                            .map(r -> List.of(
                                    r.self() ? r.name() + " (this one)" : r.name(),
                                    Instant.ofEpochMilli(r.startedAtMillis()).toString(),
                                    seconds(r.heartbeatAgeMillis()) + " ago",
                                    r.channels().isEmpty() ? "-" : String.join(",", r.channels()),
                                    Integer.toString(r.sessions())))
                            .toList(),
                    "");
        }
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

    private static String seconds(long millis) {
        return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%d MiB", bytes >> 20);
    }
}
