package dev.cordon.server;

import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.ProtocolException;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's control socket. Mode 0600 in a 0700 home: whoever can connect is the owner. Each
 * connection is served on its own virtual thread; a malformed frame gets a Failure naming the
 * problem and the connection is closed — the daemon keeps running.
 */
final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

    interface Handler {
        void handle(ControlConnection connection, ControlRequest request);

        void closed(ControlConnection connection);
    }

    /** Connections the kernel holds for the accept loop (Linux caps it at net.core.somaxconn). */
    static final int BACKLOG = 1024;

    private final Path socket;
    private final Handler handler;
    private ServerSocketChannel listener;
    private volatile boolean closed;

    ControlServer(Path socket, Handler handler) {
        this.socket = socket;
        this.handler = handler;
    }

    void start() throws IOException {
        Files.deleteIfExists(socket);
        listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        // A burst of clients (scripts, the web API's calls, many `cordon send`s at once) waits in
        // the kernel's queue rather than failing with EAGAIN, as it would past the default 50.
        listener.bind(UnixDomainSocketAddress.of(socket), BACKLOG);
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        Thread.ofVirtual().name("control-accept").start(this::acceptLoop);
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel sc = listener.accept();
                Thread.ofVirtual().name("control-client").start(() -> serve(sc));
            } catch (IOException e) {
                if (!closed) {
                    LOG.error("control socket accept failed", e);
                }
                return;
            }
        }
    }

    private void serve(SocketChannel sc) {
        ControlConnection connection = new ControlConnection(new FrameChannel<>(
                Channels.newInputStream(sc), Channels.newOutputStream(sc), ControlRequest.class, sc));
        try {
            ControlRequest request;
            while ((request = connection.receive()) != null) {
                handler.handle(connection, request);
            }
        } catch (ProtocolException e) {
            LOG.warn("control client sent a malformed frame: {}", e.getMessage());
            connection.send(new ControlEvent.Failure("malformed request: " + e.getMessage()));
        } catch (IOException e) {
            LOG.debug("control client went away", e);
        } catch (RuntimeException e) {
            // A bug in handling one request: the client hears it, and the daemon serves on.
            LOG.error("control request failed", e);
            connection.send(new ControlEvent.Failure(
                    "the daemon failed on this request (a bug; its log has the stack trace): " + e));
        } finally {
            connection.close();
            handler.closed(connection);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            if (listener != null) {
                listener.close();
            }
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.warn("could not remove {}", socket, e);
        }
    }
}
