package dev.cordon.channel.slack;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One Socket Mode WebSocket, turned into blocking calls: {@link #next} hands over whole text
 * messages in order, {@link #send} writes one. The JDK client answers Slack's pings itself. Sends
 * come from one thread (the adapter's loop), as the JDK client requires.
 */
final class SocketLink implements AutoCloseable {
    /** Larger Socket Mode messages are refused: Slack's events are far smaller. */
    static final int MAX_MESSAGE = 1024 * 1024;

    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(10);

    /** What the socket delivered: a text message, a pong, or its end. */
    sealed interface Frame {
        record Text(String text) implements Frame {}

        record Pong() implements Frame {}

        record Closed(String why) implements Frame {}
    }

    private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
    private final WebSocket socket;

    private SocketLink(HttpClient http, URI url) throws IOException {
        try {
            socket = http.newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(url, new Listener())
                    .get(20, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot open the Socket Mode connection: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while opening the Socket Mode connection", e);
        }
    }

    /** Opens the WebSocket at {@code url} (from {@code apps.connections.open}); blocks until it is open. */
    static SocketLink open(HttpClient http, URI url) throws IOException {
        return new SocketLink(http, url);
    }

    /** The next frame, or null after {@code wait} without one. */
    Frame next(Duration wait) throws InterruptedException {
        return frames.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Sends {@code text} and waits until it is written. */
    void send(String text) throws IOException {
        await(socket.sendText(text, true));
    }

    /** Asks the server for a pong ({@link Frame.Pong}). */
    void ping() throws IOException {
        await(socket.sendPing(ByteBuffer.allocate(0)));
    }

    private static void await(CompletionStage<?> sent) throws IOException {
        try {
            sent.toCompletableFuture().get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | CompletionException | TimeoutException e) {
            throw new IOException("cannot write to the Socket Mode connection: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing to the Socket Mode connection", e);
        }
    }

    /** Drops the connection at once, without a closing handshake. */
    @Override
    public void close() {
        socket.abort();
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            if (text.length() + data.length() > MAX_MESSAGE) {
                frames.add(new Frame.Closed("a Socket Mode message over " + MAX_MESSAGE + " characters"));
                webSocket.abort();
                return null;
            }
            text.append(data);
            if (last) {
                frames.add(new Frame.Text(text.toString()));
                text.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
            frames.add(new Frame.Pong());
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            frames.add(new Frame.Closed("Slack closed the connection (" + statusCode + " " + reason + ")"));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            frames.add(new Frame.Closed("the Socket Mode connection failed: " + error));
        }
    }
}
