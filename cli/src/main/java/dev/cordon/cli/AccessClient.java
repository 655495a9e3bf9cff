package dev.cordon.cli;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * One request of {@code users}, {@code chats}, {@code senders}, {@code pair} or {@code sessions} and
 * its one answer.
 * A refusal (not an admin, no such user, agent or chat) ends the command with {@link
 * Exit#UNREACHABLE} and the daemon's reason on stderr.
 */
final class AccessClient {
    private AccessClient() {}

    static <T extends ControlEvent> T ask(CordonCommand root, ControlRequest request, Class<T> answer) {
        Daemon daemon = root.daemon();
        daemon.ensureRunning();
        try (ControlConnection connection = daemon.connect()) {
            connection.send(request);
            return daemon.expect(connection, answer, "an answer");
        }
    }

    /** Asks for a change and prints what the daemon did. */
    static int change(CordonCommand root, ControlRequest request) {
        root.context().out().println(ask(root, request, ControlEvent.Done.class).message());
        return Exit.OK;
    }

    /** Prints rows as left-aligned columns under a header, two spaces apart; {@code none} if there are none. */
    static void table(PrintStream out, List<String> header, List<List<String>> rows, String none) {
        if (rows.isEmpty()) {
            out.println(none);
            return;
        }
        List<List<String>> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        int[] widths = new int[header.size()];
        for (List<String> row : all) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        for (List<String> row : all) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                line.append(row.get(i));
                if (i < row.size() - 1) {
                    line.append(" ".repeat(widths[i] - row.get(i).length() + 2));
                }
            }
            out.println(line);
        }
    }
}
