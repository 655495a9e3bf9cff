package dev.cordon.channel.discord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The gateway session the adapter resumes after a drop: its id, the URL Discord named for resuming,
 * the bot's user id (READY's, which a resumed session does not repeat), and the last sequence
 * number the host has decided on. The sequence is Discord's acknowledgement:
 * a Resume replays every event after it, so it moves only once the host has stored (or dropped)
 * the event's message (DESIGN.md invariant 6).
 *
 * <p>Kept in a file when one is given, written whole and renamed into place, so a restart of the
 * daemon within Discord's resume window resumes the session and misses nothing. Touched by the
 * adapter's loop thread only.
 */
final class GatewaySession {
    private static final Logger LOG = LoggerFactory.getLogger(GatewaySession.class);

    /** A resumable session. */
    record State(String id, URI resumeUrl, String botId, long seq) {}

    private final Path file;
    private State state;

    private GatewaySession(Path file, State state) {
        this.file = file;
        this.state = state;
    }

    /** The session kept in {@code file} (null: none kept), or no session if there is none or it is unreadable. */
    static GatewaySession load(Path file) {
        if (file == null || !Files.exists(file)) {
            return new GatewaySession(file, null);
        }
        try {
            JsonNode json = DiscordRest.JSON.readTree(Files.readString(file));
            State state = new State(
                    json.path("session_id").asString(),
                    URI.create(json.path("resume_gateway_url").asString()),
                    json.path("bot_id").asString(),
                    json.path("seq").asLong());
            return new GatewaySession(
                    file, state.id().isEmpty() || state.botId().isEmpty() ? null : state);
        } catch (IOException | JacksonException | IllegalArgumentException e) {
            LOG.warn("ignoring the unreadable Discord session in {} (a new one is started): {}", file, e.toString());
            return new GatewaySession(file, null);
        }
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

    /** Discord will not resume it (Invalid Session, close 4007/4009): the next connection identifies. */
    void forget() {
        state = null;
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot remove the Discord session file " + file, e);
            }
        }
    }

    private void save() {
        if (file == null) {
            return;
        }
        String json = DiscordRest.JSON
                .createObjectNode()
                .put("session_id", state.id())
                .put("resume_gateway_url", state.resumeUrl().toString())
                .put("bot_id", state.botId())
                .put("seq", state.seq())
                .toString();
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, json);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the Discord session file " + file, e);
        }
    }
}
