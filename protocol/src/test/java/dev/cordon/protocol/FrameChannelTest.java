package dev.cordon.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A runner's and a host's {@link FrameChannel} on the two ends of a real Unix socket. */
@Timeout(value = 60, unit = TimeUnit.SECONDS) // a hang guard, not a performance assertion
class FrameChannelTest {
    private static final int SENDERS = 8;
    private static final int PER_SENDER = 1250;

    @TempDir
    Path dir;

    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private SocketChannel runnerEnd;
    private SocketChannel hostEnd;
    private FrameChannel<HostMessage, RunnerMessage> runner;
    private FrameChannel<RunnerMessage, HostMessage> host;

    @BeforeEach
    void connect() throws IOException {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(dir.resolve("host.sock"));
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(address);
            runnerEnd = SocketChannel.open(StandardProtocolFamily.UNIX);
            runnerEnd.connect(address);
            hostEnd = listener.accept();
        }
        runner = new FrameChannel<>(
                Channels.newInputStream(runnerEnd), Channels.newOutputStream(runnerEnd), HostMessage.class, runnerEnd);
        host = new FrameChannel<>(
                Channels.newInputStream(hostEnd), Channels.newOutputStream(hostEnd), RunnerMessage.class, hostEnd);
    }

    @AfterEach
    void close() throws IOException {
        runner.close();
        host.close();
    }

    @Test
    void messagesCrossTheSocketInBothDirections() throws IOException {
        runner.send(new RunnerMessage.Ready("0.1.0"));
        host.send(new HostMessage.Shutdown("bye"));

        assertThat(host.receive()).isEqualTo(new RunnerMessage.Ready("0.1.0"));
        assertThat(runner.receive()).isEqualTo(new HostMessage.Shutdown("bye"));
    }

    @Test
    void aPeerThatClosesCleanlyBetweenFramesGivesNull() throws IOException {
        runner.send(new RunnerMessage.ModelCancel("call-1"));
        runner.close();

        assertThat(host.receive()).isEqualTo(new RunnerMessage.ModelCancel("call-1"));
        assertThat(host.receive()).isNull();
    }

    @Test
    void aMalformedFrameFromThePeerIsAProtocolException() throws IOException {
        OutputStream raw = Channels.newOutputStream(runnerEnd);
        Frames.write(raw, "{\"type\":\"take_over_the_host\"}".getBytes(StandardCharsets.UTF_8));

        assertThatThrownBy(host::receive)
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageContaining("take_over_the_host");
    }

    @Test
    void aPeerThatDiesInsideAFrameIsAProtocolException() throws IOException {
        OutputStream raw = Channels.newOutputStream(runnerEnd);
        raw.write(new byte[] {0, 0, 0, 100, '{', '"'});
        runnerEnd.close();

        assertThatThrownBy(host::receive)
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("stream ended inside a frame of 100 bytes");
    }

    @Test
    void streamDataCrossesAsBinaryFramesBothWaysBetweenJsonMessages() throws IOException {
        // Smaller than the socket's buffer: this thread reads only after it has sent everything.
        byte[] chunk = new byte[100_000];
        new Random(3).nextBytes(chunk);

        runner.send(new RunnerMessage.EgressOpen("e1"));
        runner.send(new RunnerMessage.StreamData("e1", chunk));
        runner.send(new RunnerMessage.StreamAck("e1", 5));
        host.send(new HostMessage.StreamData("e1", new byte[] {1, 2, 3}));
        host.send(new HostMessage.StreamEnd("e1", null));

        assertThat(host.receive()).isEqualTo(new RunnerMessage.EgressOpen("e1"));
        assertThat(host.receive()).usingRecursiveComparison().isEqualTo(new RunnerMessage.StreamData("e1", chunk));
        assertThat(host.receive()).isEqualTo(new RunnerMessage.StreamAck("e1", 5));
        assertThat(runner.receive())
                .usingRecursiveComparison()
                .isEqualTo(new HostMessage.StreamData("e1", new byte[] {1, 2, 3}));
        assertThat(runner.receive()).isEqualTo(new HostMessage.StreamEnd("e1", null));
    }

    @Test
    void streamDataIsNotBase64InsideJsonOnTheWire() throws IOException {
        FrameChannel<HostMessage, RunnerMessage> spy =
                new FrameChannel<>(new ByteArrayInputStream(new byte[0]), captured, HostMessage.class, () -> {});

        spy.send(new RunnerMessage.StreamData("e9", "GET / HTTP/1.1".getBytes(StandardCharsets.US_ASCII)));

        byte[] wire = captured.toByteArray();
        assertThat(wire).hasSize(4 + 2 + 2 + 14);
        assertThat(wire[0] & 0x80).as("the binary bit").isEqualTo(0x80);
        assertThat(new String(wire, 8, 14, StandardCharsets.US_ASCII)).isEqualTo("GET / HTTP/1.1");
    }

    @Test
    void aBinaryFrameOnAChannelWithoutStreamsIsAProtocolException() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Frames.writeStreamData(bytes, "e1", new byte[] {1});
        FrameChannel<ControlRequest, ControlEvent> control = new FrameChannel<>(
                new ByteArrayInputStream(bytes.toByteArray()),
                OutputStream.nullOutputStream(),
                ControlRequest.class,
                () -> {});

        assertThatThrownBy(control::receive)
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("stream data frame on a ControlRequest channel");
    }

    @Test
    void anUnknownBinaryTagFromThePeerIsAProtocolException() throws IOException {
        OutputStream raw = Channels.newOutputStream(runnerEnd);
        raw.write(new byte[] {(byte) 0x80, 0, 0, 3, 0x42, 1, 'x'});

        assertThatThrownBy(host::receive)
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("unknown binary frame tag 0x42 (only 0x01, stream data)");
    }

    /**
     * The muxes of both sides over a real channel, as the runner's relay and the host's session
     * run them: a download larger than the window arrives intact while JSON messages keep flowing
     * on the same channel.
     */
    @Test
    void muxedStreamsOverTheChannelCarryALargeTransferIntact() throws Exception {
        StreamMux[] hostMux = new StreamMux[1];
        StreamMux runnerMux = new StreamMux(
                new StreamMux.Wire() {
                    @Override
                    public void data(String id, byte[] bytes) throws IOException {
                        runner.send(new RunnerMessage.StreamData(id, bytes));
                    }

                    @Override
                    public void end(String id, String error) throws IOException {
                        runner.send(new RunnerMessage.StreamEnd(id, error));
                    }

                    @Override
                    public void ack(String id, int bytes) throws IOException {
                        runner.send(new RunnerMessage.StreamAck(id, bytes));
                    }
                },
                4);
        hostMux[0] = new StreamMux(
                new StreamMux.Wire() {
                    @Override
                    public void data(String id, byte[] bytes) throws IOException {
                        host.send(new HostMessage.StreamData(id, bytes));
                    }

                    @Override
                    public void end(String id, String error) throws IOException {
                        host.send(new HostMessage.StreamEnd(id, error));
                    }

                    @Override
                    public void ack(String id, int bytes) throws IOException {
                        host.send(new HostMessage.StreamAck(id, bytes));
                    }
                },
                4);
        List<RunnerMessage> otherToHost = new CopyOnWriteArrayList<>();
        Thread hostReader = Thread.ofVirtual().start(() -> {
            try {
                RunnerMessage m;
                while ((m = host.receive()) != null) {
                    switch (m) {
                        case RunnerMessage.StreamData d -> hostMux[0].data(d.streamId(), d.data());
                        case RunnerMessage.StreamEnd e -> hostMux[0].end(e.streamId(), e.error());
                        case RunnerMessage.StreamAck a -> hostMux[0].ack(a.streamId(), a.bytes());
                        default -> otherToHost.add(m);
                    }
                }
            } catch (IOException e) {
                // closed
            }
        });
        Thread runnerReader = Thread.ofVirtual().start(() -> {
            try {
                HostMessage m;
                while ((m = runner.receive()) != null) {
                    switch (m) {
                        case HostMessage.StreamData d -> runnerMux.data(d.streamId(), d.data());
                        case HostMessage.StreamEnd e -> runnerMux.end(e.streamId(), e.error());
                        case HostMessage.StreamAck a -> runnerMux.ack(a.streamId(), a.bytes());
                        default -> {}
                    }
                }
            } catch (IOException e) {
                // closed
            }
        });
        byte[] download = new byte[3 * StreamMux.WINDOW + 12_345];
        new Random(11).nextBytes(download);
        StreamMux.Channel hostSide = hostMux[0].open("e1");
        StreamMux.Channel runnerSide = runnerMux.open("e1");

        Future<?> sending = Executors.newVirtualThreadPerTaskExecutor().submit(() -> {
            hostSide.out().write(download);
            hostSide.shutdownOutput();
            return null;
        });
        for (int i = 0; i < 100; i++) {
            runner.send(new RunnerMessage.TextDelta("turn-1", "tick " + i));
        }
        byte[] got = runnerSide.in().readAllBytes();
        sending.get(30, TimeUnit.SECONDS);

        assertThat(got).isEqualTo(download);
        runner.close();
        hostReader.join();
        runnerReader.join();
        assertThat(otherToHost).hasSize(100).allMatch(m -> m instanceof RunnerMessage.TextDelta);
    }

    /**
     * Eight threads share one channel, as the turn thread and the model-call threads of a runner do.
     * Some messages are larger than the channel's 64 KiB buffer, so a frame is written in several
     * pieces; if two sends ever interleaved, a length would be read from the middle of a payload and
     * decoding would fail or a message would be lost.
     */
    @Test
    void sendIsSafeFromManyThreadsAtOnce() throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> senders = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(SENDERS)) {
            for (int t = 0; t < SENDERS; t++) {
                String sender = "sender-" + t;
                senders.add(pool.submit(() -> {
                    go.await();
                    for (int seq = 0; seq < PER_SENDER; seq++) {
                        runner.send(new RunnerMessage.TextDelta(sender, text(seq)));
                    }
                    return null;
                }));
            }
            go.countDown();

            int[] next = new int[SENDERS];
            try {
                for (int i = 0; i < SENDERS * PER_SENDER; i++) {
                    RunnerMessage.TextDelta delta = (RunnerMessage.TextDelta) host.receive();
                    assertThat(delta).as("message %d", i).isNotNull();
                    int sender = Integer.parseInt(delta.turnId().substring("sender-".length()));
                    assertThat(delta.text())
                            .as("message %d of %s, in the order it was sent", next[sender], delta.turnId())
                            .isEqualTo(text(next[sender]));
                    next[sender]++;
                }
            } catch (RuntimeException | AssertionError | IOException e) {
                // Unblock the senders (they wait for a reader) so the failure is reported at once.
                runner.close();
                host.close();
                throw e;
            }
            for (Future<?> f : senders) {
                f.get();
            }
            assertThat(next).containsOnly(PER_SENDER);
        }
        runner.close();
        assertThat(host.receive()).isNull();
    }

    @Test
    void streamDataFromTheCallersArrayArrivesWholeBesideOtherSendersAndTheArrayIsFreeOnReturn() throws Exception {
        // Large pieces go out as a head and then the caller's array (two writes), small ones through
        // the buffer: frames of several threads must not interleave either way, and each sender
        // overwrites its one array as soon as the call returns.
        int pieces = 60;
        int[] sizes = {1, FrameChannel.UNBUFFERED_PAYLOAD - 1, FrameChannel.UNBUFFERED_PAYLOAD, StreamMux.CHUNK};
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> senders = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            for (int t = 0; t < 4; t++) {
                String stream = "s" + t;
                senders.add(pool.submit(() -> {
                    byte[] reused = new byte[StreamMux.CHUNK + 7];
                    go.await();
                    for (int i = 0; i < pieces; i++) {
                        int size = sizes[i % sizes.length];
                        java.util.Arrays.fill(reused, (byte) i);
                        runner.sendStreamData(stream, reused, 7, size);
                        java.util.Arrays.fill(reused, (byte) -1); // the frame is gone: no effect
                        runner.send(new RunnerMessage.StreamAck(stream, i));
                    }
                    return null;
                }));
            }
            go.countDown();
            int[] next = new int[4];
            for (int m = 0; m < 4 * pieces * 2; m++) {
                RunnerMessage message = host.receive();
                switch (message) {
                    case RunnerMessage.StreamData d -> {
                        int t = d.streamId().charAt(1) - '0';
                        int i = next[t];
                        assertThat(d.data())
                                .as("piece %d of %s", i, d.streamId())
                                .hasSize(sizes[i % sizes.length]);
                        byte[] expected = new byte[d.data().length];
                        java.util.Arrays.fill(expected, (byte) i);
                        assertThat(d.data())
                                .as("piece %d of %s", i, d.streamId())
                                .isEqualTo(expected);
                    }
                    case RunnerMessage.StreamAck a -> {
                        int t = a.streamId().charAt(1) - '0';
                        assertThat(a.bytes()).isEqualTo(next[t]);
                        next[t]++;
                    }
                    default -> throw new AssertionError("unexpected " + message);
                }
            }
            for (Future<?> f : senders) {
                f.get();
            }
            assertThat(next).containsOnly(pieces);
        }
        assertThatThrownBy(() -> runner.sendStreamData("s1", new byte[4], 2, 3))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    private static String text(int seq) {
        int size = seq % 97 == 0 ? 70_000 + seq : seq % 300;
        return seq + ":" + "é".repeat(size);
    }
}
