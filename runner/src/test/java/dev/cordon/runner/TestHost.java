package dev.cordon.runner;

import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.RunnerMessage.ModelRequest;
import dev.cordon.testkit.FakeModelServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The host end of a runner's channel, for tests: a real Unix socket in a temporary directory, and a
 * tiny model gateway that answers each {@code model_request} by forwarding it to the fake model
 * server over HTTP (adding the key, as the real gateway does) and streaming the answer back as head,
 * chunks and end. A {@link Fault} can be queued to break the next calls on the channel's side.
 */
final class TestHost implements AutoCloseable {
    /** What the host does to the next model call instead of answering it normally. */
    enum Fault {
        /** Sends {@code model_end} with an error before any head, as a gateway that cannot reach the provider. */
        END_BEFORE_HEAD,
        /** Sends the head and half the provider's body, then {@code model_end} with an error. */
        END_MID_STREAM,
        /** Never answers. */
        SILENCE,
        /**
         * Sends the whole answer but holds {@code model_end} back, as a host too busy to send it
         * in time; once the runner cancels the call, never sends it (the real gateway's way).
         */
        HOLD_END
    }

    static final String KEY = "sk-host-only-key";
    static final String END_ERROR = "provider connection dropped";
    private static final Set<String> NOT_FORWARDED =
            Set.of("connection", "content-length", "expect", "host", "upgrade");
    private static final int CHUNK = 1024;

    private final FakeModelServer provider;
    private final FrameChannel<RunnerMessage, HostMessage> channel;
    private final FrameChannel<HostMessage, RunnerMessage> runnerEnd;
    private final BlockingQueue<RunnerMessage> received = new LinkedBlockingQueue<>();
    private final List<ModelRequest> modelRequests = new CopyOnWriteArrayList<>();
    private final BlockingQueue<ModelRequest> modelRequestArrivals = new LinkedBlockingQueue<>();
    private final ConcurrentLinkedQueue<Fault> faults = new ConcurrentLinkedQueue<>();
    private final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private TestHost(
            FakeModelServer provider,
            FrameChannel<RunnerMessage, HostMessage> channel,
            FrameChannel<HostMessage, RunnerMessage> runnerEnd) {
        this.provider = provider;
        this.channel = channel;
        this.runnerEnd = runnerEnd;
    }

