package dev.cordon.runner;

import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.ProtocolException;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.StreamMux;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sandbox's one way out (invariant 5): a port on the sandbox's own loopback where tools find
 * "the proxy" ({@code HTTP_PROXY=http://127.0.0.1:3128}). The sandbox has no other network; each
 * connection accepted here becomes a stream over the runner's channel to the host's egress proxy,
 * which does all the judging. This class judges nothing: it only carries bytes, so a runner that
 * skips it or forges its frames gains nothing the host would not refuse anyway.
 */
final class EgressRelay implements AutoCloseable {
    /** Connections open at once through one sandbox; the host enforces its own limit too. */
    static final int MAX_STREAMS = 64;

    private final HostConnection host;
    private final StreamMux mux;
    private final ServerSocket server;
    private final AtomicLong ids = new AtomicLong();

    private EgressRelay(HostConnection host, ServerSocket server) {
        this.host = host;
        this.server = server;
        this.mux = new StreamMux(
                new StreamMux.Wire() {
                    @Override
                    public void data(String id, byte[] bytes) {
                        host.send(new RunnerMessage.StreamData(id, bytes));
                    }

                    @Override
                    public void data(String id, byte[] bytes, int off, int len) {
                        host.sendStreamData(id, bytes, off, len);
                    }

                    @Override
                    public void end(String id, String error) {
                        host.send(new RunnerMessage.StreamEnd(id, error));
                    }

                    @Override
                    public void ack(String id, int bytes) {
                        host.send(new RunnerMessage.StreamAck(id, bytes));
                    }
                },
                MAX_STREAMS);
    }

    /** Listens on 127.0.0.1:{@code port} and relays every connection until {@link #close()}. */
    static EgressRelay start(HostConnection host, int port) throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
        EgressRelay relay = new EgressRelay(host, server);
        Thread.ofVirtual().name("egress-accept").start(relay::accept);
        return relay;
    }

    /** The loopback port tools reach the proxy on. */
    int port() {
        return server.getLocalPort();
    }

    /** Routes the host's half of a stream; called by the runner's single reader thread, never blocks. */
    void dispatch(HostMessage message) {
        switch (message) {
            case HostMessage.StreamData d -> mux.data(d.streamId(), d.data());
            case HostMessage.StreamEnd e -> mux.end(e.streamId(), e.error());
            case HostMessage.StreamAck a -> mux.ack(a.streamId(), a.bytes());
            default -> throw new IllegalArgumentException("not a stream message: " + message);
        }
    }

    /**
     * Opens each connection's stream and starts both of its copying threads from this thread, so the
     * host starts its side while they are still starting: each hand-off on the way from accepting a
     * connection to its request leaving cost about 1 ms on a loaded machine.
     */
    private void accept() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            String id = "e" + ids.incrementAndGet();
            StreamMux.Channel channel;
            try {
                // A relay passes bytes on as they come: Nagle would hold back the second of two small
                // writes (an answer's head, then its body) for the first one's ack.
                client.setTcpNoDelay(true);
                channel = mux.open(id);
            } catch (ProtocolException | IOException e) {
                closeQuietly(client);
                continue;
            }
            try {
                host.send(new RunnerMessage.EgressOpen(id));
            } catch (HostConnection.HostGoneException e) {
                channel.close();
                closeQuietly(client);
                return;
            }
            // The request's way out starts first: it is what the host waits for.
            Thread up = Thread.ofVirtual().name("egress-up-" + id).start(() -> {
                try {
                    StreamMux.copy(client.getInputStream(), channel.out());
                    channel.shutdownOutput();
                } catch (IOException e) {
                    channel.close();
                }
            });
            Thread.ofVirtual().name("egress-down-" + id).start(() -> relayDown(client, channel, up));
        }
    }

    /** Copies the host's answer to the client, then closes the connection once {@code up} is done too. */
    private static void relayDown(Socket client, StreamMux.Channel channel, Thread up) {
        try (client;
                channel) {
            try {
                channel.in().transferTo(client.getOutputStream());
                client.shutdownOutput();
            } catch (IOException e) {
                // The host aborted the stream, or the client went away: closing the client (which
                // also ends the reader above) is how a proxy says so.
                closeQuietly(client);
            }
            up.join();
        } catch (IOException | HostConnection.HostGoneException e) {
            // the host is gone; the runner ends with it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // closing
        }
        mux.closeAll("the runner is stopping");
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing
        }
    }
}
