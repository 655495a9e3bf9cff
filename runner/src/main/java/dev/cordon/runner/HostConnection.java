package dev.cordon.runner;

import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.RunnerMessage;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * The runner's one connection to the host (invariant 2): the Unix socket the host bind-mounted into
 * the sandbox. Everything with an effect outside the sandbox goes through here.
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
