package dev.cordon.testkit;

import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.MissingNode;

/**
 * A scripted model server speaking the real Anthropic Messages and OpenAI Chat Completions wire
 * formats over HTTP/1.1 on loopback, faults included. The path picks the format ({@code
 * /v1/messages} or {@code /v1/chat/completions}); {@link #enqueue scripted responses} are served in
 * order whatever the format; with the queue empty it echoes ({@code You said: <last user text>}).
 *
 * <p>Like the real APIs it rejects, with a real-format 401, requests without the {@link
 * #requireApiKey key}, and with a 400 {@code invalid_request_error}, requests that break the
 * conversation rules (a tool call not answered right after it, a result for no call, missing
 * fields); rejections take nothing from the queue, and 400s are listed in {@link #violations()}.
 *
 * <p>Thread-safe. One virtual thread per connection; connections are kept alive between requests
 * unless a fault drops them. {@link #close()} drops every connection and ends any stall early.
 */
public final class FakeModelServer implements AutoCloseable {
    private static final String ANTHROPIC_PATH = "/v1/messages";
    private static final Set<String> OPENAI_PATHS = Set.of("/v1/chat/completions", "/chat/completions");

    private final ServerSocket listener;
    private final Queue<Scripted> script = new ArrayDeque<>();
    private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
    private final List<String> violations = new CopyOnWriteArrayList<>();
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicLong counter = new AtomicLong();
    private final Dialect.Ids ids = prefix -> prefix + "fake" + String.format("%04d", counter.incrementAndGet());
    private final AnthropicDialect anthropic = new AnthropicDialect();
    private final OpenAiDialect openai = new OpenAiDialect();
    private volatile String apiKey;

    private FakeModelServer(ServerSocket listener) {
        this.listener = listener;
    }

    /** Starts on a free loopback port. */
    public static FakeModelServer start() {
        return start(0);
    }

    /**
     * Starts on {@code port} of 127.0.0.1 (0 for a free one) and accepts at once.
     *
     * @throws UncheckedIOException if the port cannot be bound
     */
    public static FakeModelServer start(int port) {
        try {
            ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
            FakeModelServer server = new FakeModelServer(socket);
            Thread.ofVirtual()
                    .name("fake-model-accept-" + socket.getLocalPort())
                    .start(server::accept);
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on 127.0.0.1:" + port, e);
        }
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** {@code http://127.0.0.1:PORT}: the base URL for Anthropic clients. */
    public URI baseUrl() {
        return URI.create("http://127.0.0.1:" + port());
    }

    /** {@code http://127.0.0.1:PORT/v1}: the base URL for OpenAI-compatible clients. */
    public URI openAiBaseUrl() {
        return URI.create(baseUrl() + "/v1");
    }

    /**
     * From now on, requests must carry {@code key} ({@code x-api-key} on the Anthropic path,
     * {@code Authorization: Bearer} on the OpenAI path) or get a 401; null turns the check off.
     */
    public FakeModelServer requireApiKey(String key) {
        this.apiKey = key;
        return this;
    }

    /** Queues responses, served one per accepted request in order. */
    public FakeModelServer enqueue(Scripted... responses) {
        synchronized (script) {
            script.addAll(Arrays.asList(responses));
        }
        return this;
    }

    /** How many scripted responses have not been served yet. */
    public int queued() {
        synchronized (script) {
            return script.size();
        }
    }

    /** Every request received so far, rejected ones included, in arrival order. */
    public List<RecordedRequest> requests() {
        return List.copyOf(requests);
    }

    /** The messages of the 400s sent for invalid requests so far. */
    public List<String> violations() {
        return List.copyOf(violations);
    }

    /** Stops accepting, drops every connection and ends stalls. Idempotent. */
    @Override
    public void close() {
        closed.countDown();
        try {
            listener.close();
        } catch (IOException e) {
            // Closing a listener only fails if it is already broken; nothing is left to release.
        }
        for (Socket socket : connections) {
            closeQuietly(socket);
        }
    }

    private void accept() {
        while (closed.getCount() > 0) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                return;
            }
            connections.add(socket);
            Thread.ofVirtual().name("fake-model-connection").start(() -> serve(socket));
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = new BufferedOutputStream(socket.getOutputStream());
            while (closed.getCount() > 0) {
                Optional<Http1.Request> request = Http1.read(in);
                if (request.isEmpty()
                        || !handle(request.get(), out)
                        || !request.get().keepAlive()) {
                    return;
                }
            }
        } catch (IOException e) {
            // The client went away, or a fault made us drop it; either way this connection is done.
        } finally {
            connections.remove(socket);
        }
    }

