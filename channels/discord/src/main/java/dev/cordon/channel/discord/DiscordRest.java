package dev.cordon.channel.discord;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.Multipart;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The REST calls the adapter makes, over {@code java.net.http}: {@code GET /gateway/bot} (where to
 * connect), {@code GET /channels/{id}} (a channel's type and parent, to spot threads), {@code GET
 * /channels/{id}/messages} (history, to catch up) and {@code POST /channels/{id}/messages}. Every answer is classified ({@link Answer}).
 *
 * <p>Rate limits: Discord says in {@code X-RateLimit-Remaining} and {@code X-RateLimit-Reset-After}
 * how much of a route's bucket is left. A call to a route whose bucket is spent waits until it
 * refills (in line, when that is at most {@link #MAX_INLINE_WAIT}; else it is a {@link
 * Answer.Retry}), so the adapter does not run into 429s it could foresee. A 429 still happens
 * (shared buckets, the global limit): its {@code retry_after} (seconds, a float) is obeyed, and a
 * global one holds every route.
 *
 * <p>Thread-safe; every call blocks. The token never appears in a reason.
 */
final class DiscordRest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** The longest wait for a spent bucket made inside a call rather than handed back as a retry. */
    static final Duration MAX_INLINE_WAIT = Duration.ofSeconds(5);

    /** What became of one call. */
    sealed interface Answer {
        /** 2xx, with the body (an empty object if there was none). */
        record Ok(JsonNode body) implements Answer {}

        /** Transient (429, 5xx, network): try again after {@code after}. */
        record Retry(Duration after, String reason) implements Answer {}

        /**
         * Permanent: the same request would fail again.
         *
         * @param status the HTTP status (400, 401, 403, 404 …)
         * @param code Discord's JSON error code ({@code 10003} Unknown Channel, {@code 50001} Missing
         *     Access …), 0 if none
         */
        record Refused(int status, int code, String reason) implements Answer {}
    }

    private final HttpClient http;
    private final DiscordSettings settings;
    private final Backoff backoff;
    private final Clock clock;
    /** Route → when its bucket has room again. {@link #GLOBAL} holds every route. */
    private final Map<String, Instant> spent = new ConcurrentHashMap<>();

    private static final String GLOBAL = "global";

    /**
     * @param backoff the wait after a 5xx or a network failure, which say nothing of when to come back
     * @param clock tells when a spent bucket refills
     */
    DiscordRest(HttpClient http, DiscordSettings settings, Backoff backoff, Clock clock) {
        this.http = http;
        this.settings = settings;
        this.backoff = backoff;
        this.clock = clock;
    }

    /** {@code GET /gateway/bot}: the gateway's URL; fails with 401 for a token Discord does not know. */
    Answer gatewayBot() {
        return call("GET", "gateway/bot", "gateway/bot", null);
    }

    /** {@code GET /channels/{id}}: its {@code type} and, for a thread, {@code parent_id}. */
    Answer channel(String id) {
        return call("GET", "channels/" + id, "channels/" + id, null);
    }

    /** {@code POST /channels/{id}/messages} with {@code body}; the answer is the message Discord stored. */
    Answer createMessage(String channelId, ObjectNode body) {
        String path = "channels/" + channelId + "/messages";
        return call("POST", path, "", "POST " + path, body);
    }

    /**
     * {@code POST /interactions/{id}/{token}/callback}: the answer to an interaction, due within 3 s
     * of it (type 6 DEFERRED_UPDATE_MESSAGE acknowledges a click and changes nothing; type 4 answers
     * with a message).
     */
    Answer interactionCallback(String id, String token, ObjectNode body) {
        return call("POST", "interactions/" + id + "/" + token + "/callback", "interactions", body);
    }

    /**
     * {@code POST /channels/{id}/messages} with a file: multipart/form-data, {@code body} as {@code
     * payload_json} naming the file as attachment 0, the bytes as {@code files[0]}. Same rate-limit
     * bucket as {@link #createMessage}.
     */
    Answer createMessage(String channelId, ObjectNode body, Attachment file) throws java.io.IOException {
        String path = "channels/" + channelId + "/messages";
        body.putArray("attachments").addObject().put("id", 0).put("filename", file.name());
        Multipart form = new Multipart()
                .field("payload_json", body.toString())
                .file("files[0]", file.name(), file.mediaType(), file.readAllBytes());
        return call("POST", path, "", "POST " + path, null, form);
    }

    /** {@code GET /channels/{id}/messages?after=ID&limit=100}: up to 100 messages after {@code after}. */
    Answer messagesAfter(String channelId, String after) {
        String path = "channels/" + channelId + "/messages";
        return call("GET", path, "?after=" + after + "&limit=100", path, null);
    }

    private Answer call(String method, String path, String route, ObjectNode body) {
        return call(method, path, "", route, body);
    }

    private Answer call(String method, String path, String query, String route, ObjectNode body) {
        return call(method, path, query, route, body, null);
    }

    private Answer call(String method, String path, String query, String route, ObjectNode body, Multipart form) {
        if (!path.matches("[A-Za-z0-9/_-]+") || !query.matches("(\\?[a-z_]+=[0-9]+(&[a-z_]+=[0-9]+)*)?")) {
            return new Answer.Refused(400, 0, "not a Discord id: " + path + query);
        }
        Answer waited = waitForRoom(route);
        if (waited != null) {
            return waited;
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(settings.api().resolve(URI.create(path + query)))
                .timeout(TIMEOUT)
                .header("Authorization", "Bot " + settings.token())
                // Discord asks bots for "DiscordBot ($url, $version)"; Cordon has no public URL to name yet.
                .header("User-Agent", "DiscordBot (cordon, 0.1.0)");
        if (form != null) {
            request.header("Content-Type", form.contentType()).method(method, form.publisher());
        } else if (body != null) {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return new Answer.Retry(backoff.next(), method + " " + path + ": cannot reach Discord: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer.Retry(Duration.ofSeconds(5), method + " " + path + ": interrupted");
        }
        return classify(method + " " + path, route, response);
    }

    /** Null if the route's bucket has room (perhaps after a short wait); else when to try again. */
    private Answer waitForRoom(String route) {
        Instant now = clock.instant();
        Instant until = later(spent.get(route), spent.get(GLOBAL));
        if (until == null || !until.isAfter(now)) {
            return null;
        }
        Duration wait = Duration.between(now, until);
        if (wait.compareTo(MAX_INLINE_WAIT) > 0) {
            return new Answer.Retry(
                    wait, route + ": Discord's rate limit for it is spent for " + wait.toMillis() + " ms");
        }
        try {
            Thread.sleep(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer.Retry(wait, route + ": interrupted while waiting for the rate limit");
        }
        return null;
    }

    private static Instant later(Instant a, Instant b) {
        return a == null ? b : b == null || a.isAfter(b) ? a : b;
    }

    private Answer classify(String call, String route, HttpResponse<String> response) {
        JsonNode json;
        try {
            json = response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
        } catch (JacksonException e) {
            json = JSON.createObjectNode();
        }
        int status = response.statusCode();
        remember(route, response, json);
        if (status >= 200 && status < 300) {
            backoff.reset();
            return new Answer.Ok(json);
        }
        if (status == 429) {
            Duration after = retryAfter(response, json);
            return new Answer.Retry(
                    after,
                    call + ": rate limited by Discord (429"
                            + (json.path("global").asBoolean(false) ? ", global" : "") + "), retry after "
                            + after.toMillis() + " ms");
        }
        if (status >= 500) {
            return new Answer.Retry(backoff.next(), call + ": Discord answered HTTP " + status);
        }
        int code = json.path("code").asInt(0);
        String message = json.path("message").asString("HTTP " + status);
        return new Answer.Refused(
                status,
                code,
                call + ": Discord refused it: " + status + " " + message + " (code " + code + ")" + hint(status, code));
    }

    /** Notes when the route's bucket (or, after a global 429, every route) has room again. */
    private void remember(String route, HttpResponse<String> response, JsonNode json) {
        Instant now = clock.instant();
        if (response.statusCode() == 429) {
            Instant until = now.plus(retryAfter(response, json));
            boolean global = json.path("global").asBoolean(false)
                    || response.headers().firstValue("X-RateLimit-Global").isPresent();
            spent.put(global ? GLOBAL : route, until);
            return;
        }
        String remaining =
                response.headers().firstValue("X-RateLimit-Remaining").orElse(null);
        Duration resetAfter =
                seconds(response.headers().firstValue("X-RateLimit-Reset-After").orElse(null));
        if ("0".equals(remaining) && resetAfter != null) {
            spent.put(route, now.plus(resetAfter));
        } else {
            spent.remove(route);
        }
    }

    private static Duration retryAfter(HttpResponse<?> response, JsonNode json) {
        Duration fromBody =
                json.has("retry_after") ? seconds(json.get("retry_after").asString()) : null;
        if (fromBody != null) {
            return fromBody;
        }
        Duration fromHeader =
                seconds(response.headers().firstValue("Retry-After").orElse(null));
        return fromHeader != null ? fromHeader : Duration.ofSeconds(5);
    }

    /** Seconds as Discord writes them ({@code 1.337}), or null if it is not such a number. */
    static Duration seconds(String text) {
        if (text == null || !text.strip().matches("\\d{1,7}(\\.\\d{1,6})?")) {
            return null;
        }
        return Duration.ofMillis((long) Math.ceil(Double.parseDouble(text.strip()) * 1000));
    }

    private static String hint(int status, int code) {
        return switch (code) {
            case 10003 -> ": the channel is gone, or the bot cannot see it";
            case 50001 -> ": the bot has no access to the channel; give its role View Channel there";
            case 50013 ->
                ": the bot lacks a permission there; give its role Send Messages (and Send Messages in Threads)";
            case 50007 -> ": the person does not accept direct messages from the bot";
            case 50083 -> ": the thread is archived";
            default ->
                status == 401
                        ? ": the bot token is wrong or was reset; store the new one with cordon secret set NAME"
                                + " --host-only and restart"
                        : "";
        };
    }
}
