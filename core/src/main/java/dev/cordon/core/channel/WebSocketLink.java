package dev.cordon.core.channel;

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
 * One client WebSocket of an adapter (Slack's Socket Mode, Discord's gateway), turned into blocking
 * calls: {@link #next} hands over whole text messages in order, {@link #send} writes one. The JDK
 * client answers the server's pings itself. Sends must come from one thread (the adapter's loop), as
 * the JDK client requires; {@link #next} from that thread too.
 *
 * <p>A text message over the link's size limit costs the connection (a {@link Frame.Closed}), not
 * the daemon's memory.
 */
public final class WebSocketLink implements AutoCloseable {
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(10);

    /** What the socket delivered: a text message, a pong, or its end. */
    public sealed interface Frame {
        record Text(String text) implements Frame {}

        record Pong() implements Frame {}

        /**
         * The connection ended.
         *
         * @param code the close code the server sent, or -1 if the connection failed or was cut off
         */
        record Closed(int code, String why) implements Frame {}
    }

    private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
    private final String peer;
    private final int maxMessage;
    private final WebSocket socket;

    private WebSocketLink(HttpClient http, URI url, String peer, int maxMessage) throws IOException {
        this.peer = peer;
        this.maxMessage = maxMessage;
        try {
            socket = http.newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(url, new Listener())
                    .get(20, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot open the " + peer + " connection: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while opening the " + peer + " connection", e);
        }
    }

    /**
     * Opens the WebSocket at {@code url}; blocks until it is open (at most 20 s).
     *
     * @param peer names the other end in messages, e.g. {@code Socket Mode}
     * @param maxMessage the longest text message accepted, in characters
     * @throws IOException if it cannot be opened
     */
    public static WebSocketLink open(HttpClient http, URI url, String peer, int maxMessage) throws IOException {
        return new WebSocketLink(http, url, peer, maxMessage);
    }

    /** The next frame, or null after {@code wait} without one. */
    public Frame next(Duration wait) throws InterruptedException {
        return frames.poll(Math.max(0, wait.toMillis()), TimeUnit.MILLISECONDS);
    }

    /** Sends {@code text} and waits until it is written (at most 10 s). */
    public void send(String text) throws IOException {
        await(socket.sendText(text, true));
    }

    /** Asks the server for a pong ({@link Frame.Pong}). */
    public void ping() throws IOException {
        await(socket.sendPing(ByteBuffer.allocate(0)));
    }

    private void await(CompletionStage<?> sent) throws IOException {
        try {
            sent.toCompletableFuture().get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | CompletionException | TimeoutException e) {
            throw new IOException("cannot write to the " + peer + " connection: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing to the " + peer + " connection", e);
        }
    }

    /** Drops the connection at once, without a closing handshake (servers keep a session resumable then). */
    @Override
    public void close() {
        socket.abort();
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            if (text.length() + data.length() > maxMessage) {
                frames.add(new Frame.Closed(-1, "a " + peer + " message over " + maxMessage + " characters"));
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
            frames.add(new Frame.Closed(
                    statusCode, "the " + peer + " server closed the connection (" + statusCode + " " + reason + ")"));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            frames.add(new Frame.Closed(-1, "the " + peer + " connection failed: " + error));
        }
    }
}