    /** Answers one request; false when the connection must be dropped afterwards. */
    private boolean handle(Http1.Request raw, OutputStream out) throws IOException {
        JsonNode body;
        try {
            body = raw.body().length == 0
                    ? MissingNode.getInstance()
                    : Wire.mapper().readTree(raw.body());
        } catch (JacksonException e) {
            body = MissingNode.getInstance();
        }
        RecordedRequest request =
                new RecordedRequest(raw.method(), raw.path(), raw.headers(), body, raw.receivedNanos());
        requests.add(request);
        Dialect dialect;
        if (raw.path().equals(ANTHROPIC_PATH)) {
            dialect = anthropic;
        } else if (OPENAI_PATHS.contains(raw.path())) {
            dialect = openai;
        } else {
            error(
                    out,
                    anthropic,
                    Scripted.error(404, "not_found_error", "Not found: " + raw.method() + " " + raw.path()));
            return true;
        }
        if (!raw.method().equals("POST")) {
            error(out, dialect, Scripted.error(405, "invalid_request_error", "Use POST for " + raw.path()));
            return true;
        }
        String key = apiKey;
        if (key != null) {
            Optional<Scripted.HttpError> denied = dialect.checkKey(request, key);
            if (denied.isPresent()) {
                error(out, dialect, denied.get());
                return true;
            }
        }
        Optional<String> violation = dialect.violation(request);
        if (violation.isPresent()) {
            violations.add(violation.get());
            error(out, dialect, Scripted.error(400, "invalid_request_error", violation.get()));
            return true;
        }
        Scripted next;
        synchronized (script) {
            next = script.poll();
        }
        if (next == null) {
            next = Scripted.text("You said: " + dialect.lastUserText(body));
        }
        return switch (next) {
            case Scripted.HttpError error -> {
                error(out, dialect, error);
                yield true;
            }
            case Scripted.Reply reply -> {
                Usage usage = reply.usage().orElseGet(() -> Dialect.estimate(reply, raw.body()));
                yield body.path("stream").asBoolean(false)
                        ? stream(out, dialect, reply, body, usage)
                        : whole(out, dialect, reply, body, usage);
            }
        };
    }

    private void error(OutputStream out, Dialect dialect, Scripted.HttpError error) throws IOException {
        byte[] body = dialect.errorBody(error.type(), error.message());
        Map<String, String> headers = new LinkedHashMap<>(dialect.headers(ids));
        headers.put("content-type", "application/json");
        headers.put("content-length", Integer.toString(body.length));
        headers.putAll(error.headers());
        Http1.writeHead(out, error.status(), headers);
        out.write(body);
        out.flush();
    }

    private boolean stream(OutputStream out, Dialect dialect, Scripted.Reply reply, JsonNode body, Usage usage)
            throws IOException {
        Scripted.Delivery delivery = reply.delivery();
        List<String> frames = dialect.frames(reply, body, usage, delivery.emptyPartialJson(), ids);
        Map<String, String> headers = new LinkedHashMap<>(dialect.headers(ids));
        headers.put("content-type", "text/event-stream; charset=utf-8");
        headers.put("cache-control", "no-cache");
        headers.put("transfer-encoding", "chunked");
        Http1.writeHead(out, 200, headers);
        Http1.ChunkedBody chunked = new Http1.ChunkedBody(out, delivery.pieceBytes());
        // Faults strike about halfway, after message_start and some content, so a client has
        // already shown text it must take back.
        int cut = Math.max(1, (frames.size() - 1) / 2);
        int stallAt = delivery.stallMidStream() ? cut : 0;
        int sendUpTo = switch (delivery.ending()) {
            case Scripted.Ending.Complete c -> frames.size();
            case Scripted.Ending.Disconnect d -> frames.size() - 1;
            case Scripted.Ending.Truncate t -> cut;
            case Scripted.Ending.ErrorEvent e -> cut;
        };
        for (int i = 0; i < sendUpTo; i++) {
            if (i == stallAt) {
                pause(delivery.stall());
            }
            chunked.write(frames.get(i).getBytes(StandardCharsets.UTF_8));
        }
        return switch (delivery.ending()) {
            case Scripted.Ending.Complete c -> {
                chunked.finish();
                yield true;
            }
            case Scripted.Ending.Disconnect d -> false;
            case Scripted.Ending.Truncate t -> {
                byte[] frame = frames.get(cut).getBytes(StandardCharsets.UTF_8);
                chunked.write(Arrays.copyOf(frame, frame.length / 2));
                yield false;
            }
            case Scripted.Ending.ErrorEvent e -> {
                chunked.write(dialect.errorFrame(e.type(), e.message()).getBytes(StandardCharsets.UTF_8));
                chunked.finish();
                yield false;
            }
        };
    }

    /** A reply to a request that did not ask to stream: the faults that make sense without a stream. */
    private boolean whole(OutputStream out, Dialect dialect, Scripted.Reply reply, JsonNode body, Usage usage)
            throws IOException {
        Scripted.Delivery delivery = reply.delivery();
        pause(delivery.stall());
        switch (delivery.ending()) {
            case Scripted.Ending.Disconnect d -> {
                return false;
            }
            case Scripted.Ending.Truncate t -> {
                return false;
            }
            case Scripted.Ending.ErrorEvent e -> {
                error(
                        out,
                        dialect,
                        Scripted.error(e.type().equals("overloaded_error") ? 529 : 500, e.type(), e.message()));
                return true;
            }
            case Scripted.Ending.Complete c -> {
                byte[] json = Wire.mapper().writeValueAsBytes(dialect.message(reply, body, usage, ids));
                Map<String, String> headers = new LinkedHashMap<>(dialect.headers(ids));
                headers.put("content-type", "application/json");
                headers.put("content-length", Integer.toString(json.length));
                Http1.writeHead(out, 200, headers);
                out.write(json);
                out.flush();
                return true;
            }
        }
    }

    /** Sends nothing for {@code duration}, or less if the server closes meanwhile. */
    private void pause(Duration duration) throws IOException {
        if (duration.isZero()) {
            return;
        }
        try {
            if (closed.await(duration.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new IOException("server closed during a stall");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted during a stall", e);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // Dropping the connection is the point; a failure to do so cleanly changes nothing.
        }
    }
}
