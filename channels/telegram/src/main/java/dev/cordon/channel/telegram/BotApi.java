package dev.cordon.channel.telegram;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Multipart;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
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
 * A thin Bot API client: each method is a POST of a JSON body to {@code BASE/bot<token>/METHOD},
 * answered by the envelope {@code {"ok":true,"result":...}} or {@code
 * {"ok":false,"error_code":N,"description":"...","parameters":{...}}}. The token is part of the
 * URL, so no URL and no message that could carry it ever leaves this class. Thread-safe.
 */
final class BotApi {
    static final JsonMapper JSON = JsonMapper.builder().build();

    /** The Bot API's answer to one call. */
    sealed interface Reply {
        record Ok(JsonNode result) implements Reply {}

        /**
         * @param retryAfter {@code parameters.retry_after} (flood control), or null
         * @param migrateTo {@code parameters.migrate_to_chat_id} (a group became a supergroup), or null
         */
        record Error(int code, String description, Duration retryAfter, String migrateTo) implements Reply {}
    }

    private final URI base;
    private final String token;
    private final HttpClient http;

    BotApi(URI base, String token, HttpClient http) {
        this.base = base;
        this.token = token;
        this.http = http;
    }

    static ObjectNode object() {
        return JSON.createObjectNode();
    }

    /**
     * Calls {@code method} and blocks for its answer, at most {@code timeout}.
     *
     * @throws IOException if the API could not be reached or its answer was cut off; the message
     *     never contains the token
     * @throws InterruptedException if the calling thread is interrupted (the adapter is closing)
     */
    Reply call(String method, ObjectNode body, Duration timeout) throws IOException, InterruptedException {
        return send(
                method,
                "application/json",
                HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)),
                timeout);
    }

    /**
     * Calls {@code method} with a multipart/form-data body (an upload) and blocks for its answer, at
     * most {@code timeout}. Fails as {@link #call} does.
     */
    Reply upload(String method, Multipart form, Duration timeout) throws IOException, InterruptedException {
        return send(method, form.contentType(), form.publisher(), timeout);
    }

    private Reply send(String method, String contentType, HttpRequest.BodyPublisher body, Duration timeout)
            throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/bot" + token + "/" + method))
                .timeout(timeout)
                .header("Content-Type", contentType)
                .POST(body)
                .build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IOException("Telegram " + method + " failed: " + scrub(String.valueOf(e)));
        }
        return read(method, response.statusCode(), response.body());
    }

    /**
     * Opens the file at {@code filePath} (from {@code getFile}): {@code GET BASE/file/bot<token>/PATH}.
     * Blocks until the answer's head is in; the caller reads and closes the stream.
     *
     * @throws IOException if the file server could not be reached or did not answer 200, with its
     *     words (never the token)
     */
    InputStream download(String filePath, Duration timeout) throws IOException {
        if (!filePath.matches("[A-Za-z0-9_./-]{1,256}") || filePath.contains("..")) {
            throw new IOException("Telegram's getFile gave a file_path that cannot be fetched: '" + filePath + "'");
        }
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/file/bot" + token + "/" + filePath))
                .timeout(timeout)
                .GET()
                .build();
        HttpResponse<InputStream> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            // The URL holds the token: the cause is left out, its words scrubbed.
            throw new Attachment.Unavailable("Telegram's file download failed: " + scrub(String.valueOf(e)), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while downloading a file from Telegram");
        }
        if (response.statusCode() == 200) {
            return response.body();
        }
        String text;
        try (InputStream in = response.body()) {
            text = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
        }
        Reply.Error e = read("file download", response.statusCode(), text) instanceof Reply.Error error
                ? error
                : new Reply.Error(response.statusCode(), "HTTP " + response.statusCode(), null, null);
        throw Attachment.Unavailable.forStatus(
                e.code(),
                "Telegram's file download answered " + e.code() + " (" + e.description() + ")"
                        + (e.retryAfter() == null
                                ? ""
                                : ", retry after " + e.retryAfter().toSeconds() + " s"),
                e.retryAfter());
    }

    private Reply read(String method, int status, String text) {
        JsonNode envelope;
        try {
            envelope = JSON.readTree(text);
        } catch (JacksonException e) {
            envelope = null;
        }
        if (envelope == null || !envelope.isObject() || !envelope.has("ok")) {
            return new Reply.Error(
                    status == 200 ? 502 : status,
                    "HTTP " + status + " without a Bot API answer to " + method,
                    null,
                    null);
        }
        if (envelope.path("ok").asBoolean(false)) {
            return new Reply.Ok(envelope.path("result"));
        }
        JsonNode parameters = envelope.path("parameters");
        return new Reply.Error(
                envelope.path("error_code").asInt(status),
                scrub(envelope.path("description").asString("(no description)")),
                parameters.has("retry_after")
                        ? Duration.ofSeconds(parameters.get("retry_after").asLong())
                        : null,
                parameters.has("migrate_to_chat_id")
                        ? parameters.get("migrate_to_chat_id").asString()
                        : null);
    }

    private String scrub(String text) {
        return text.replace(token, "<token>");
    }
}
