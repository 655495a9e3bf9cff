package dev.cordon.channel.whatsapp;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.HttpDelivery;
import dev.cordon.core.channel.InboundFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * The file of an {@code image}, {@code document}, {@code audio}, {@code video} or {@code sticker}
 * message. The webhook names it by a media id only; it is fetched when the host opens it: {@code GET
 * /{version}/{media-id}} answers {@code {"url", "mime_type", "sha256", "file_size", "id"}}, and the
 * {@code url} (valid for five minutes, so asked afresh at every open) gives the bytes, both with
 * the access token as a bearer token. The token goes to that URL only over https (loopback in
 * tests). Thread-safe.
 */
final class WhatsAppMedia {
    static final Set<String> KINDS = Set.of("image", "document", "audio", "video", "sticker");
    private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(2);

    private final WhatsAppSettings settings;
    private final HttpClient http;

    WhatsAppMedia(WhatsAppSettings settings, HttpClient http) {
        this.settings = settings;
        this.http = http;
    }

    /** The file of message {@code m}, or empty when it is no media message. */
    Optional<InboundFile> of(JsonNode m) {
        String kind = m.path("type").asString("");
        JsonNode media = m.path(kind);
        if (!KINDS.contains(kind) || !media.isObject()) {
            return Optional.empty();
        }
        String id = media.path("id").asString("");
        String type = media.path("mime_type").asString("application/octet-stream");
        String name = media.path("filename").asString(kind + "-" + id + "." + extension(type));
        return Optional.of(new InboundFile(name, type, -1, () -> open(id, name)));
    }

    private static String extension(String mediaType) {
        String bare = mediaType.split(";")[0].strip().toLowerCase(Locale.ROOT);
        return switch (bare) {
            case "image/jpeg" -> "jpg";
            case "audio/mpeg" -> "mp3";
            case "audio/mp4" -> "m4a";
            case "video/3gpp" -> "3gp";
            default -> bare.matches("[a-z]+/[a-z0-9]{1,8}") ? bare.substring(bare.indexOf('/') + 1) : "bin";
        };
    }

    private InputStream open(String id, String name) throws IOException {
        if (!id.matches("[0-9]{1,32}")) {
            throw new IOException("WhatsApp gave '" + name + "' no media id it can be fetched by");
        }
        HttpResponse<InputStream> lookup = get(URI.create(settings.apiUrl() + "/" + id), LOOKUP_TIMEOUT, name);
        String lookupText = text(lookup.body(), 64 * 1024);
        JsonNode answer = HttpDelivery.json(lookupText);
        String url = answer.path("url").asString(null);
        if (lookup.statusCode() != 200 || url == null) {
            throw failed("media lookup", name, lookup, answer);
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IOException("WhatsApp's media lookup gave '" + name + "' a malformed URL");
        }
        boolean local = "http".equals(uri.getScheme())
                && "127.0.0.1".equals(uri.getHost())
                && "http".equals(settings.apiUrl().getScheme());
        if (!"https".equals(uri.getScheme()) && !local) {
            throw new IOException("WhatsApp's media URL for '" + name + "' is not https; the token was not sent");
        }
        HttpResponse<InputStream> download = get(uri, DOWNLOAD_TIMEOUT, name);
        if (download.statusCode() == 200) {
            return download.body();
        }
        throw failed("media download", name, download, HttpDelivery.json(text(download.body(), 4096)));
    }

    private HttpResponse<InputStream> get(URI uri, Duration timeout, String name) throws IOException {
        try {
            return http.send(
                    HttpRequest.newBuilder(uri)
                            .timeout(timeout)
                            .header("Authorization", "Bearer " + settings.accessToken())
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while fetching '" + name + "' from WhatsApp");
        }
    }

    private static String text(InputStream body, int limit) throws IOException {
        try (body) {
            return new String(body.readNBytes(limit), StandardCharsets.UTF_8);
        }
    }

    /** The error a refused step ends in, with the Graph API's code and words when it gave them. */
    private static IOException failed(String step, String name, HttpResponse<?> response, JsonNode answer) {
        JsonNode error = answer.path("error");
        Optional<Duration> retryAfter = HttpDelivery.retryAfter(response);
        return Attachment.Unavailable.forStatus(
                response.statusCode(),
                "WhatsApp's " + step + " for '" + name + "' answered " + response.statusCode()
                        + (error.isObject()
                                ? " (" + error.path("code").asInt(-1) + " "
                                        + error.path("message").asString("") + ")"
                                : "")
                        + retryAfter
                                .map(d -> ", retry after " + d.toSeconds() + " s")
                                .orElse(""),
                retryAfter.orElse(null));
    }
}
