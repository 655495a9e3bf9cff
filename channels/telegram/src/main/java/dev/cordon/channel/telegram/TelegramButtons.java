package dev.cordon.channel.telegram;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.OutgoingMessage;
import java.util.List;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A message's options as an inline keyboard, and a tap on one as an inbound message.
 *
 * <p>Telegram passes a tapped button's {@code callback_data} back, at most 64 bytes: so the data is
 * a short token naming the option's position ({@code cordon:o:2}), never its text. The label is read
 * back from the keyboard of the message the tap came from, which the {@code callback_query} carries,
 * so the adapter keeps no state and a tap survives a restart. The inbound message is the option's
 * text, from the person who tapped, as a reply to the message with the keyboard.
 */
final class TelegramButtons {
    static final String PREFIX = "cordon:o:";

    private TelegramButtons() {}

    /** Adds one button per option, one per row (long labels stay readable), if there are options. */
    static void attach(ObjectNode body, OutgoingMessage message) {
        List<String> options = message.options();
        if (options.isEmpty()) {
            return;
        }
        ArrayNode rows = body.putObject("reply_markup").putArray("inline_keyboard");
        for (int i = 0; i < options.size(); i++) {
            rows.addArray().addObject().put("text", options.get(i)).put("callback_data", PREFIX + i);
        }
    }

    /**
     * The tap as the person's answer, or empty if it is not a tap on one of this adapter's buttons
     * (data of another bot or an older version, a message Telegram no longer includes, a bot).
     */
    static Optional<NewInbound> read(JsonNode query) {
        JsonNode message = query.path("message");
        JsonNode from = query.path("from");
        String data = query.path("data").asString("");
        if (!data.startsWith(PREFIX)
                || !message.has("message_id")
                || !message.path("chat").has("id")
                || !from.has("id")
                || from.path("is_bot").asBoolean(false)) {
            return Optional.empty();
        }
        for (JsonNode row : message.path("reply_markup").path("inline_keyboard")) {
            for (JsonNode button : row) {
                if (data.equals(button.path("callback_data").asString(null))) {
                    return Optional.of(new NewInbound(
                            Telegram.NAME,
                            message.get("chat").get("id").asString(),
                            "callback:" + query.path("id").asString(),
                            from.get("id").asString(),
                            button.path("text").asString(),
                            true,
                            message.path("is_topic_message").asBoolean(false)
                                    ? message.path("message_thread_id").asString()
                                    : null,
                            message.get("message_id").asString()));
                }
            }
        }
        return Optional.empty();
    }
}
