package dev.cordon.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    private static String text(int seq) {
        int size = seq % 97 == 0 ? 70_000 + seq : seq % 300;
        return seq + ":" + "é".repeat(size);
    }
}
