package dev.cordon.protocol;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/** One message of a conversation transcript. Immutable. */
public record ChatMessage(Role role, List<Part> parts) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        parts = List.copyOf(parts);
    }

    public static ChatMessage user(String text) {
        return new ChatMessage(Role.USER, List.of(new Part.Text(text)));
    }

    public static ChatMessage assistant(String text) {
        return new ChatMessage(Role.ASSISTANT, List.of(new Part.Text(text)));
    }

    /** The concatenated text parts (tool calls and results left out). */
    public String text() {
        return parts.stream()
                .filter(p -> p instanceof Part.Text)
                .map(p -> ((Part.Text) p).text())
                .collect(Collectors.joining());
    }

    public List<Part.ToolUse> toolUses() {
        return parts.stream()
                .filter(p -> p instanceof Part.ToolUse)
                .map(p -> (Part.ToolUse) p)
                .toList();
    }
}
