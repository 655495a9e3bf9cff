package dev.cordon.channel.whatsapp;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.InboundFile;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * Reads the messages of one {@code messages} webhook payload ({@code entry[].changes[].value})
 * for the host. Chats and senders are the person's WhatsApp id ({@code wa_id}, their number in
 * international form): every chat is one person and the business number, so every message is
 * addressed to the bot. Message ids are Meta's {@code wamid}s, the host's dedup key. Read: text,
 * the answer to reply buttons or a list ({@code interactive}), a template's quick reply ({@code
 * button}), and media (an image, document, audio, video or sticker: its file, with the caption
 * as the text, empty without one); the rest (locations, contacts, reactions) is not.
 */
final class WhatsAppMessage {
    private WhatsAppMessage() {}

    /**
     * The messages of {@code payload} sent to {@code phoneNumberId}, in order; statuses (sent,
     * delivered, read receipts) and other numbers' messages are left out.
     */
    static List<NewInbound> read(JsonNode payload, String phoneNumberId, WhatsAppMedia media) {
        List<NewInbound> out = new ArrayList<>();
        for (JsonNode entry : payload.path("entry")) {
            for (JsonNode change : entry.path("changes")) {
                JsonNode value = change.path("value");
                if (!"messages".equals(change.path("field").asString(""))
                        || !phoneNumberId.equals(
                                value.path("metadata").path("phone_number_id").asString(""))) {
                    continue;
                }
                for (JsonNode m : value.path("messages")) {
                    Optional<InboundFile> file = media.of(m);
                    String text = file.isPresent()
                            ? m.path(m.path("type").asString()).path("caption").asString("")
                            : text(m);
                    String from = m.path("from").asString("");
                    String id = m.path("id").asString("");
                    if (text == null || from.isEmpty() || id.isEmpty()) {
                        continue;
                    }
                    JsonNode context = m.path("context").path("id");
                    out.add(new NewInbound(
                            WhatsApp.NAME,
                            from,
                            id,
                            from,
                            text,
                            true,
                            null,
                            context.isString() ? context.asString() : null,
                            file.stream().toList()));
                }
            }
        }
        return out;
    }

    private static String text(JsonNode m) {
        return switch (m.path("type").asString("")) {
            case "text" -> m.path("text").path("body").asString(null);
            case "interactive" -> {
                JsonNode i = m.path("interactive");
                JsonNode reply = i.has("button_reply") ? i.path("button_reply") : i.path("list_reply");
                yield reply.path("title").asString(null);
            }
            case "button" -> m.path("button").path("text").asString(null);
            default -> null;
        };
    }
}
