package dev.cordon.runner.model;

import dev.cordon.protocol.Part;
import dev.cordon.protocol.Wire;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/** Helpers both stream decoders use to turn what they accumulated into {@link Part}s. */
final class Replies {
    private Replies() {}

    /**
     * Parses a tool call's accumulated JSON input; empty means {@code {}} (a tool without arguments
     * streams no or only empty pieces). Empty when the JSON is incomplete because output was cut at
     * {@code max_tokens}: such a call cannot be run, and the stop reason says why.
     *
     * @throws ModelException if the model sent malformed JSON although it finished normally
     */
    static Optional<Part.ToolUse> toolUse(String provider, String id, String name, String json, StopReason stopReason) {
        if (json.isBlank()) {
            return Optional.of(new Part.ToolUse(id, name, Wire.mapper().createObjectNode()));
        }
        try {
            return Optional.of(new Part.ToolUse(id, name, Wire.mapper().readTree(json)));
        } catch (JacksonException e) {
            if (stopReason == StopReason.MAX_TOKENS) {
                return Optional.empty();
            }
            throw new ModelException(
                    provider + " model sent malformed JSON input for tool " + name + ": " + e.getOriginalMessage(),
                    200,
                    e);
        }
    }

    /** A text field of {@code node}, or "" when missing or null. */
    static String text(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isValueNode() && !value.isNull() ? value.asString() : "";
    }
}
