package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Wire;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * What is kept of a deleted agent: {@code archive/<name>-<UTC time>/} in the home, holding its
 * folder as it was ({@code agent/}: AGENTS.md, policy.yaml, workspace with its memory, skills), its
 * kept policy versions ({@code policies/}) and one {@code transcripts/session-<id>.jsonl} per session
 * (one {@code ChatMessage} as JSON a line). The store keeps the transcripts too; the copy is there so
 * the archive reads on its own.
 *
 * <p>The folder is moved, not copied (a rename within the home: nothing the agent wrote is read or
 * followed by the host, and a live sandbox that still holds the folder writes into the archive).
 */
final class AgentArchive {
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private AgentArchive() {}

    /** What was archived where. */
    record Archived(Path folder, int transcripts) {}

    /**
     * Moves the agent's folder and kept policies into a new archive folder and writes its
     * transcripts there. Not thread-safe for the same agent (the caller serialises deletes).
     *
     * @throws IOException if the archive cannot be made or the folder cannot be moved; what was
     *     moved before the failure stays in the archive folder, which the message names
     */
    static Archived archive(Home home, Store store, AgentName name, List<Session> sessions, Instant at)
            throws IOException {
        Path root = home.root().resolve("archive");
        Files.createDirectories(root);
        String base = name.value() + "-" + STAMP.format(at);
        Path folder = root.resolve(base);
        for (int n = 2; !mkdir(folder); n++) {
            folder = root.resolve(base + "-" + n);
        }
        Path transcripts = Files.createDirectory(folder.resolve("transcripts"));
        int written = 0;
        for (Session session : sessions) {
            List<ChatMessage> messages = store.transcript(session.id());
            if (messages.isEmpty()) {
                continue;
            }
            try (BufferedWriter out = Files.newBufferedWriter(
                    transcripts.resolve("session-" + session.id().value() + ".jsonl"), StandardCharsets.UTF_8)) {
                for (ChatMessage message : messages) {
                    out.write(Wire.mapper().writeValueAsString(message));
                    out.write('\n');
                }
            }
            written++;
        }
        move(home.agent(name), folder.resolve("agent"));
        move(home.root().resolve("policies").resolve(name.value()), folder.resolve("policies"));
        return new Archived(folder, written);
    }

    private static boolean mkdir(Path dir) throws IOException {
        try {
            Files.createDirectory(dir);
            return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return false;
        }
    }

    private static void move(Path from, Path to) throws IOException {
        if (Files.exists(from, LinkOption.NOFOLLOW_LINKS)) {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        }
    }
}
