package dev.cordon.channel.slack;

import dev.cordon.core.channel.InboundFile;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * The files of a message event ({@code files[]}, on a {@code file_share} message or a plain one),
 * the same in Socket Mode and the Events API. Each is fetched when the host opens it, from its
 * {@code url_private_download} (else {@code url_private}) with the bot token ({@link
 * SlackApi#download}). A file Slack gives no URL for (deleted, hidden on a free plan past its
 * history limit) is still reported, and its fetch says why it cannot be had. Thread-safe.
 */
final class SlackFiles {
    private final SlackApi api;

    SlackFiles(SlackApi api) {
        this.api = api;
    }

    /** The files of {@code event}, often none. */
    List<InboundFile> of(JsonNode event) {
        List<InboundFile> files = new ArrayList<>();
        for (JsonNode f : event.path("files")) {
            String name = f.path("name")
                    .asString(f.path("title").asString(f.path("id").asString("file")));
            String url = f.path("url_private_download")
                    .asString(f.path("url_private").asString(null));
            String mode = f.path("mode").asString("hosted");
            files.add(new InboundFile(
                    name,
                    f.path("mimetype").asString("application/octet-stream"),
                    f.path("size").asLong(-1),
                    () -> {
                        if (url == null) {
                            throw new IOException("Slack gives no download URL for '" + name + "' (mode " + mode
                                    + ": deleted, or hidden past a free workspace's history limit)");
                        }
                        return api.download(url, name);
                    }));
        }
        return files;
    }
}
