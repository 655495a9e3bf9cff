package dev.cordon.cli;

import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.ProtocolException;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One connection to the daemon's control socket.
 *
 * <p>A virtual thread reads events as they come and queues them, so a caller can wait for the next
 * one with a deadline ({@link #next}) while another thread sends ({@link #send} is thread-safe).
 * Only one thread may consume with {@link #next}. The connection ends with one {@link Closed}.
 */
final class ControlConnection implements AutoCloseable {

    /** What {@link #next} hands out: an event, or the end of the connection. */
    sealed interface Incoming permits Received, Closed {}

    record Received(ControlEvent event) implements Incoming {}

    /** The daemon closed the connection, or it broke; {@code reason} says which. */
    record Closed(String reason) implements Incoming {}

    private final FrameChannel<ControlEvent, ControlRequest> channel;
    private final BlockingQueue<Incoming> incoming = new LinkedBlockingQueue<>();
    private volatile boolean closing;

    private ControlConnection(SocketChannel socket) {
        this.channel = new FrameChannel<>(
                Channels.newInputStream(socket), Channels.newOutputStream(socket), ControlEvent.class, socket);
        Thread.ofVirtual().name("cordon-control-reader").start(this::readLoop);
    }

    /**
     * Connects to the socket.
     *
     * @throws IOException if nothing listens there (no file, stale file, permission denied)
     */
    static ControlConnection open(Path socketPath) throws IOException {
        SocketChannel socket = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            socket.connect(UnixDomainSocketAddress.of(socketPath));
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
        return new ControlConnection(socket);
    }

    /** Sends one request. Thread-safe. */
    void send(ControlRequest request) {
        try {
            channel.send(request);
        } catch (IOException e) {
            throw new CliException(
                    Exit.UNREACHABLE, "Lost the connection to the Cordon daemon (" + e.getMessage() + ").", e);
        }
    }

    /**
     * Waits up to {@code timeout} for the next event.
     *
     * @return the next event or the {@link Closed} end; null if the timeout passed first
     */
    Incoming next(Duration timeout) throws InterruptedException {
        return incoming.poll(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
    }

    /** Waits for the next event or the {@link Closed} end, however long it takes. */
    Incoming take() throws InterruptedException {
        return incoming.take();
    }

    @Override
    public void close() {
        closing = true;
        try {
            channel.close();
        } catch (IOException e) {
            // Nothing to do: the connection is gone either way.
        }
    }

    private void readLoop() {
        String reason = "the daemon closed the connection";
        try {
            ControlEvent event;
            while ((event = channel.receive()) != null) {
                incoming.add(new Received(event));
            }
        } catch (ProtocolException e) {
            reason = "the daemon sent something this cordon does not understand (" + e.getMessage()
                    + "); are the daemon and the command from the same build?";
        } catch (IOException e) {
            reason = closing ? "closed" : "the connection broke (" + e.getMessage() + ")";
        }
        incoming.add(new Closed(reason));
    }
}
