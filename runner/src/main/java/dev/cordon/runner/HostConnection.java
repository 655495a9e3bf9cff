package dev.cordon.runner;

import dev.cordon.protocol.ChannelToken;
import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.RunnerMessage;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The runner's one connection to the host (invariant 2): the Unix socket the host bind-mounted into
 * the sandbox, or in a pod a TCP connection opened with the pod's token. Everything with an effect outside the sandbox goes through here.
 */
final class HostConnection implements AutoCloseable {
    private final FrameChannel<HostMessage, RunnerMessage> channel;

    private HostConnection(FrameChannel<HostMessage, RunnerMessage> channel) {
        this.channel = channel;
    }

    static HostConnection open(Path socket) throws IOException {
        SocketChannel sc = SocketChannel.open(StandardProtocolFamily.UNIX);
        sc.connect(UnixDomainSocketAddress.of(socket));
        return new HostConnection(
                new FrameChannel<>(Channels.newInputStream(sc), Channels.newOutputStream(sc), HostMessage.class, sc));
    }

    /**
     * In a pod (docs/deploy-kubernetes.md) the host connects to the runner instead: listens on
     * {@code port}, keeps the first connection that presents {@code token} ({@link ChannelToken}),
     * refuses every other, then stops listening. Blocks until the host has connected.
     */
    static HostConnection listen(int port, String token) throws IOException {
        Socket socket = ChannelToken.acceptOne(
                new ServerSocket(port), token, Duration.ofSeconds(10), why -> System.err.println("runner: " + why));
        return new HostConnection(
                new FrameChannel<>(socket.getInputStream(), socket.getOutputStream(), HostMessage.class, socket));
    }

    static HostConnection over(FrameChannel<HostMessage, RunnerMessage> channel) {
        return new HostConnection(channel);
    }

    /** Thread-safe. A failure here means the host is gone: the runner has nothing left to do. */
    void send(RunnerMessage message) {
        try {
            channel.send(message);
        } catch (IOException e) {
            throw new HostGoneException(e);
        }
    }

    /** A stream's bytes, written before this returns (the array is the caller's again then). */
    void sendStreamData(String streamId, byte[] bytes, int off, int len) {
        try {
            channel.sendStreamData(streamId, bytes, off, len);
        } catch (IOException e) {
            throw new HostGoneException(e);
        }
    }

    /** One reader thread only; {@code null} when the host closed the connection. */
    HostMessage receive() throws IOException {
        return channel.receive();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    /** The host end of the channel closed. */
    static final class HostGoneException extends RuntimeException {
        HostGoneException(IOException cause) {
            super("host connection closed", cause);
        }
    }
}
