package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A test's own client of the daemon's control socket, speaking the real frames. Unless told not
 * to, it acknowledges every reply as it arrives, as the CLI does.
 */
final class ControlClient implements AutoCloseable {
    private final FrameChannel<ControlEvent, ControlRequest> channel;
    private final BlockingQueue<ControlEvent> events = new LinkedBlockingQueue<>();
    final List<ControlEvent> seen = new ArrayList<>();
    /** The daemon closed the connection (or it broke): nothing more will come. */
    private volatile boolean ended;

    ControlClient(Path socket) throws IOException {
        this(socket, true);
    }

    /**
     * {@code ackReplies} false: the test acks each reply itself once it has recorded it (a test
     * that kills the daemon must not have a reply acked that it then drops with the connection).
     */
    ControlClient(Path socket, boolean ackReplies) throws IOException {
        SocketChannel sc = SocketChannel.open(StandardProtocolFamily.UNIX);
        sc.connect(UnixDomainSocketAddress.of(socket));
        channel = new FrameChannel<>(Channels.newInputStream(sc), Channels.newOutputStream(sc), ControlEvent.class, sc);
        Thread.ofVirtual().start(() -> {
            try {
                ControlEvent e;
                while ((e = channel.receive()) != null) {
                    if (ackReplies && e instanceof ControlEvent.Reply reply) {
                        // As `cordon chat` does: a reply shown is acknowledged. One left unacked holds
                        // the chat's next delivery for the terminal's 15 s ack wait, then comes again.
                        channel.send(new ControlRequest.ReplyAck(reply.outboundId()));
                    }
                    events.add(e);
                }
            } catch (IOException | RuntimeException e) {
                // connection closed
            }
            ended = true;
        });
    }

    void send(ControlRequest request) throws IOException {
        channel.send(request);
    }

    /** Waits for the first event matching {@code match}, keeping every event seen on the way. */
    @SuppressWarnings("unchecked")
    <T extends ControlEvent> T await(Class<T> type, Predicate<T> match, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            boolean wasEnded = ended;
            ControlEvent e = events.poll(Math.max(0, Math.min(left, 50_000_000L)), TimeUnit.NANOSECONDS);
            if (e == null && wasEnded) {
                throw new AssertionError("the connection ended before a " + type.getSimpleName() + "; saw " + seen);
            }
            if (e == null && System.nanoTime() >= deadline) {
                throw new AssertionError("no " + type.getSimpleName() + " within " + timeout + "; saw " + seen);
            }
            if (e == null) {
                continue;
            }
            seen.add(e);
            if (type.isInstance(e) && match.test((T) e)) {
                return (T) e;
            }
        }
    }

    <T extends ControlEvent> T await(Class<T> type) throws InterruptedException {
        return await(type, e -> true, Duration.ofSeconds(60));
    }

    /** Attaches to {@code agent}, sends {@code text}, and returns the acknowledged reply to it. */
    ControlEvent.Reply ask(String agent, String text) throws IOException, InterruptedException {
        return ask(agent, text, Duration.ofSeconds(120));
    }

    /** {@link #ask(String, String)}, waiting up to {@code replyWait} for the reply. */
    ControlEvent.Reply ask(String agent, String text, Duration replyWait) throws IOException, InterruptedException {
        send(new ControlRequest.Attach(agent, false));
        await(ControlEvent.Attached.class);
        String id = UUID.randomUUID().toString();
        send(new ControlRequest.Say(agent, id, text));
        ControlEvent.Accepted accepted =
                await(ControlEvent.Accepted.class, a -> a.clientMessageId().equals(id), Duration.ofSeconds(30));
        ControlEvent.Reply reply =
                await(ControlEvent.Reply.class, r -> r.inReplyTo() == accepted.inboundId(), replyWait);
        send(new ControlRequest.ReplyAck(reply.outboundId()));
        assertThat(reply.agent()).isEqualTo(agent);
        return reply;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
