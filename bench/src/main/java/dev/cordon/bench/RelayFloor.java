package dev.cordon.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The least a relay of Cordon's shape can cost on this machine, for {@link EgressBench} to measure
 * beside Cordon's: curl → TCP → relay → Unix socket → relay → TCP → origin, as the runner's relay
 * and the daemon's proxy are joined by the sandbox's one channel (invariants 2 and 5 put both hops
 * on the path). These relays do nothing but copy: no framing, no multiplexing, no rule, no audit,
 * no sandbox. Each direction of a connection is a plain loop on a pooled platform thread with one
 * direct buffer, the fastest of the Java forms measured here (docs/benchmarks.md §6, "a floor").
 */
final class RelayFloor implements AutoCloseable {
    private static final int BUFFER = 256 * 1024;

    /** One buffer per pooled thread: allocating 256 KiB of direct memory per connection would be timed too. */
    private static final ThreadLocal<ByteBuffer> BUFFERS =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(BUFFER));

    private final ServerSocketChannel front;
    private final ServerSocketChannel back;
    private final Path socket;
    private final InetSocketAddress origin;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "relay-floor");
        t.setDaemon(true);
        return t;
    });

    private RelayFloor(ServerSocketChannel front, ServerSocketChannel back, Path socket, InetSocketAddress origin) {
        this.front = front;
        this.back = back;
        this.socket = socket;
        this.origin = origin;
    }

    /** Starts the pair in front of {@code origin}, its Unix socket in {@code dir}. */
    static RelayFloor start(InetSocketAddress origin, Path dir) throws IOException {
        Path socket = dir.resolve("floor.sock");
        Files.deleteIfExists(socket);
        ServerSocketChannel back = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        back.bind(UnixDomainSocketAddress.of(socket), 64);
        ServerSocketChannel front = ServerSocketChannel.open();
        front.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        RelayFloor floor = new RelayFloor(front, back, socket, origin);
        floor.threads.execute(() -> floor.accept(front, floor::nearSide));
        floor.threads.execute(() -> floor.accept(back, floor::farSide));
        return floor;
    }

    /** The port curl connects to. */
    int port() throws IOException {
        return ((InetSocketAddress) front.getLocalAddress()).getPort();
    }

    private interface Onward {
        SocketChannel connect() throws IOException;
    }

    /** The runner's place: a TCP client relayed over the Unix socket. */
    private SocketChannel nearSide() throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(socket));
    }

    /** The daemon's place: the Unix socket's stream relayed to the origin. */
    private SocketChannel farSide() throws IOException {
        SocketChannel upstream = SocketChannel.open(origin);
        upstream.setOption(StandardSocketOptions.TCP_NODELAY, true);
        return upstream;
    }

    private void accept(ServerSocketChannel server, Onward onward) {
        while (server.isOpen()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            threads.execute(() -> {
                try (client;
                        SocketChannel next = onward.connect()) {
                    if (client.getLocalAddress() instanceof InetSocketAddress) {
                        client.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    }
                    var up = threads.submit(() -> copy(client, next));
                    copy(next, client);
                    up.get();
                } catch (Exception e) {
                    // the connection ends; the bench's curl reports a failure on its side
                }
            });
        }
    }

    /** Copies until end of stream, then passes the end on as a half close. */
    private static Void copy(SocketChannel from, SocketChannel to) throws IOException {
        ByteBuffer buffer = BUFFERS.get().clear();
        while (from.read(buffer) >= 0) {
            buffer.flip();
            while (buffer.hasRemaining()) {
                to.write(buffer);
            }
            buffer.clear();
        }
        to.shutdownOutput();
        return null;
    }

    @Override
    public void close() throws IOException {
        front.close();
        back.close();
        threads.shutdownNow();
        Files.deleteIfExists(socket);
    }
}
