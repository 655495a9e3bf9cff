package dev.cordon.testkit;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Events API side of {@link FakeSlack}: Slack POSTing each event to an app's Request URL, as its
 * documentation describes. The body is the {@code event_callback} payload, signed with the app's
 * signing secret: {@code X-Slack-Request-Timestamp} (Unix seconds) and {@code X-Slack-Signature:
 * v0=HEX} (HMAC-SHA256 of {@code v0:TIMESTAMP:BODY}, computed here with the JDK alone). An answer
 * that is not 2xx within 3 s is a failure, retried up to three times ({@code X-Slack-Retry-Num} 1
 * to 3, {@code X-Slack-Retry-Reason} {@code http_error} or {@code http_timeout}); Slack waits
 * nothing, 1 min and 5 min, tests may shorten that. Events go out one at a time, in order.
 *
 * <p>With an Interactivity Request URL ({@link #interactivity}), a click on a button ({@link
 * FakeSlack#press}) is POSTed there as Slack does: {@code application/x-www-form-urlencoded}, one
 * field {@code payload} holding the {@code block_actions} JSON, signed the same way over the
 * form-encoded body. Slack never sends an interaction again: an answer that is not 2xx within 3 s is
 * shown to the person as a failed click. Clicks go out in order with the events.
 *
 * <p>Thread-safe.
 */
public final class FakeSlackEvents implements AutoCloseable {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Slack gives up on an answer after this long. */
    static final Duration ANSWER_WITHIN = Duration.ofSeconds(3);

    private final URI requestUrl;
    private final String signingSecret;
    private final HttpClient client = HttpClient.newHttpClient();
    private final ScheduledExecutorService sender =
            Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().factory());
    private final Map<String, ObjectNode> payloads = new HashMap<>();
    private final Map<String, List<Integer>> answers = new HashMap<>();
    private final Map<String, String> clicks = new HashMap<>();
    private volatile URI interactivityUrl;
    private volatile List<Duration> retryDelays = List.of(Duration.ZERO, Duration.ofMinutes(1), Duration.ofMinutes(5));

    FakeSlackEvents(URI requestUrl, String signingSecret) {
        this.requestUrl = requestUrl;
        this.signingSecret = signingSecret;
    }

    /** The waits before the first, second and third retry (Slack's: none, 1 min, 5 min). */
    public void retryDelays(Duration first, Duration second, Duration third) {
        retryDelays = List.of(first, second, third);
    }

    /** Turns Interactivity on, with {@code url} as its Request URL; returns this. */
    public FakeSlackEvents interactivity(URI url) {
        interactivityUrl = url;
        return this;
    }

    /**
     * Queues the click {@code payload} (a {@code block_actions}) for its one POST to the
     * Interactivity Request URL; {@link #answers} lists the answer under its {@code trigger_id}.
     *
     * @throws IllegalStateException if Interactivity is off: Slack tells the person the app cannot
     *     take clicks, and sends nothing
     */
    void interact(ObjectNode payload) {
        if (interactivityUrl == null) {
            throw new IllegalStateException("Interactivity is off for this app: no Request URL to send the click to");
        }
        String triggerId = payload.path("trigger_id").asString();
        String body = form(payload.toString());
        synchronized (this) {
            clicks.put(triggerId, body);
        }
        sender.execute(() -> {
            int status = status(() -> sendClick(body, now(), signature(Long.parseLong(now()), body)));
            synchronized (this) {
                answers.computeIfAbsent(triggerId, k -> new ArrayList<>()).add(status);
            }
        });
    }

    /** {@code payload=JSON}, form-encoded as Slack sends an interaction. */
    public static String form(String json) {
        return "payload=" + URLEncoder.encode(json, StandardCharsets.UTF_8);
    }

    /** The form-encoded body of the click {@code triggerId} as Slack sent it. */
    public synchronized String click(String triggerId) {
        return clicks.get(triggerId);
    }

    /** POSTs a form {@code body} to the Interactivity Request URL with the timestamp and signature given (attacks). */
    public HttpResponse<String> sendClick(String body, String timestamp, String signature) {
        return post(interactivityUrl, "application/x-www-form-urlencoded", body, timestamp, signature, Map.of());
    }

    /** Queues {@code payload} (an {@code event_callback}) for delivery, after those queued before it. */
    void deliver(ObjectNode payload) {
        synchronized (this) {
            payloads.put(payload.path("event_id").asString(), payload);
        }
        sender.execute(() -> attempt(payload, 0));
    }

    private void attempt(ObjectNode payload, int retry) {
        int status = post(payload.toString(), retry, retry == 0 ? null : "http_error");
        synchronized (this) {
            answers.computeIfAbsent(payload.path("event_id").asString(), k -> new ArrayList<>())
                    .add(status);
        }
        if (status / 100 != 2 && retry < retryDelays.size()) {
            sender.schedule(
                    () -> attempt(payload, retry + 1), retryDelays.get(retry).toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Sends event {@code eventId} again now, as Slack's retry {@code retryNum} for {@code reason}
     * ({@code http_timeout}, {@code http_error}); returns the HTTP status (0: no answer in 3 s).
     */
    public int redeliver(String eventId, int retryNum, String reason) {
        ObjectNode payload;
        synchronized (this) {
            payload = payloads.get(eventId);
        }
        if (payload == null) {
            throw new IllegalArgumentException("no event " + eventId + " was sent");
        }
        return post(payload.toString(), retryNum, reason);
    }

    /** The {@code url_verification} Slack sends when the Request URL is entered; the answer. */
    public HttpResponse<String> verifyUrl(String challenge) {
        String body = JSON.createObjectNode()
                .put("token", "Jhj5dZrVaK7ZwHHjRyZWjbDl")
                .put("challenge", challenge)
                .put("type", "url_verification")
                .toString();
        long now = System.currentTimeMillis() / 1000;
        return send(body, Long.toString(now), signature(now, body), Map.of());
    }

    /** POSTs {@code body} with the timestamp and signature given (attacks: forged, stale, unsigned). */
    public HttpResponse<String> send(String body, String timestamp, String signature, Map<String, String> headers) {
        return post(requestUrl, "application/json", body, timestamp, signature, headers);
    }

    private HttpResponse<String> post(
            URI url, String contentType, String body, String timestamp, String signature, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(url)
                .timeout(ANSWER_WITHIN)
                .header("Content-Type", contentType)
                .header("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (timestamp != null) {
            request.header("X-Slack-Request-Timestamp", timestamp);
        }
        if (signature != null) {
            request.header("X-Slack-Signature", signature);
        }
        headers.forEach(request::header);
        try {
            return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code v0=} and the hex HMAC-SHA256 of {@code v0:timestamp:body} with the signing secret. */
    public String signature(long timestamp, String body) {
        return "v0=" + FakeGitHub.hmac(signingSecret, "v0:" + timestamp + ":" + body);
    }

    /** The payload of event {@code eventId} as Slack sent it. */
    public synchronized String payload(String eventId) {
        return payloads.get(eventId).toString();
    }

    /**
     * The statuses the app answered to each delivery of {@code eventId}, retries included, or to the
     * click whose {@code trigger_id} it is (0: no answer in 3 s).
     */
    public synchronized List<Integer> answers(String eventId) {
        return List.copyOf(answers.getOrDefault(eventId, List.of()));
    }

    /** The ids of the events sent, in no particular order. */
    public synchronized List<String> eventIds() {
        return List.copyOf(payloads.keySet());
    }

    private int post(String body, int retry, String reason) {
        Map<String, String> headers = retry == 0
                ? Map.of()
                : Map.of("X-Slack-Retry-Num", Integer.toString(retry), "X-Slack-Retry-Reason", reason);
        String now = now();
        return status(() -> send(body, now, signature(Long.parseLong(now), body), headers));
    }

    private static String now() {
        return Long.toString(System.currentTimeMillis() / 1000);
    }

    /** The status of the answer, 0 if none came within 3 s, -1 if the connection failed. */
    private static int status(java.util.function.Supplier<HttpResponse<String>> request) {
        try {
            return request.get().statusCode();
        } catch (java.io.UncheckedIOException e) {
            if (e.getCause() instanceof HttpTimeoutException) {
                return 0;
            }
            return -1;
        }
    }

    @Override
    public void close() {
        sender.shutdownNow();
    }
}
