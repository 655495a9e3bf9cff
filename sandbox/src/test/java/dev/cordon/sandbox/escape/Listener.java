package dev.cordon.sandbox.escape;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * A TCP port open in the test JVM, for a sandbox to try to reach. Nothing accepts in the
 * background: a connection that got through waits in the backlog, and {@link #takeConnections()}
 * counts it afterwards.
 */
final class Listener implements AutoCloseable {
    private final ServerSocket socket;

    private Listener(ServerSocket socket) {
        this.socket = socket;
    }

    /** Listens on an ephemeral port of {@code address}; {@code null} means every address of the host. */
    static Listener on(InetAddress address) throws IOException {
        return new Listener(new ServerSocket(0, 50, address));
    }

    /** As {@link #on}, or {@code null} where this host cannot bind {@code address} (IPv6 switched off). */
    static Listener onIfAvailable(InetAddress address) {
        try {
            return on(address);
        } catch (IOException e) {
            return null;
        }
    }

    int port() {
        return socket.getLocalPort();
    }

    /**
     * Accepts and closes whatever connections completed so far and returns how many. The kernel
     * queues a connection when its handshake completes, so one made before this call is counted.
     */
    int takeConnections() throws IOException {
        socket.setSoTimeout(100);
        int count = 0;
        while (true) {
            try (Socket ignored = socket.accept()) {
                count++;
            } catch (SocketTimeoutException e) {
                return count;
            }
        }
    }

    /** The positive control: the test JVM itself connects to this port at {@code address}. */
    boolean reachableFromTheHostAt(InetAddress address) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port()), 2000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
