package dev.cordon.channel.whatsapp;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.DeliveryResult;
import java.io.IOException;
import tools.jackson.databind.node.ObjectNode;

/**
 * A file an agent sends ({@code send_file}), in the Cloud API's two steps: the bytes uploaded to
 * the media store ({@link GraphApi#upload}), which answers a media id, then a {@code document}
 * message naming that id, the file's name and the text as its caption. The media id is not kept: a
 * delivery retried after a failed second step uploads again (Meta drops unused media after 30 days).
 * A file WhatsApp does not take (over 100 MB, or a type or size its upload refuses: {@link GraphApi})
 * is {@link DeliveryResult.FileRefused}: the host then sends the text with a link in its place.
 */
final class WhatsAppDocument {
    /** WhatsApp's limit for a document. */
    static final long MAX_BYTES = 100L * 1024 * 1024;
    /** WhatsApp's limit for a media message's caption, in characters. */
    static final int MAX_CAPTION = 1024;

    private WhatsAppDocument() {}

    /**
     * Uploads {@code file} and sends it to the person in {@code message} (a {@code /messages} body
     * with its recipient and reply context set) with {@code caption}. Blocks for both calls.
     */
    static DeliveryResult send(GraphApi api, ObjectNode message, String caption, Attachment file) {
        if (file.size() > MAX_BYTES) {
            return new DeliveryResult.FileRefused("the file " + file.name() + " has " + file.size()
                    + " bytes; WhatsApp takes documents of at most 100 MB");
        }
        if (caption.length() > MAX_CAPTION) {
            return new DeliveryResult.Failed("the caption of " + file.name() + " has " + caption.length()
                    + " characters; WhatsApp shows at most " + MAX_CAPTION + " under a document");
        }
        DeliveryResult uploaded;
        try {
            uploaded = api.upload(file);
        } catch (IOException e) {
            return new DeliveryResult.Failed("the file " + file.name() + " cannot be read on the host: " + e);
        }
        if (!(uploaded instanceof DeliveryResult.Delivered media)) {
            return uploaded;
        }
        ObjectNode document = message.put("type", "document").putObject("document");
        document.put("id", media.platformMessageId()).put("filename", file.name());
        if (!caption.isEmpty()) {
            document.put("caption", caption);
        }
        return api.send(message);
    }
}
