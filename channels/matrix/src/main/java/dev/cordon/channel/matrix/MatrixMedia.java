package dev.cordon.channel.matrix;

import dev.cordon.core.channel.InboundFile;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * The file of an {@code m.image}, {@code m.file}, {@code m.audio} or {@code m.video} message: its
 * {@code url} ({@code mxc://SERVER/MEDIA_ID}) is fetched when the host opens it, with the
 * authenticated media API ({@link ClientApi#download}). The name is {@code filename}, else {@code
 * body}; with a {@code filename} a different {@code body} is the caption (Matrix 1.10). An
 * end-to-end encrypted file ({@code file} in place of {@code url}) is reported, and its fetch says
 * it cannot be decrypted here. Thread-safe.
 */
final class MatrixMedia {
    static final Set<String> KINDS = Set.of("m.image", "m.file", "m.audio", "m.video");
    /** Server names are host names, IPv4/IPv6 literals and ports; media ids {@code [A-Za-z0-9_-]}. */
    private static final Pattern MXC = Pattern.compile("mxc://([A-Za-z0-9.:\\[\\]-]{1,255})/([A-Za-z0-9_-]{1,255})");

    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private final ClientApi api;

    MatrixMedia(ClientApi api) {
        this.api = api;
    }

    /** The caption of media {@code content}: its body when a {@code filename} names the file apart. */
    static String caption(JsonNode content) {
        String body = content.path("body").asString("");
        String name = content.path("filename").asString(null);
        return name == null || name.equals(body) ? "" : body;
    }

    /** The file of message {@code content}, or empty when it is no media message. */
    Optional<InboundFile> of(JsonNode content) {
        if (!KINDS.contains(content.path("msgtype").asString(""))) {
            return Optional.empty();
        }
        String name = content.path("filename").asString(content.path("body").asString("file"));
        boolean encrypted = content.path("file").isObject();
        JsonNode info = content.path("info");
        String url = encrypted
                ? content.path("file").path("url").asString("")
                : content.path("url").asString("");
        return Optional.of(new InboundFile(
                name,
                info.path("mimetype").asString("application/octet-stream"),
                info.path("size").asLong(-1),
                () -> {
                    if (encrypted) {
                        throw new IOException("'" + name + "' is end-to-end encrypted (a Matrix `file`, not a `url`),"
                                + " and Cordon cannot decrypt it: it was not fetched");
                    }
                    Matcher mxc = MXC.matcher(url);
                    if (!mxc.matches()) {
                        throw new IOException("'" + name + "' has no mxc:// URL Cordon can fetch (" + url + ")");
                    }
                    return api.download(mxc.group(1), mxc.group(2), name, TIMEOUT);
                }));
    }
}
