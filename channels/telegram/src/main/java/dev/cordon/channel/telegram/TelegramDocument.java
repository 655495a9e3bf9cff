package dev.cordon.channel.telegram;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Multipart;
import java.io.IOException;
import tools.jackson.databind.node.ObjectNode;

/**
 * A file for {@code sendDocument}: the fields of a {@code sendMessage} body as multipart/form-data
 * fields ({@code text} becomes the {@code caption}, objects are sent as JSON text, as the Bot API
 * takes them in a form), and the file as the {@code document} part.
 */
final class TelegramDocument {
    private TelegramDocument() {}

    /** The form; {@code message} is the JSON body {@code sendMessage} would have had. */
    static Multipart form(ObjectNode message, Attachment file) throws IOException {
        Multipart form = new Multipart();
        for (var field : message.properties()) {
            String name = field.getKey().equals("text") ? "caption" : field.getKey();
            if (name.equals("caption") && field.getValue().asString().isEmpty()) {
                continue;
            }
            form.field(
                    name,
                    field.getValue().isValueNode()
                            ? field.getValue().asString()
                            : BotApi.JSON.writeValueAsString(field.getValue()));
        }
        return form.file("document", file.name(), file.mediaType(), file.readAllBytes());
    }
}
