package dev.cordon.bench;

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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The benches' control-socket client: the daemon's real frames, what {@code cordon} sends. One
 * reader thread queues the events; {@link #await} takes them in order. Not thread-safe: one caller.
 */
final class ControlClient implements AutoCloseable {
    private final FrameChannel<ControlEvent, ControlRequest> channel;
    private final BlockingQueue<ControlEvent> events = new LinkedBlockingQueue<>();

    ControlClient(Path socket) throws IOException {
        SocketChannel sc = SocketChannel.open(StandardProtocolFamily.UNIX);
        sc.connect(UnixDomainSocketAddress.of(socket));
        channel = new FrameChannel<>(Channels.newInputStream(sc), Channels.newOutputStream(sc), ControlEvent.class, sc);
        Thread.ofVirtual().start(() -> {
            try {
                ControlEvent e;
                while ((e = channel.receive()) != null) {
                    events.add(e);
                }
            } catch (IOException | RuntimeException e) {
                // closed
            }
        });
    }

    void send(ControlRequest request) throws IOException {
        channel.send(request);
    }

    /** Attaches to {@code agent}'s terminal chat, so its replies come to this client. */
    void attach(String agent) throws IOException, InterruptedException {
        send(new ControlRequest.Attach(agent, false));
        await(ControlEvent.Attached.class);
    }

    /** Waits for the next event of {@code type}, dropping others (deltas, notices). */
    <T extends ControlEvent> T await(Class<T> type) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (true) {
            ControlEvent e = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (e == null) {
                throw new IllegalStateException("no " + type.getSimpleName() + " within 120 s");
            }
            if (e instanceof ControlEvent.Failure f) {
                throw new IllegalStateException("daemon said: " + f.message());
            }
            if (type.isInstance(e)) {
                return type.cast(e);
            }
        }
    }

    /** One message and its reply, timed on this JVM's clock ({@link System#nanoTime}). */
    record Exchange(long sent, long accepted, long replied, ControlEvent.Accepted ack, ControlEvent.Reply reply) {}

    /**
     * Says {@code text} to {@code agent} (attached), waits for the Accepted and the reply to it, and
     * acks the reply.
     *
     * @throws IllegalStateException if the reply answers another message
     */
    Exchange exchange(String agent, String text) throws IOException, InterruptedException {
        long sent = System.nanoTime();
        send(new ControlRequest.Say(agent, "m-" + sent, text));
        ControlEvent.Accepted ack = await(ControlEvent.Accepted.class);
        long accepted = System.nanoTime();
        ControlEvent.Reply reply = await(ControlEvent.Reply.class);
        long replied = System.nanoTime();
        send(new ControlRequest.ReplyAck(reply.outboundId()));
        if (reply.inReplyTo() != ack.inboundId()) {
            throw new IllegalStateException("reply to another message: " + reply);
        }
        return new Exchange(sent, accepted, replied, ack, reply);
    }

    /** The daemon's status (live sandboxes and their use). */
    ControlEvent.StatusReport status() throws IOException, InterruptedException {
        send(new ControlRequest.Status());
        return await(ControlEvent.StatusReport.class);
    }

    /** Polls the status until {@code live} sandboxes are up, or fails after {@code within}. */
    void awaitLive(int live, Duration within) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (status().liveSandboxes() == live) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("not " + live + " live sandboxes within " + within);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
