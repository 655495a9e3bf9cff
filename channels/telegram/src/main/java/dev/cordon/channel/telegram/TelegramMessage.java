package dev.cordon.channel.telegram;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.InboundFile;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * Reads one Bot API {@code Message} as an inbound message for the host. Chats are the numeric chat
 * id, senders the numeric user id (a username can change hands; an id cannot), message ids the
 * {@code message_id} (unique within its chat, which is the host's dedup key).
 *
 * <p>A private chat is always addressed to the bot. In a group a message is addressed to it when
 * it names the bot ({@code @username} or a text mention of its user), carries a command for it
 * ({@code /cmd@username}) or replies to one of its messages; the {@code @username} is removed from
 * the text the agent reads.
 */
final class TelegramMessage {
    /** Who the bot is, from {@code getMe}. */
    record Me(long id, String username) {}

    private TelegramMessage() {}

    /**
     * The message for the host, or empty if it is not for an agent (from a bot, neither text nor a
     * file, a service message). A file's caption is the text; a file without one has empty text.
     */
    static Optional<NewInbound> read(JsonNode message, Me me, TelegramFiles fetch) {
        JsonNode from = message.path("from");
        JsonNode chat = message.path("chat");
        List<InboundFile> files = fetch.of(message);
        String text = message.has("text")
                ? message.get("text").asString()
                : message.path("caption").asString(files.isEmpty() ? null : "");
        if (from.isMissingNode() || from.path("is_bot").asBoolean(false) || text == null || !chat.has("id")) {
            return Optional.empty();
        }
        List<JsonNode> entities = new ArrayList<>();
        message.path(message.has("text") ? "entities" : "caption_entities").forEach(entities::add);
        boolean mentioned = "private".equals(chat.path("type").asString())
                || message.path("reply_to_message").path("from").path("id").asLong(-1) == me.id();
        StringBuilder clean = new StringBuilder(text);
        // From the end, so that the offsets (UTF-16 units, as Java's) of earlier entities still hold.
        for (JsonNode e : entities.reversed()) {
            int offset = e.path("offset").asInt(-1);
            int length = e.path("length").asInt(-1);
            if (offset < 0 || length < 0 || offset + length > text.length()) {
                continue;
            }
            String part = text.substring(offset, offset + length).toLowerCase(Locale.ROOT);
            String handle = "@" + me.username().toLowerCase(Locale.ROOT);
            switch (e.path("type").asString("")) {
                case "mention" -> {
                    if (part.equals(handle)) {
                        mentioned = true;
                        clean.delete(offset, offset + length);
                        // "hey @bot what" reads "hey what", not "hey  what".
                        if (offset > 0
                                && offset < clean.length()
                                && clean.charAt(offset - 1) == ' '
                                && clean.charAt(offset) == ' ') {
                            clean.deleteCharAt(offset);
                        }
                    }
                }
                case "text_mention" -> mentioned |= e.path("user").path("id").asLong(-1) == me.id();
                case "bot_command" -> {
                    if (part.endsWith(handle)) {
                        mentioned = true;
                        clean.delete(offset + length - handle.length(), offset + length);
                    }
                }
                default -> {}
            }
        }
        String body = clean.toString().strip().replaceFirst("^[,:]\\s*", "");
        JsonNode replyTo = message.path("reply_to_message").path("message_id");
        return Optional.of(new NewInbound(
                Telegram.NAME,
                chat.get("id").asString(),
                message.path("message_id").asString(),
                from.path("id").asString(),
                body,
                mentioned,
                message.path("is_topic_message").asBoolean(false)
                        ? message.path("message_thread_id").asString()
                        : null,
                replyTo.isMissingNode() ? null : replyTo.asString(),
                files));
    }
}
