package dev.cordon.channel.discord;

import dev.cordon.core.channel.Attachment;
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
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * The {@code attachments[]} of a message as files, each fetched when the host opens it from its
 * {@code url} on Discord's CDN. That URL is signed ({@code ex}, {@code is}, {@code hm}: the
 * signature is the credential, and it expires after about a day), so no token goes with it: the
 * bot token never leaves for the CDN. Thread-safe.
 */
final class DiscordAttachments {
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private final HttpClient http;
    /** Whether the REST API is on loopback (tests): then a loopback CDN over plain http is taken too. */
    private final boolean loopback;

    DiscordAttachments(HttpClient http, boolean loopback) {
        this.http = http;
        this.loopback = loopback;
    }

    /** The files {@code attachments} names, often none. */
    List<InboundFile> of(JsonNode attachments) {
        List<InboundFile> files = new ArrayList<>();
        for (JsonNode a : attachments) {
            String name =
                    a.path("filename").asString("attachment-" + a.path("id").asString(""));
            String url = a.path("url").asString("");
            files.add(new InboundFile(
                    name,
                    a.path("content_type").asString("application/octet-stream"),
                    a.path("size").asLong(-1),
                    () -> open(url, name)));
        }
        return files;
    }

    private InputStream open(String url, String name) throws IOException {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IOException("Discord gave '" + name + "' a malformed URL");
        }
        boolean local = "http".equals(uri.getScheme()) && "127.0.0.1".equals(uri.getHost());
        if (uri.getHost() == null || !("https".equals(uri.getScheme()) || loopback && local)) {
            throw new IOException("Discord gave '" + name + "' a URL that is not https; it was not fetched");
        }
        HttpResponse<InputStream> response;
        try {
            response = http.send(
                    HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while downloading '" + name + "' from Discord");
        }
        if (response.statusCode() == 200) {
            return response.body();
        }
        String said;
        try (InputStream in = response.body()) {
            said = new String(in.readNBytes(300), StandardCharsets.UTF_8).strip();
        }
        Duration retryAfter = response.headers()
                .firstValue("Retry-After")
                .map(DiscordAttachments::seconds)
                .orElse(null);
        throw Attachment.Unavailable.forStatus(
                response.statusCode(),
                "Discord's CDN answered " + response.statusCode() + " for '" + name + "'"
                        + (said.isEmpty() ? "" : " (" + said + ")")
                        + response.headers()
                                .firstValue("Retry-After")
                                .map(s -> ", retry after " + s + " s")
                                .orElse("")
                        + (response.statusCode() == 404
                                ? ": the link expired (after about a day) or the file was deleted"
                                : ""),
                retryAfter);
    }

    /** {@code Retry-After} in seconds (Discord sends decimals), or null when it is no number. */
    private static Duration seconds(String value) {
        try {
            return Duration.ofMillis((long) (Double.parseDouble(value.strip()) * 1000));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
