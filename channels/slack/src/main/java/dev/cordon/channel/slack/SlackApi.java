package dev.cordon.channel.slack;

import dev.cordon.core.channel.Attachment;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The three Web API methods the adapter calls, over {@code java.net.http}: {@code auth.test} (who
 * the bot is), {@code apps.connections.open} (a Socket Mode URL) and {@code chat.postMessage}.
 * Every answer is classified ({@link Answer}): Slack says {@code ok:false} with an error name in a
 * 200 response, and rate limits with 429 and {@code Retry-After}. Thread-safe; every call blocks.
 */
final class SlackApi {
    static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(2);
    /** When Slack gives no Retry-After. */
    static final Duration DEFAULT_RETRY = Duration.ofSeconds(10);
    /** Errors that mean "try again": Slack's own trouble, not the request's. */
    private static final Set<String> TRANSIENT = Set.of(
            "ratelimited",
            "internal_error",
            "fatal_error",
            "service_unavailable",
            "request_timeout",
            "team_added_to_org");

    /** What became of one call. */
    sealed interface Answer {
        /** {@code ok:true}, with the whole response. */
        record Ok(JsonNode body) implements Answer {}

        /** Transient: try again after {@code after}. */
        record Retry(Duration after, String reason) implements Answer {}

        /** Permanent: the same request would fail again ({@code channel_not_found}, {@code invalid_auth} …). */
        record Refused(String error, String reason) implements Answer {}
    }

    private final HttpClient http;
    private final SlackSettings settings;

    SlackApi(HttpClient http, SlackSettings settings) {
        this.http = http;
        this.settings = settings;
    }

    /** {@code auth.test} with the bot token: its answer names the bot's user id. */
    Answer authTest() {
        return call("auth.test", settings.botToken(), JSON.createObjectNode());
    }

    /** {@code apps.connections.open} with the app-level token: a single-use WebSocket URL. */
    Answer openConnection() {
        return call("apps.connections.open", settings.appToken(), JSON.createObjectNode());
    }

    /** {@code chat.postMessage} with the bot token; {@code threadTs} null for the channel itself. */
    Answer postMessage(String channel, String text, String threadTs) {
        return postMessage(channel, text, threadTs, null);
    }

    /** As {@link #postMessage(String, String, String)}, with Block Kit {@code blocks} (null: none). */
    Answer postMessage(String channel, String text, String threadTs, ArrayNode blocks) {
        ObjectNode body = JSON.createObjectNode()
                .put("channel", channel)
                .put("text", text)
                // Links are not unfurled: Slack's servers would fetch whatever URL the agent wrote.
                .put("unfurl_links", false)
                .put("unfurl_media", false);
        if (threadTs != null) {
            body.put("thread_ts", threadTs);
        }
        if (blocks != null) {
            body.set("blocks", blocks);
        }
        return call("chat.postMessage", settings.botToken(), body);
    }

