package dev.cordon.core.session;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Keeps stored transcripts valid for the model APIs, and reads them the way a turn sends them:
 * from the newest {@link Part.Summary} on (compaction, docs/sessions.md). A session's stored
 * transcript is append-only, so everything before a summary stays archived. An empty summary is a
 * fresh start ({@link #FRESH_START}, a chat's {@code /new}): nothing before it is sent, nor it.
 */
final class Transcripts {
    private Transcripts() {}

    /**
     * The text a chat sends to start its conversation anew: a message of only this, in any case, or
     * with a bot's name after an {@code @} as Telegram writes a command in a group ({@code /new@MyBot}).
     */
    static final String NEW_CONVERSATION = "/new";

    private static final Pattern NEW_COMMAND = Pattern.compile("/new(@\\S+)?", Pattern.CASE_INSENSITIVE);

    /** What a fresh start is stored as: a summary of nothing. */
    static final ChatMessage FRESH_START = new ChatMessage(Role.USER, List.of(new Part.Summary("")));

    static boolean asksForNewConversation(String text) {
        return text != null && NEW_COMMAND.matcher(text.strip()).matches();
    }

    /** The messages a turn sends: from the newest summary on, with the summary as plain text. */
    static List<ChatMessage> live(List<ChatMessage> stored) {
        int start = 0;
        for (int i = stored.size() - 1; i >= 0; i--) {
            if (isSummary(stored.get(i))) {
                start = i;
                break;
            }
        }
        List<ChatMessage> live = new ArrayList<>(stored.size() - start);
        for (ChatMessage message : stored.subList(start, stored.size())) {
            if (!message.equals(FRESH_START)) {
                live.add(isSummary(message) ? asText(message) : message);
            }
        }
        return live;
    }

    static boolean isSummary(ChatMessage message) {
        return message.parts().stream().anyMatch(p -> p instanceof Part.Summary);
    }

    private static ChatMessage asText(ChatMessage message) {
        List<Part> parts = new ArrayList<>();
        for (Part part : message.parts()) {
            parts.add(part instanceof Part.Summary summary ? new Part.Text(summary.asText()) : part);
        }
        return new ChatMessage(message.role(), parts);
    }

    /**
     * A rough token count: characters / 3, on the safe side for prose and code (about 4 per token)
     * and close for JSON. The provider's own count is known only after a call.
     */
    static long estimateTokens(List<ChatMessage> messages) {
        long chars = 0;
        for (ChatMessage message : messages) {
            for (Part part : message.parts()) {
                chars += switch (part) {
                    case Part.Text t -> t.text().length();
                    case Part.Summary t -> t.text().length();
                    case Part.ToolUse u ->
                        u.name().length() + u.input().toString().length();
                    case Part.ToolResult r -> r.content().length();
                };
            }
        }
        return chars / 3;
    }

    /**
     * Where compaction cuts {@code messages}: the index of the first message kept as it is. Cuts
     * only where a turn starts (a user's own message, never between a tool call and its result),
     * keeping the newest turns that fit in {@code keepTokens} and at least the last one. 0 means
     * there is nothing older to summarize.
     */
    static int keepFrom(List<ChatMessage> messages, long keepTokens) {
        int keep = 0;
        for (int i = messages.size() - 1; i > 0; i--) {
            ChatMessage m = messages.get(i);
            boolean turnStart =
                    m.role() == Role.USER && m.parts().stream().noneMatch(p -> p instanceof Part.ToolResult);
            if (!turnStart) {
                continue;
            }
            if (keep != 0 && estimateTokens(messages.subList(i, messages.size())) > keepTokens) {
                break;
            }
            keep = i;
        }
        return keep;
    }

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
