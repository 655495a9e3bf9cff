package dev.cordon.channel.discord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What the adapter needs to miss nothing across a drop or a restart:
 *
 * <ul>
 *   <li>the gateway session it resumes: its id, the URL Discord named for resuming, the bot's user
 *       id (READY's, which a resumed session does not repeat), and the last sequence number the
 *       host has decided on. The sequence is Discord's acknowledgement: a Resume replays every
 *       event after it, so it moves only once the host has stored (or dropped) the event's message
 *       (DESIGN.md invariant 6);
 *   <li>for each channel messages came from, the last message the host decided on: when Discord
 *       will not resume a session, a new one starts by reading each channel's history after it.
 * </ul>
 *
 * <p>Kept in a file when one is given, written whole and renamed into place. Touched by the
 * adapter's loop thread only.
 */
final class GatewaySession {
    private static final Logger LOG = LoggerFactory.getLogger(GatewaySession.class);
    /** Channels remembered; the least recently active is forgotten first. */
    static final int MAX_CHANNELS = 500;

    /** A resumable session. */
    record State(String id, URI resumeUrl, String botId, long seq) {}

    private final Path file;
    private State state;
    /** Channel id → the last message id decided on, least recently active first. */
    private final Map<String, String> marks = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > MAX_CHANNELS;
        }
    };

    private GatewaySession(Path file) {
        this.file = file;
    }

    /** What is kept in {@code file} (null: nothing is kept); nothing if there is none or it is unreadable. */
    static GatewaySession load(Path file) {
        GatewaySession session = new GatewaySession(file);
        if (file == null || !Files.exists(file)) {
            return session;
        }
        try {
            JsonNode json = DiscordRest.JSON.readTree(Files.readString(file));
            JsonNode s = json.path("session");
            if (s.isObject()) {
                State state = new State(
                        s.path("session_id").asString(""),
                        URI.create(s.path("resume_gateway_url").asString("")),
                        s.path("bot_id").asString(""),
                        s.path("seq").asLong());
                session.state = state.id().isEmpty() || state.botId().isEmpty() ? null : state;
            }
            json.path("last_messages")
                    .properties()
                    .forEach(e -> session.marks.put(e.getKey(), e.getValue().asString()));
        } catch (IOException | JacksonException | IllegalArgumentException e) {
            LOG.warn("ignoring the unreadable Discord session in {} (a new one is started): {}", file, e.toString());
            session.state = null;
            session.marks.clear();
        }
        return session;
    }

    /** The session to resume, or null: identify anew. */
    State state() {
        return state;
    }

    /** READY: a new session, at sequence {@code seq}. */
    void ready(String id, URI resumeUrl, String botId, long seq) {
        state = new State(id, resumeUrl, botId, seq);
        save();
    }

    /** The host decided on the event with sequence {@code seq}. */
    void advance(long seq) {
        if (state != null && seq > state.seq()) {
            state = new State(state.id(), state.resumeUrl(), state.botId(), seq);
            save();
        }
    }

    /** The host decided on message {@code messageId} of {@code channelId}. */
    void decided(String channelId, String messageId) {
        String before = marks.get(channelId);
        if (before == null || DiscordMessages.newer(messageId, before)) {
            marks.put(channelId, messageId);
            save();
        }
    }

    /** Each channel's last message decided on, least recently active first. */
    Map<String, String> marks() {
        return new LinkedHashMap<>(marks);
    }

    /** Stops catching up on a channel that is gone or hidden from the bot. */
    void drop(String channelId) {
        if (marks.remove(channelId) != null) {
            save();
        }
    }

    /** Discord will not resume it (Invalid Session, close 4007/4009): the next connection identifies. */
    void forget() {
        state = null;
        save();
    }

    private void save() {
        if (file == null) {
            return;
        }
        ObjectNode json = DiscordRest.JSON.createObjectNode();
        if (state != null) {
            json.putObject("session")
                    .put("session_id", state.id())
                    .put("resume_gateway_url", state.resumeUrl().toString())
                    .put("bot_id", state.botId())
                    .put("seq", state.seq());
        }
        ObjectNode last = json.putObject("last_messages");
        marks.forEach(last::put);
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, json.toString());
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the Discord session file " + file, e);
        }
    }
}
