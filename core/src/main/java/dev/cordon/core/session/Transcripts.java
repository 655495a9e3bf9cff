package dev.cordon.core.session;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Role;
import java.util.ArrayList;
import java.util.List;

/** Keeps stored transcripts valid for the model APIs. */
final class Transcripts {
    private Transcripts() {}

    /**
     * If the last message asks for tools that were never answered (the turn died between the
     * model's tool call and the tool results), returns the messages with an error result for each
     * such call appended. Both APIs reject a transcript with an unanswered tool call, so without
     * this one crashed turn would break every later turn of the session.
     */
    static List<ChatMessage> closeOpenToolCalls(List<ChatMessage> messages, String reason) {
        if (messages.isEmpty() || messages.getLast().role() != Role.ASSISTANT) {
            return messages;
        }
        List<Part.ToolUse> open = messages.getLast().toolUses();
        if (open.isEmpty()) {
            return messages;
        }
        List<Part> results = new ArrayList<>();
        for (Part.ToolUse use : open) {
            results.add(new Part.ToolResult(use.id(), "The tool call was interrupted: " + reason, true));
        }
        List<ChatMessage> closed = new ArrayList<>(messages);
        closed.add(new ChatMessage(Role.USER, results));
        return closed;
    }
}
