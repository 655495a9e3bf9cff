package dev.cordon.server.demo;

import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The demo's client of the daemon's control socket: what {@code cordon send} does, in the real
 * frames. Not thread-safe; one per conversation.
 */
final class ControlLink implements AutoCloseable {
    private final FrameChannel<ControlEvent, ControlRequest> channel;
    private final BlockingQueue<ControlEvent> events = new LinkedBlockingQueue<>();

    ControlLink(Path socket) throws IOException {
        SocketChannel sc = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            sc.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            sc.close();
            throw e;
        }
        channel = new FrameChannel<>(Channels.newInputStream(sc), Channels.newOutputStream(sc), ControlEvent.class, sc);
        Thread.ofVirtual().name("demo-control-reader").start(() -> {
            try {
                ControlEvent e;
                while ((e = channel.receive()) != null) {
                    events.add(e);
                }
            } catch (IOException | RuntimeException e) {
                // The connection closed; await() reports the missing event.
            }
        });
    }

    /**
     * Sends {@code text} to {@code agent} and blocks until its reply (acknowledged before returning).
     *
     * @throws IOException if the daemon refuses, or nothing arrives within {@code timeout}
     */
    ControlEvent.Reply ask(String agent, String text, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        channel.send(new ControlRequest.Attach(agent, false));
        await(ControlEvent.Attached.class, deadline);
        String id = UUID.randomUUID().toString();
        channel.send(new ControlRequest.Say(agent, id, text));
        long inbound = await(ControlEvent.Accepted.class, deadline).inboundId();
        while (true) {
            ControlEvent.Reply reply = await(ControlEvent.Reply.class, deadline);
            if (reply.inReplyTo() == inbound) {
                channel.send(new ControlRequest.ReplyAck(reply.outboundId()));
                return reply;
            }
        }
    }

    private <T extends ControlEvent> T await(Class<T> type, long deadline) throws IOException, InterruptedException {
        while (true) {
            ControlEvent e = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (e == null) {
                throw new IOException("the daemon sent no " + type.getSimpleName() + " in time");
            }
            if (e instanceof ControlEvent.Failure f) {
                throw new IOException("the daemon refused: " + f.message());
            }
            if (type.isInstance(e)) {
                return type.cast(e);
            }
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
