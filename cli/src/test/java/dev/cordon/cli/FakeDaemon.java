package dev.cordon.cli;

import dev.cordon.protocol.FrameChannel;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A control server speaking the real frames on a real Unix socket at {@code HOME/run/control.sock},
 * with scripted answers. Stands in for the daemon in the CLI's tests.
 */
final class FakeDaemon implements AutoCloseable {
    /** A pid that no process has (above the kernel's largest pid_max). */
    static final long NO_SUCH_PID = 9_999_999;

    /** What the fake does when a message arrives, after it sent {@code Accepted}. */
    @FunctionalInterface
    interface OnSay {
        void on(ControlRequest.Say say, long inboundId, Peer peer) throws IOException;
    }

    /** One client connection. */
    static final class Peer {
        private final FrameChannel<ControlRequest, ControlEvent> channel;

        Peer(FrameChannel<ControlRequest, ControlEvent> channel) {
            this.channel = channel;
        }

        void send(ControlEvent event) throws IOException {
            channel.send(event);
        }
    }

    private final Path socket;
    private final ServerSocketChannel server;
    private final AtomicLong nextInboundId = new AtomicLong(100);
    final List<ControlRequest> received = new CopyOnWriteArrayList<>();
    final List<ControlEvent.Reply> pending = new CopyOnWriteArrayList<>();
    volatile ControlEvent.StatusReport status = status(null);
    volatile OnSay onSay = (say, id, peer) -> {};
    /** The answer to users, chats, senders and pair requests. */
    volatile java.util.function.Function<ControlRequest.AccessRequest, ControlEvent> onAccess =
            request -> new ControlEvent.Failure("not scripted: " + request);
    /** The answer to sessions list and kill. */
    volatile java.util.function.Function<ControlRequest, ControlEvent> onSessions =
            r -> new ControlEvent.Failure("this fake has no sessions");
    /** The answer to tasks requests. */
    volatile java.util.function.Function<ControlRequest.TaskRequest, ControlEvent> onTasks =
            r -> new ControlEvent.Failure("this fake has no tasks");
    /** The answer to agents list and create. */
    volatile java.util.function.Function<ControlRequest, ControlEvent> onAgents =
            request -> new ControlEvent.Failure("no agents here");
    /** The answer to {@code cordon dashboard}. */
    volatile java.util.function.Function<ControlRequest, ControlEvent> onDashboard =
            r -> new ControlEvent.Failure("the dashboard is off");
    /** The answer to each approval request. */
    volatile java.util.function.Function<ControlRequest, ControlEvent> onApproval =
            r -> new ControlEvent.Failure("this fake has no approvals");

    FakeDaemon(Path home) throws IOException {
        this.socket = home.resolve("run").resolve("control.sock");
        Files.createDirectories(socket.getParent());
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread.ofVirtual().name("fake-daemon-accept").start(this::acceptLoop);
    }

    static ControlEvent.StatusReport status(String modelProblem) {
        return new ControlEvent.StatusReport(
                "0.1.0-test",
                NO_SUCH_PID,
                "/home/test/.cordon",
                192_000,
                modelProblem == null ? "anthropic claude-test" : null,
                modelProblem,
                "bubblewrap",
                List.of("main", "research"),
                1,
                0,
                2,
                List.of(new ControlEvent.LiveSandbox("main", 3, "r-main-3-1", 157_286_400, 230_686_720, 29, 1530, 0)),
                3,
                12_582_912,
                30,
                "http://127.0.0.1:7878");
    }

    /** The acknowledged outbound ids, in order. */
    List<Long> acks() {
        List<Long> acks = new ArrayList<>();
        for (ControlRequest request : received) {
            if (request instanceof ControlRequest.ReplyAck(long outboundId)) {
                acks.add(outboundId);
            }
        }
        return acks;
    }

    <T extends ControlRequest> List<T> received(Class<T> type) {
        return received.stream().filter(type::isInstance).map(type::cast).toList();
    }

    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(socket);
    }

    private void acceptLoop() {
        try {
            while (true) {
                SocketChannel client = server.accept();
                Thread.ofVirtual().name("fake-daemon-connection").start(() -> serve(client));
            }
        } catch (IOException e) {
            // closed
        }
    }

    private void serve(SocketChannel client) {
        try (FrameChannel<ControlRequest, ControlEvent> channel = new FrameChannel<>(
                Channels.newInputStream(client), Channels.newOutputStream(client), ControlRequest.class, client)) {
            Peer peer = new Peer(channel);
            ControlRequest request;
            while ((request = channel.receive()) != null) {
                received.add(request);
                switch (request) {
                    case ControlRequest.Status s -> peer.send(status);
                    case ControlRequest.Stop s -> {
                        peer.send(new ControlEvent.Stopping());
                        close();
                        return;
                    }
                    case ControlRequest.Attach attach -> {
                        List<ControlEvent.Reply> replay = attach.replayPending() ? List.copyOf(pending) : List.of();
                        peer.send(new ControlEvent.Attached(attach.agent(), replay.size()));
                        for (ControlEvent.Reply reply : replay) {
                            peer.send(reply);
                        }
                    }
                    case ControlRequest.Say say -> {
                        long inboundId = nextInboundId.getAndIncrement();
                        peer.send(new ControlEvent.Accepted(say.clientMessageId(), inboundId));
                        onSay.on(say, inboundId, peer);
                    }
                    case ControlRequest.ReplyAck ack -> {}
                    case ControlRequest.AccessRequest access -> peer.send(onAccess.apply(access));
                    case ControlRequest.ApprovalList l -> peer.send(onApproval.apply(l));
                    case ControlRequest.ApprovalShow s -> peer.send(onApproval.apply(s));
                    case ControlRequest.ApprovalApprove a -> peer.send(onApproval.apply(a));
                    case ControlRequest.ApprovalDeny d -> peer.send(onApproval.apply(d));
                    case ControlRequest.SessionsList l -> peer.send(onSessions.apply(l));
                    case ControlRequest.SessionsKill k -> peer.send(onSessions.apply(k));
                    case ControlRequest.AgentsList l -> peer.send(onAgents.apply(l));
                    case ControlRequest.AgentsCreate c -> peer.send(onAgents.apply(c));
                    case ControlRequest.AgentsShare c -> peer.send(onAgents.apply(c));
                    case ControlRequest.AgentsDelete c -> peer.send(onAgents.apply(c));
                    case ControlRequest.Dashboard d -> peer.send(onDashboard.apply(d));
                    case ControlRequest.TaskRequest t -> peer.send(onTasks.apply(t));
                }
            }
        } catch (IOException e) {
            // the client went away
        }
    }
}
