package dev.cordon.bench;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The baseline for a hop between two processes on this machine, measured beside a bench's own
 * intervals: a 64-byte round trip over a Unix socket to a child JVM that echoes it back (started
 * with the runner's JIT and GC flags, outside any sandbox). Not thread-safe.
 */
final class PingPong implements AutoCloseable {
    private static final int SIZE = 64;
    private final Process peer;
    private final SocketChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(SIZE);
    private final Path socket;

    private PingPong(Process peer, SocketChannel channel, Path socket) {
        this.peer = peer;
        this.channel = channel;
        this.socket = socket;
    }

    /** Starts the echoing child, connected through a socket in {@code dir}, and warms both ends up. */
    static PingPong start(Path dir) throws IOException, InterruptedException {
        Path socket = dir.resolve("ping.sock");
        Files.deleteIfExists(socket);
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Process peer = new ProcessBuilder(List.of(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-XX:+UseSerialGC",
                            "-XX:TieredStopAtLevel=1",
                            "-cp",
                            System.getProperty("java.class.path"),
                            PingPong.class.getName(),
                            socket.toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            PingPong pingPong = new PingPong(peer, server.accept(), socket);
            for (int i = 0; i < 2000; i++) {
                pingPong.roundTrip();
            }
            return pingPong;
        }
    }

    /** One round trip, in nanoseconds. */
    long roundTrip() throws IOException {
        long t0 = System.nanoTime();
        buffer.clear();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        buffer.clear();
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new IOException("the ping-pong peer went away");
            }
        }
        return System.nanoTime() - t0;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        channel.close();
        if (!peer.waitFor(5, TimeUnit.SECONDS)) {
            peer.destroyForcibly();
        }
        Files.deleteIfExists(socket);
    }

    /** The echoing peer: reads 64 bytes, writes them back, until the socket closes. */
    public static void main(String[] args) throws IOException {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(Path.of(args[0])))) {
            ByteBuffer b = ByteBuffer.allocateDirect(SIZE);
            while (true) {
                b.clear();
                while (b.hasRemaining()) {
                    if (c.read(b) < 0) {
                        return;
                    }
                }
                b.flip();
                while (b.hasRemaining()) {
                    c.write(b);
                }
            }
        }
    }
}
