package dev.cordon.channel.telegram;

import dev.cordon.channel.telegram.BotApi.Reply;
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
    /** Fields that hold one file; an animation also comes as a {@code document}, read once. */
    private static final List<String> KINDS = List.of("animation", "document", "audio", "video", "voice", "video_note");

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
        for (String kind : KINDS) {
            if (message.has(kind) && !(kind.equals("document") && message.has("animation"))) {
                files.add(file(message.get(kind), kind, extension(kind), defaultType(kind)));
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

    private static String extension(String kind) {
        return switch (kind) {
            case "voice" -> "ogg";
            case "audio" -> "mp3";
            case "video", "video_note", "animation" -> "mp4";
            default -> "bin";
        };
    }

    private static String defaultType(String kind) {
        return switch (kind) {
            case "voice" -> "audio/ogg";
            case "audio" -> "audio/mpeg";
            case "video", "video_note", "animation" -> "video/mp4";
            default -> "application/octet-stream";
        };
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
        }
        return switch (reply) {
            case Reply.Ok ok -> api.download(ok.result().path("file_path").asString(""), DOWNLOAD_TIMEOUT);
            case Reply.Error e ->
                throw new IOException("Telegram's getFile for '" + name + "' answered " + e.code() + " ("
                        + e.description() + ")"
                        + (e.retryAfter() == null
                                ? ""
                                : ", retry after " + e.retryAfter().toSeconds() + " s"));
        };
    }
}
