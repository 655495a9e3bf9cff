package dev.cordon.channel.telegram;

import dev.cordon.channel.telegram.BotApi.Reply;
import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.InboundFile;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * The files of one Bot API {@code Message}: a photo (its largest size), a document, audio, video,
 * voice note, video note or animation. Each is fetched when the host opens it: {@code getFile}
 * gives a {@code file_path} (valid for an hour, so it is asked for afresh at every open), then
 * {@code GET /file/bot<token>/<file_path>} the bytes. Thread-safe.
 */
final class TelegramFiles {
    /** The Bot API lets a bot download files up to 20 MB; {@code getFile} refuses larger ones. */
    static final long DOWNLOAD_LIMIT = 20L * 1024 * 1024;

    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(2);
    /** A field that holds one file, and what to call it when Telegram gives no name or type. */
    private record Kind(String field, String extension, String mediaType) {}

    /** An animation also comes as a {@code document}: read once, as the animation. */
    private static final List<Kind> KINDS = List.of(
            new Kind("animation", "mp4", "video/mp4"),
            new Kind("document", "bin", "application/octet-stream"),
            new Kind("audio", "mp3", "audio/mpeg"),
            new Kind("video", "mp4", "video/mp4"),
            new Kind("voice", "ogg", "audio/ogg"),
            new Kind("video_note", "mp4", "video/mp4"));

    private final BotApi api;

    TelegramFiles(BotApi api) {
        this.api = api;
    }

    /** The files {@code message} carries, usually none or one. */
    List<InboundFile> of(JsonNode message) {
        List<InboundFile> files = new ArrayList<>();
        JsonNode largest = null;
        for (JsonNode size : message.path("photo")) {
            if (largest == null || pixels(size) > pixels(largest)) {
                largest = size;
            }
        }
        if (largest != null) {
            files.add(file(largest, "photo", "jpg", "image/jpeg"));
        }
        for (Kind kind : KINDS) {
            String field = kind.field();
            if (message.has(field) && !(field.equals("document") && message.has("animation"))) {
                files.add(file(message.get(field), field, kind.extension(), kind.mediaType()));
            }
        }
        return files;
    }

    private static long pixels(JsonNode size) {
        return size.path("width").asLong(0) * size.path("height").asLong(0);
    }

    private InboundFile file(JsonNode f, String kind, String extension, String defaultType) {
        String id = f.path("file_id").asString("");
        long size = f.path("file_size").asLong(-1);
        String name = f.path("file_name")
                .asString(kind + "-" + f.path("file_unique_id").asString("file") + "." + extension);
        return new InboundFile(name, f.path("mime_type").asString(defaultType), size, () -> open(id, name, size));
    }

    /** {@code getFile}, then the download; each call a fresh stream. */
    private InputStream open(String fileId, String name, long size) throws IOException {
        if (size > DOWNLOAD_LIMIT) {
            throw new IOException("'" + name + "' is " + size + " bytes: the Telegram Bot API lets a bot download"
                    + " at most 20 MB, so it was not fetched");
        }
        Reply reply;
        try {
            reply = api.call("getFile", BotApi.object().put("file_id", fileId), CALL_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while asking Telegram for '" + name + "'");
        } catch (IOException e) {
            // Telegram could not be reached (the call's words are scrubbed of the token): may pass.
            throw new Attachment.Unavailable(e.getMessage(), null);
        }
        return switch (reply) {
            case Reply.Ok ok -> api.download(ok.result().path("file_path").asString(""), DOWNLOAD_TIMEOUT);
            case Reply.Error e ->
                throw Attachment.Unavailable.forStatus(
                        e.code(),
                        "Telegram's getFile for '" + name + "' answered " + e.code() + " (" + e.description() + ")"
                                + (e.retryAfter() == null
                                        ? ""
                                        : ", retry after " + e.retryAfter().toSeconds() + " s"),
                        e.retryAfter());
        };
    }
}
