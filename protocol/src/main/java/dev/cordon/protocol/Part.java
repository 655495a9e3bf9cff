package dev.cordon.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.Objects;
import tools.jackson.databind.JsonNode;

/** One piece of a {@link ChatMessage}: provider-neutral, converted to each wire format by the model clients. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Part.Text.class, name = "text"),
    @JsonSubTypes.Type(value = Part.ToolUse.class, name = "tool_use"),
    @JsonSubTypes.Type(value = Part.ToolResult.class, name = "tool_result"),
    @JsonSubTypes.Type(value = Part.Summary.class, name = "summary")
})
public sealed interface Part {
    record Text(String text) implements Part {
        public Text {
            Objects.requireNonNull(text, "text");
        }
    }

    /** The model asks to run tool {@code name} with {@code input} (a JSON object). */
    record ToolUse(String id, String name, JsonNode input) implements Part {
        public ToolUse {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(input, "input");
        }
    }

    /**
     * What the host stores in place of a conversation's older turns when it grew long: the model's
     * own summary of them (docs/sessions.md, compaction). Only the host writes one; a model sees it
     * as the text {@link #asText()}.
     */
    record Summary(String text) implements Part {
        public Summary {
            Objects.requireNonNull(text, "text");
        }

        /** The summary as the model reads it at the start of the conversation. */
        public String asText() {
            return "[Summary of the earlier conversation, written by you when it grew long; the full"
                    + " transcript is archived on the host]\n" + text;
        }
    }

    /** The answer to the {@link ToolUse} with id {@code toolUseId}. */
    record ToolResult(String toolUseId, String content, boolean isError) implements Part {
        public ToolResult {
            Objects.requireNonNull(toolUseId, "toolUseId");
            Objects.requireNonNull(content, "content");
        }
    }
}
