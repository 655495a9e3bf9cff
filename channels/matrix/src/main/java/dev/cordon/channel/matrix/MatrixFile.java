package dev.cordon.channel.matrix;

import dev.cordon.core.channel.Attachment;
import tools.jackson.databind.node.ObjectNode;

/**
 * The {@code m.file} message for an uploaded file. The text goes in {@code body} as the caption,
 * with the name in {@code filename} (Matrix 1.10 media captions); without text, the body is the
 * name, which older clients show as before.
 */
final class MatrixFile {
    private MatrixFile() {}

    static ObjectNode content(String text, Attachment file, String mxc) {
        ObjectNode content = ClientApi.object()
                .put("msgtype", "m.file")
                .put("body", text.isEmpty() ? file.name() : text)
                .put("filename", file.name())
                .put("url", mxc);
        content.putObject("info").put("mimetype", file.mediaType()).put("size", file.size());
        return content;
    }
}
