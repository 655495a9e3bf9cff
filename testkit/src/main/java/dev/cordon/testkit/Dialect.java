package dev.cordon.testkit;

import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** One provider's wire format as the fake serves it: errors, checks, and replies as SSE frames or JSON. */
interface Dialect {
    /** Provider-style ids: {@code msg_...}, {@code toolu_...}, {@code chatcmpl-...}, {@code call_...}. */
    interface Ids {
        String next(String prefix);
    }

    /** Response headers beyond the content type, e.g. the request id. */
    Map<String, String> headers(Ids ids);

    /** The provider's JSON error body. */
    byte[] errorBody(String type, String message);

    /** The 401 the provider sends when the key in the request is not {@code key}; empty when it is. */
    Optional<Scripted.HttpError> checkKey(RecordedRequest request, String key);

    /** The message of the 400 the real API would send for this request; empty when valid. */
    Optional<String> violation(RecordedRequest request);

    /** The text of the last user message that has text (for echo mode). */
    String lastUserText(JsonNode body);

    /** The stream's SSE frames, each ending with its blank line; the last is the terminator. */
    List<String> frames(Scripted.Reply reply, JsonNode request, Usage usage, boolean emptyPartialJson, Ids ids);

    /** The in-stream error frame. */
    String errorFrame(String type, String message);

    /** The whole reply as one JSON body, for requests that did not ask to stream. */
    ObjectNode message(Scripted.Reply reply, JsonNode request, Usage usage, Ids ids);

    /** The model name to report: the requested one. */
    static String model(JsonNode request) {
        JsonNode model = request.path("model");
        return model.isString() ? model.asString() : "fake-model";
    }

    /** A text cut after each run of whitespace, the way models stream words: "Hello ", "world". */
    static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        int start = 0;
        for (int i = 1; i < text.length(); i++) {
            if (Character.isWhitespace(text.charAt(i - 1)) && !Character.isWhitespace(text.charAt(i))) {
                words.add(text.substring(start, i));
                start = i;
            }
        }
        if (start < text.length()) {
            words.add(text.substring(start));
        }
        return words;
    }

    /**
     * A tool input as the pieces a model streams it in (about 8 characters each, never cutting a
     * surrogate pair). With {@code empties}, an empty piece precedes each; an empty object is then
     * sent as empty pieces only, which a client must read as {@code {}}.
     */
    static List<String> jsonPieces(JsonNode input, boolean empties) {
        String json = Wire.mapper().writeValueAsString(input);
        List<String> pieces = new ArrayList<>();
        if (empties && input.isObject() && input.isEmpty()) {
            return List.of("", "");
        }
        int at = 0;
        while (at < json.length()) {
            int end = json.offsetByCodePoints(at, Math.min(8, json.codePointCount(at, json.length())));
            if (empties) {
                pieces.add("");
            }
            pieces.add(json.substring(at, end));
            at = end;
        }
        if (empties) {
            pieces.add("");
        }
        return pieces;
    }

    /** Made-up token counts when the script gives none: about four bytes per token. */
    static Usage estimate(Scripted.Reply reply, byte[] requestBody) {
        long output = reply.text().length();
        for (Scripted.ToolCall call : reply.toolCalls()) {
            output += call.name().length()
                    + Wire.mapper().writeValueAsString(call.input()).length();
        }
        return new Usage(Math.max(1, requestBody.length / 4), Math.max(1, output / 4), 0, 0);
    }
}