    /** Connects a host and a runner end over a Unix socket in {@code dir} and starts reading. */
    static TestHost start(Path dir, FakeModelServer provider) throws IOException {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(dir.resolve("host.sock"));
        SocketChannel runnerSocket;
        SocketChannel hostSocket;
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(address);
            runnerSocket = SocketChannel.open(StandardProtocolFamily.UNIX);
            runnerSocket.connect(address);
            hostSocket = listener.accept();
        }
        TestHost host = new TestHost(
                provider,
                new FrameChannel<>(
                        Channels.newInputStream(hostSocket),
                        Channels.newOutputStream(hostSocket),
                        RunnerMessage.class,
                        hostSocket),
                new FrameChannel<>(
                        Channels.newInputStream(runnerSocket),
                        Channels.newOutputStream(runnerSocket),
                        HostMessage.class,
                        runnerSocket));
        Thread.ofVirtual().name("test-host-reader").start(host::read);
        return host;
    }

    /** The runner's end of the socket, for {@link HostConnection#over}. */
    FrameChannel<HostMessage, RunnerMessage> runnerEnd() {
        return runnerEnd;
    }

    void send(HostMessage message) throws IOException {
        channel.send(message);
    }

    /** Breaks the next model calls, one fault per call, in order. */
    void failNextCalls(Fault... next) {
        faults.addAll(Arrays.asList(next));
    }

    /** Every model_request received so far. */
    List<ModelRequest> modelRequests() {
        return List.copyOf(modelRequests);
    }

    /**
     * Waits for the next model_request (counting from the first), whether or not it was answered yet.
     *
     * @throws AssertionError if none arrives within a minute: the runner is stuck
     */
    ModelRequest nextModelRequest() throws InterruptedException {
        ModelRequest request = modelRequestArrivals.poll(1, TimeUnit.MINUTES);
        if (request == null) {
            throw new AssertionError("the runner made no model call for a minute");
        }
        return request;
    }

    /**
     * The next message from the runner other than a model_request (those the gateway answers).
     *
     * @throws AssertionError if none arrives within a minute: the runner is stuck
     */
    RunnerMessage next() throws InterruptedException {
        RunnerMessage message = received.poll(1, TimeUnit.MINUTES);
        if (message == null) {
            throw new AssertionError("the runner sent nothing for a minute");
        }
        return message;
    }

    /** Skips messages until one of {@code type} arrives; returns it. */
    <T extends RunnerMessage> T next(Class<T> type, List<RunnerMessage> skipped) throws InterruptedException {
        while (true) {
            RunnerMessage message = next();
            if (type.isInstance(message)) {
                return type.cast(message);
            }
            skipped.add(message);
        }
    }

    /** Closes the host's end: the runner sees the end of its stream. */
    @Override
    public void close() throws IOException {
        channel.close();
        http.close();
    }

    private void read() {
        try {
            RunnerMessage message;
            while ((message = channel.receive()) != null) {
                if (message instanceof ModelRequest request) {
                    modelRequests.add(request);
                    modelRequestArrivals.add(request);
                    Fault fault = faults.poll();
                    Thread.ofVirtual().name("test-gateway").start(() -> answer(request, fault));
                } else {
                    received.add(message);
                }
            }
        } catch (IOException e) {
            // The host end was closed by the test; nothing more will arrive.
        }
    }

    private void answer(ModelRequest request, Fault fault) {
        try {
            if (fault == Fault.SILENCE) {
                return;
            }
            if (fault == Fault.END_BEFORE_HEAD) {
                channel.send(new HostMessage.ModelResponseEnd(request.callId(), END_ERROR));
                return;
            }
            HttpResponse<InputStream> response = forward(request);
            Map<String, List<String>> headers = new TreeMap<>();
            response.headers().map().forEach((name, values) -> headers.put(name.toLowerCase(Locale.ROOT), values));
            channel.send(new HostMessage.ModelResponseHead(request.callId(), response.statusCode(), headers));
            try (InputStream body = response.body()) {
                if (fault == Fault.END_MID_STREAM) {
                    byte[] all = body.readAllBytes();
                    channel.send(
                            new HostMessage.ModelResponseChunk(request.callId(), Arrays.copyOf(all, all.length / 2)));
                    channel.send(new HostMessage.ModelResponseEnd(request.callId(), END_ERROR));
                    return;
                }
                byte[] buffer = new byte[CHUNK];
                int n;
                while ((n = body.read(buffer)) >= 0) {
                    channel.send(new HostMessage.ModelResponseChunk(request.callId(), Arrays.copyOf(buffer, n)));
                }
            }
            if (fault == Fault.HOLD_END) {
                return;
            }
            channel.send(new HostMessage.ModelResponseEnd(request.callId(), null));
        } catch (IOException e) {
            endQuietly(request.callId(), "test gateway: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Tells the runner the call failed, unless the host end is already closed. */
    private void endQuietly(String callId, String error) {
        try {
            channel.send(new HostMessage.ModelResponseEnd(callId, error));
        } catch (IOException e) {
            // The test closed the host end; the runner sees the end of its stream instead.
        }
    }

    private HttpResponse<InputStream> forward(ModelRequest request) throws IOException, InterruptedException {
        URI base = request.api() == ModelApi.ANTHROPIC ? provider.baseUrl() : provider.openAiBaseUrl();
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + request.path()))
                .POST(HttpRequest.BodyPublishers.ofByteArray(request.body()));
        request.headers().forEach((name, value) -> {
            if (!NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT))) {
                builder.header(name, value);
            }
        });
        switch (request.api()) {
            case ANTHROPIC -> builder.header("x-api-key", KEY);
            case OPENAI -> builder.header("Authorization", "Bearer " + KEY);
        }
        return http.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
    }
}
