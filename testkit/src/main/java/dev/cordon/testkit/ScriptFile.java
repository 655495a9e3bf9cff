package dev.cordon.testkit;

import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Reads a script for {@link FakeModelMain}: a JSON array, one object per response.
 *
 * <pre>{@code
 * [
 *   {"text": "Hello! How can I help?"},
 *   {"text": "Let me look.", "toolCalls": [{"name": "bash", "input": {"command": "ls"}}]},
 *   {"error": {"status": 429, "type": "rate_limit_error", "message": "Slow down",
 *              "headers": {"retry-after": "2"}}},
 *   {"text": "Half of this arrives", "disconnect": true},
 *   {"text": "Slow", "pieceBytes": 3, "stallMillis": 2000, "stallMidStream": true},
 *   {"text": "Oops", "errorEvent": {"type": "overloaded_error", "message": "Overloaded"}},
 *   {"text": "cut", "truncate": true, "stop": "max_tokens",
 *    "usage": {"input": 100, "output": 5, "cacheRead": 80, "cacheWrite": 0}},
 *   {"toolCalls": [{"id": "toolu_1", "name": "now", "input": {}}], "emptyPartialJson": true}
 * ]
 * }</pre>
 */
final class ScriptFile {
    private static final Set<String> REPLY_KEYS = Set.of(
            "text",
            "toolCalls",
            "stop",
            "usage",
            "pieceBytes",
            "emptyPartialJson",
            "stallMillis",
            "stallMidStream",
            "disconnect",
            "truncate",
            "errorEvent");

    private ScriptFile() {}

    /**
     * @throws IllegalArgumentException naming the entry and field at fault
     * @throws UncheckedIOException if the file cannot be read
     */
    static List<Scripted> read(Path file) {
        JsonNode root;
        try {
            root = Wire.mapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read script " + file, e);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("script " + file + " is not JSON: " + e.getOriginalMessage(), e);
        }
        if (!root.isArray()) {
            throw new IllegalArgumentException("script " + file + " must be a JSON array of responses");
        }
        List<Scripted> script = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            try {
                script.add(entry(root.get(i)));
            } catch (IllegalArgumentException | JacksonException e) {
                throw new IllegalArgumentException("script " + file + ", entry " + i + ": " + e.getMessage(), e);
            }
        }
        return script;
    }

    static Scripted entry(JsonNode entry) {
        if (!entry.isObject()) {
            throw new IllegalArgumentException("each response is a JSON object");
        }
        if (entry.has("error")) {
            JsonNode error = entry.get("error");
            Map<String, String> headers = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> header : error.path("headers").properties()) {
                headers.put(header.getKey(), header.getValue().asString());
            }
            return new Scripted.HttpError(
                    error.path("status").asInt(500),
                    error.path("type").asString("api_error"),
                    error.path("message").asString("Internal server error"),
                    headers);
        }
        for (Iterator<String> names = entry.propertyNames().iterator(); names.hasNext(); ) {
            String name = names.next();
            if (!REPLY_KEYS.contains(name)) {
                throw new IllegalArgumentException("unknown field '" + name + "'; known: error, " + REPLY_KEYS);
            }
        }
        List<Scripted.ToolCall> calls = new ArrayList<>();
        for (JsonNode call : entry.path("toolCalls")) {
            JsonNode id = call.path("id");
            calls.add(new Scripted.ToolCall(
                    id.isString() ? id.asString() : null,
                    call.path("name").asString(),
                    call.has("input") ? call.get("input") : Wire.mapper().createObjectNode()));
        }
        Scripted.Reply reply = Scripted.toolCalls(calls.toArray(Scripted.ToolCall[]::new))
                .withText(entry.path("text").asString(""));
        if (entry.has("stop")) {
            reply = reply.withStop(
                    Scripted.Stop.valueOf(entry.get("stop").asString().toUpperCase(Locale.ROOT)));
        }
        if (entry.has("usage")) {
            JsonNode usage = entry.get("usage");
            reply = reply.withUsage(new Usage(
                    usage.path("input").asLong(0),
                    usage.path("output").asLong(0),
                    usage.path("cacheRead").asLong(0),
                    usage.path("cacheWrite").asLong(0)));
        }
        if (entry.has("pieceBytes")) {
            reply = reply.splitInto(entry.get("pieceBytes").asInt());
        }
        if (entry.path("emptyPartialJson").asBoolean(false)) {
            reply = reply.withEmptyPartialJson();
        }
        if (entry.has("stallMillis")) {
            Duration stall = Duration.ofMillis(entry.get("stallMillis").asLong());
            reply = entry.path("stallMidStream").asBoolean(false)
                    ? reply.stallMidStream(stall)
                    : reply.stallBefore(stall);
        }
        if (entry.path("disconnect").asBoolean(false)) {
            reply = reply.thenDisconnect();
        }
        if (entry.path("truncate").asBoolean(false)) {
            reply = reply.thenTruncate();
        }
        if (entry.has("errorEvent")) {
            JsonNode error = entry.get("errorEvent");
            reply = reply.thenErrorEvent(
                    error.path("type").asString("api_error"),
                    error.path("message").asString("Internal server error"));
        }
        return reply;
    }
}
