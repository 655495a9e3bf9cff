package dev.cordon.testkit;

import com.sun.net.httpserver.HttpExchange;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A receiver of Cordon's webhook replies on loopback: it takes {@code POST /...} with a JSON body,
 * answers {@code {"id": "reply-N"}} and records each with its headers. Like a careful receiver it
 * keeps the {@code Idempotency-Key}s it saw: a POST with a known key is answered with the first
 * one's id and not recorded again. {@link #failNext} queues failures (a status and an optional
 * {@code Retry-After}) for the next POSTs. Thread-safe.
 */
public final class FakeReplyTarget implements AutoCloseable {
    /** One reply as received: its headers (names lower case) and JSON body. */
    public record Received(Map<String, String> headers, JsonNode body, String rawBody) {
        public String header(String name) {
            return headers.get(name.toLowerCase(java.util.Locale.ROOT));
        }
    }

    private record Failure(int status, String retryAfter) {}

    private final JsonHttpFake<Received> http;
    private final Queue<Failure> failures = new ArrayDeque<>();
    private final Map<String, String> seenKeys = new HashMap<>();
    private int posts;

    private FakeReplyTarget() {
        http = new JsonHttpFake<>(this::handle);
    }

    /** @throws UncheckedIOException if no loopback port can be bound */
    public static FakeReplyTarget start() {
        return new FakeReplyTarget();
    }

    /** The URL to configure as {@code reply_url}. */
    public URI url() {
        return http.url().resolve("/cordon-replies");
    }

    /** The next {@code count} POSTs get {@code status}, with {@code Retry-After: retryAfter} if not null. */
    public synchronized void failNext(int count, int status, String retryAfter) {
        for (int i = 0; i < count; i++) {
            failures.add(new Failure(status, retryAfter));
        }
    }

    /** POSTs received, failed ones included. */
    public synchronized int posts() {
        return posts;
    }

    private JsonHttpFake.Answer handle(HttpExchange exchange, ObjectNode body) {
        synchronized (this) {
            posts++;
            if (!exchange.getRequestMethod().equals("POST") || body == null) {
                return error(400, "expected a POST of a JSON object");
            }
            Failure f = failures.poll();
            if (f != null) {
                if (f.retryAfter() != null) {
                    exchange.getResponseHeaders().set("Retry-After", f.retryAfter());
                }
                return error(f.status(), "injected failure");
            }
            String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
            if (key != null && seenKeys.containsKey(key)) {
                return new JsonHttpFake.Answer(
                        200, JsonHttpFake.JSON.createObjectNode().put("id", seenKeys.get(key)));
            }
            String id = "reply-" + (seenKeys.size() + 1);
            if (key != null) {
                seenKeys.put(key, id);
            }
            Map<String, String> headers = new HashMap<>();
            exchange.getRequestHeaders()
                    .forEach((name, values) -> headers.put(name.toLowerCase(java.util.Locale.ROOT), values.getFirst()));
            http.sent(new Received(
                    Map.copyOf(headers),
                    body,
                    new String(
                            (byte[]) exchange.getAttribute(JsonHttpFake.RAW_BODY),
                            java.nio.charset.StandardCharsets.UTF_8)));
            return new JsonHttpFake.Answer(
                    200, JsonHttpFake.JSON.createObjectNode().put("id", id));
        }
    }

    private static JsonHttpFake.Answer error(int status, String why) {
        return new JsonHttpFake.Answer(
                status, JsonHttpFake.JSON.createObjectNode().put("error", why));
    }

    /** The next reply received that no test has taken yet, waiting at most {@code wait}. */
    public Received nextReceived(Duration wait) throws InterruptedException {
        return http.nextSent(wait);
    }

    /** Every reply received (once per idempotency key), in order. */
    public List<Received> received() {
        return http.sent();
    }

    @Override
    public void close() {
        http.close();
    }
}
