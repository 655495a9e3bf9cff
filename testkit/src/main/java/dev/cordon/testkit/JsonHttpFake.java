package dev.cordon.testkit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * What the fake chat platforms share: a JSON-over-HTTP server on a free loopback port, one virtual
 * thread per request (long polls block their own thread only), and the record of what the bot
 * sent, in order. Thread-safe.
 *
 * @param <S> what a sent message is for the platform
 */
final class JsonHttpFake<S> implements AutoCloseable {
    static final JsonMapper JSON = JsonMapper.builder().build();
    /** The exchange attribute that holds the request body's bytes as received (a signature covers these). */
    static final String RAW_BODY = "cordon.rawBody";

    /** A response: status and JSON body. */
    record Answer(int status, JsonNode body) {}

    /** Answers one request; {@code body} is the request's JSON object (empty if none), or null if it is not one. */
    @FunctionalInterface
    interface Handler {
        Answer handle(HttpExchange exchange, ObjectNode body);
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final LinkedBlockingQueue<S> unread = new LinkedBlockingQueue<>();
    private final List<S> sent = new ArrayList<>();

    /** @throws UncheckedIOException if no loopback port can be bound */
    JsonHttpFake(Handler handler) {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/", exchange -> {
            try (exchange) {
                answer(exchange, handler.handle(exchange, body(exchange)));
            }
        });
        server.start();
    }

    private static ObjectNode body(HttpExchange exchange) throws IOException {
        byte[] bytes = exchange.getRequestBody().readAllBytes();
        exchange.setAttribute(RAW_BODY, bytes);
        if (bytes.length == 0) {
            return JSON.createObjectNode();
        }
        try {
            return JSON.readTree(bytes) instanceof ObjectNode o ? o : null;
        } catch (JacksonException e) {
            return null;
        }
    }

    private static void answer(HttpExchange exchange, Answer answer) throws IOException {
        byte[] out = JSON.writeValueAsBytes(answer.body());
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(answer.status(), out.length);
        exchange.getResponseBody().write(out);
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /**
     * Serves the requests whose path starts with {@code prefix} with {@code handler} instead of as
     * JSON calls: the file downloads, whose answers are bytes.
     */
    void serve(String prefix, Download handler) {
        server.createContext(prefix, exchange -> {
            try (exchange) {
                handler.handle(exchange);
            }
        });
    }

    /** Answers one download request; {@link #bytes} sends the answer. */
    @FunctionalInterface
    interface Download {
        void handle(HttpExchange exchange) throws IOException;
    }

    /** The fields of a raw query string ({@code a=1&b=2}), not decoded; empty for null. */
    static Map<String, String> query(String raw) {
        Map<String, String> fields = new java.util.HashMap<>();
        for (String pair : raw == null ? new String[0] : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                fields.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
        }
        return fields;
    }

    /** Sends {@code body} as the answer, with {@code contentType} and {@code headers}. */
    static void bytes(HttpExchange exchange, int status, String contentType, byte[] body, Map<String, String> headers)
            throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        headers.forEach(exchange.getResponseHeaders()::set);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        exchange.getResponseBody().write(body);
    }

    /** Sends {@code body} as a JSON answer with {@code headers} (a download's error). */
    static void json(HttpExchange exchange, int status, JsonNode body, Map<String, String> headers) throws IOException {
        bytes(exchange, status, "application/json", JSON.writeValueAsBytes(body), headers);
    }

    /** Records a message the bot sent. */
    synchronized void sent(S message) {
        sent.add(message);
        unread.add(message);
    }

    /** The next message the bot sent that no test has taken yet, waiting at most {@code wait}. */
    S nextSent(Duration wait) throws InterruptedException {
        S s = unread.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        if (s == null) {
            throw new AssertionError("the bot sent nothing within " + wait);
        }
        return s;
    }

    /** Every message the bot sent, in order. */
    synchronized List<S> sent() {
        return List.copyOf(sent);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
