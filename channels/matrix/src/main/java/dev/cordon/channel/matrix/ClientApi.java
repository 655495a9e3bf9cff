package dev.cordon.channel.matrix;

import dev.cordon.core.channel.Attachment;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A thin client of the Matrix client-server API (v3): JSON over HTTP with the access token as a
 * bearer token, and errors read from the standard body {@code {"errcode":"M_...","error":"..."}}.
 * Thread-safe.
 */
final class ClientApi {
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final String PREFIX = "/_matrix/client/v3";

    /** The homeserver's answer to one request. */
    sealed interface Reply {
        record Ok(JsonNode body) implements Reply {}

        /** @param retryAfter {@code retry_after_ms} (or the Retry-After header) of a 429, or null */
        record Error(int status, String errcode, String error, Duration retryAfter) implements Reply {
            @Override
            public String toString() {
                return status + " " + errcode + " (" + error + ")";
            }
        }
    }

    private final URI base;
    private final String token;
    private final HttpClient http;

    ClientApi(URI base, String token, HttpClient http) {
        this.base = base;
        this.token = token;
        this.http = http;
    }

    static ObjectNode object() {
        return JSON.createObjectNode();
    }

    /** One path segment, percent-encoded (room ids, event ids and transaction ids carry {@code ! $ : #}). */
    static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /**
     * Sends {@code method} to {@code PREFIX + path} (already encoded) and blocks for the answer.
     *
     * @param body the JSON body, or null for none
     * @throws IOException if the homeserver could not be reached or its answer was cut off
     * @throws InterruptedException if the calling thread is interrupted (the adapter is closing)
     */
    Reply call(String method, String path, ObjectNode body, Duration timeout) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + PREFIX + path))
                .timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .method(
                        method,
                        body == null
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                .build();
        return read(http.send(request, HttpResponse.BodyHandlers.ofString()));
    }

    /**
     * Uploads {@code file} to the content repository ({@code POST /_matrix/media/v3/upload}); its
     * answer's {@code content_uri} is the {@code mxc://} URI a message names it by. Fails as {@link
     * #call} does.
     */
    Reply upload(Attachment file, Duration timeout) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create(base + "/_matrix/media/v3/upload?filename=" + segment(file.name())))
                .timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", file.mediaType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(file.readAllBytes()))
                .build();
        return read(http.send(request, HttpResponse.BodyHandlers.ofString()));
    }

    /**
     * Opens the media {@code mediaId} of {@code serverName} with the authenticated media API
     * ({@code GET /_matrix/client/v1/media/download/SERVER/ID}, Matrix 1.11). A redirect is not
     * followed (the token would go with it). Blocks until the answer's head is in; the caller reads
     * and closes the stream.
     *
     * @param name the file's name, for the error
     * @throws IOException naming the homeserver's answer ({@code 404 M_NOT_FOUND}, a 429's wait)
     */
    InputStream download(String serverName, String mediaId, String name, Duration timeout) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(
                        base + "/_matrix/client/v1/media/download/" + segment(serverName) + "/" + segment(mediaId)))
                .timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .GET()
                .build();
        HttpResponse<InputStream> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while downloading '" + name + "' from the homeserver");
        }
        if (response.statusCode() == 200) {
            return response.body();
        }
        String text;
        try (InputStream in = response.body()) {
            text = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
        }
        JsonNode json;
        try {
            json = JSON.readTree(text);
        } catch (JacksonException e) {
            json = null;
        }
        Reply.Error e = read(response.statusCode(), json, response.headers()) instanceof Reply.Error error
                ? error
                : new Reply.Error(response.statusCode(), "M_UNKNOWN", "HTTP " + response.statusCode(), null);
        throw Attachment.Unavailable.forStatus(
                response.statusCode(),
                "the homeserver answered " + e + " for '" + name + "'"
                        + (e.retryAfter() == null
                                ? ""
                                : ", retry after " + e.retryAfter().toMillis() + " ms"),
                e.retryAfter());
    }

    private static Reply read(HttpResponse<String> response) {
        JsonNode json;
        try {
            json = JSON.readTree(response.body());
        } catch (JacksonException e) {
            json = null;
        }
        return read(response.statusCode(), json, response.headers());
    }

    private static Reply read(int status, JsonNode json, java.net.http.HttpHeaders headers) {
        if (status == 200 && json != null && json.isObject()) {
            return new Reply.Ok(json);
        }
        if (json == null || !json.isObject()) {
            return new Reply.Error(status == 200 ? 502 : status, "M_UNKNOWN", "HTTP " + status + " without JSON", null);
        }
        Duration retry = json.has("retry_after_ms")
                ? Duration.ofMillis(json.get("retry_after_ms").asLong())
                : headers.firstValue("Retry-After")
                        .filter(v -> v.matches("[0-9]{1,6}"))
                        .map(v -> Duration.ofSeconds(Long.parseLong(v)))
                        .orElse(null);
        return new Reply.Error(
                status,
                json.path("errcode").asString("M_UNKNOWN"),
                json.path("error").asString(""),
                retry);
    }
}