    /**
     * {@code method} with the bot token and a form-encoded body: the upload methods ({@code
     * files.getUploadURLExternal} takes no JSON).
     */
    Answer callForm(String method, java.util.Map<String, String> fields) {
        StringBuilder form = new StringBuilder();
        fields.forEach((k, v) -> form.append(form.isEmpty() ? "" : "&")
                .append(java.net.URLEncoder.encode(k, java.nio.charset.StandardCharsets.UTF_8))
                .append('=')
                .append(java.net.URLEncoder.encode(v, java.nio.charset.StandardCharsets.UTF_8)));
        return send(
                method,
                HttpRequest.newBuilder(settings.api().resolve(URI.create(method)))
                        .timeout(TIMEOUT)
                        .header("Authorization", "Bearer " + settings.botToken())
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(form.toString()))
                        .build());
    }

    /**
     * Opens a file a person shared: {@code GET url} with the bot token (scope {@code files:read}).
     * The token goes only to the Web API's host or its subdomains ({@code files.slack.com} for
     * {@code slack.com}), over the API's scheme or https: a file hosted elsewhere (an external
     * file) is refused, not fetched. Slack answers a missing or refused token with its login page
     * (200, HTML), which is told from a file by its content type. Blocks until the answer's head
     * is in; the caller reads and closes the stream.
     *
     * @throws IOException naming the file and Slack's answer (status, {@code Retry-After})
     */
    InputStream download(String url, String name) throws IOException {
        URI uri;
        try {
            uri = new URI(url);
        } catch (java.net.URISyntaxException e) {
            throw new IOException("Slack gave '" + name + "' a malformed URL");
        }
        String home = settings.api().getHost();
        String host = uri.getHost();
        if (host == null
                || !(host.equals(home) || host.endsWith("." + home))
                || !(settings.api().getScheme().equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
            throw new IOException("'" + name + "' is not a file Slack hosts (" + uri.getScheme() + "://" + host
                    + "): the bot token goes only to " + home + ", so it was not fetched");
        }
        HttpResponse<InputStream> response;
        try {
            response = http.send(
                    HttpRequest.newBuilder(uri)
                            .timeout(DOWNLOAD_TIMEOUT)
                            .header("Authorization", "Bearer " + settings.botToken())
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while downloading '" + name + "' from Slack");
        }
        String type = response.headers().firstValue("Content-Type").orElse("");
        if (response.statusCode() == 200 && !type.startsWith("text/html")) {
            return response.body();
        }
        response.body().close();
        if (response.statusCode() == 200) {
            throw new IOException("Slack answered its login page (HTML) instead of '" + name
                    + "': the bot token was refused or lacks the files:read scope (add it under OAuth & Permissions"
                    + " and reinstall the app)");
        }
        throw Attachment.Unavailable.forStatus(
                response.statusCode(),
                "Slack answered HTTP " + response.statusCode() + " for '" + name + "'"
                        + (response.statusCode() == 429
                                ? ", retry after " + retryAfter(response).toSeconds() + " s"
                                : ""),
                response.statusCode() == 429 ? retryAfter(response) : null);
    }

    private Answer call(String method, String token, ObjectNode body) {
        return send(
                method,
                HttpRequest.newBuilder(settings.api().resolve(URI.create(method)))
                        .timeout(TIMEOUT)
                        .header("Authorization", "Bearer " + token)
                        .header("Content-Type", "application/json; charset=utf-8")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                        .build());
    }

    private Answer send(String method, HttpRequest request) {
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return new Answer.Retry(DEFAULT_RETRY, method + ": cannot reach Slack: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer.Retry(DEFAULT_RETRY, method + ": interrupted");
        }
        Duration after = retryAfter(response);
        if (response.statusCode() == 429) {
            return new Answer.Retry(
                    after, method + ": rate limited by Slack (429), retry after " + after.toSeconds() + " s");
        }
        if (response.statusCode() >= 500) {
            return new Answer.Retry(after, method + ": Slack answered HTTP " + response.statusCode());
        }
        JsonNode json;
        try {
            json = JSON.readTree(response.body());
        } catch (JacksonException e) {
            return new Answer.Retry(after, method + ": Slack answered HTTP " + response.statusCode() + " without JSON");
        }
        if (json.path("ok").asBoolean(false)) {
            return new Answer.Ok(json);
        }
        String error = json.path("error").asString("unknown_error");
        if (TRANSIENT.contains(error)) {
            return new Answer.Retry(after, method + ": Slack said " + error);
        }
        return new Answer.Refused(error, method + ": Slack refused it: " + error + hint(error));
    }

    private static Duration retryAfter(HttpResponse<?> response) {
        return response.headers()
                .firstValue("Retry-After")
                .map(String::strip)
                .filter(v -> v.matches("\\d{1,6}"))
                .map(v -> Duration.ofSeconds(Math.max(1, Long.parseLong(v))))
                .orElse(DEFAULT_RETRY);
    }

    private static String hint(String error) {
        return switch (error) {
            case "not_in_channel" -> " (invite the bot to the channel: /invite @your-bot)";
            case "channel_not_found" -> " (the channel is gone, or the bot cannot see it)";
            case "is_archived" -> " (the channel is archived)";
            case "invalid_auth", "not_authed", "token_revoked", "account_inactive" ->
                " (check the tokens: cordon secret set NAME --host-only, then restart)";
            case "missing_scope" -> " (add the scope the docs list under OAuth & Permissions and reinstall the app)";
            default -> "";
        };
    }
}
