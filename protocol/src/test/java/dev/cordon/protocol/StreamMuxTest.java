package dev.cordon.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class StreamMuxTest {
    /** Two muxes wired back to back, as the runner's and the host's are over the channel. */
    static final class Pair {
        final AtomicLong aInFlight = new AtomicLong();
        final AtomicLong aMaxInFlight = new AtomicLong();
        final List<String> endsSeenByA = new CopyOnWriteArrayList<>();
        StreamMux a;
        StreamMux b;

        Pair() {
            a = new StreamMux(
                    new StreamMux.Wire() {
                        @Override
                        public void data(String id, byte[] bytes) {
                            aMaxInFlight.accumulateAndGet(aInFlight.addAndGet(bytes.length), Math::max);
                            b.data(id, bytes);
                        }

                        @Override
                        public void end(String id, String error) {
                            b.end(id, error);
                        }

                        @Override
                        public void ack(String id, int bytes) {
                            b.ack(id, bytes);
                        }
                    },
                    4);
            b = new StreamMux(
                    new StreamMux.Wire() {
                        @Override
                        public void data(String id, byte[] bytes) {
                            a.data(id, bytes);
                        }

                        @Override
                        public void end(String id, String error) {
                            endsSeenByA.add(id + ":" + error);
                            a.end(id, error);
                        }

                        @Override
                        public void ack(String id, int bytes) {
                            aInFlight.addAndGet(-bytes);
                            a.ack(id, bytes);
                        }
                    },
                    4);
        }
    }

    @Test
    void aLargeTransferArrivesIntactAndNeverExceedsTheWindow() throws Exception {
        Pair p = new Pair();
        StreamMux.Channel sender = p.a.open("s1");
        StreamMux.Channel receiver = p.b.open("s1");
        byte[] payload = new byte[20 << 20];
        new Random(7).nextBytes(payload);

        CompletableFuture<Void> send = CompletableFuture.runAsync(() -> {
            try {
                sender.out().write(payload);
                sender.shutdownOutput();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[7_000];
        int n;
        while ((n = receiver.in().read(buf)) >= 0) {
            got.write(buf, 0, n);
        }
        send.get(30, TimeUnit.SECONDS);

        assertThat(got.toByteArray()).isEqualTo(payload);
        assertThat(p.aMaxInFlight.get()).isPositive().isLessThanOrEqualTo(StreamMux.WINDOW);
    }

    @Test
    void aWireThatKeepsWhatItIsGivenGetsCopiesSoAWriterMayReuseItsArray() throws Exception {
        // The pair's wires queue the arrays at the peer (as one that sends later would); copy()
        // refills one buffer for every piece. Without the wire's copy the receiver would read the
        // last piece's bytes in place of the earlier ones.
        Pair p = new Pair();
        StreamMux.Channel sender = p.a.open("s1");
        StreamMux.Channel receiver = p.b.open("s1");
        byte[] payload = new byte[3 * StreamMux.CHUNK + 11];
        new Random(11).nextBytes(payload);

        StreamMux.copy(new java.io.ByteArrayInputStream(payload), sender.out());
        sender.shutdownOutput();

        assertThat(receiver.in().readAllBytes()).isEqualTo(payload);
    }

    @Test
    void transferToPassesEveryFrameOnWithinTheWindowAndEndsAtTheCleanEnd() throws Exception {
        Pair p = new Pair();
        StreamMux.Channel sender = p.a.open("s1");
        StreamMux.Channel receiver = p.b.open("s1");
        byte[] payload = new byte[20 << 20];
        new Random(11).nextBytes(payload);

        CompletableFuture<Void> send = CompletableFuture.runAsync(() -> {
            try {
                // Odd-sized writes: frames of all sizes, some split across the chunk limit.
                for (int off = 0; off < payload.length; off += 300_001) {
                    sender.out().write(payload, off, Math.min(300_001, payload.length - off));
                }
                sender.shutdownOutput();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        receiver.in().read(new byte[3]);
        got.write(payload, 0, 3);
        long moved = receiver.in().transferTo(got);
        send.get(30, TimeUnit.SECONDS);

        assertThat(moved).isEqualTo(payload.length - 3);
        assertThat(got.toByteArray()).isEqualTo(payload);
        assertThat(p.aMaxInFlight.get()).isPositive().isLessThanOrEqualTo(StreamMux.WINDOW);
        assertThat(p.aInFlight).as("every byte acknowledged").hasValue(0);
    }

    @Test
    void transferToFailsWhenThePeerAborts() throws Exception {
        Pair p = new Pair();
        StreamMux.Channel receiver = p.b.open("s1");
        p.a.open("s1").out().write("part".getBytes());
        p.a.closeAll("the runner is stopping");

        ByteArrayOutputStream got = new ByteArrayOutputStream();
        assertThatThrownBy(() -> receiver.in().transferTo(got))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("the runner is stopping");
        assertThat(got.toString()).as("what came before the abort").isEqualTo("part");
    }

    @Test
    void aHalfCloseEndsOneDirectionAndTheOtherGoesOn() throws Exception {
        Pair p = new Pair();
        StreamMux.Channel a = p.a.open("s1");
        StreamMux.Channel b = p.b.open("s1");

        a.out().write("request".getBytes());
        a.shutdownOutput();
        assertThat(new String(b.in().readAllBytes())).isEqualTo("request");
        b.out().write("response".getBytes());
        b.shutdownOutput();

        assertThat(new String(a.in().readAllBytes())).isEqualTo("response");
        assertThat(p.a.open()).isZero();
        assertThat(p.b.open()).isZero();
    }

    @Test
    void aPeerThatIgnoresTheWindowLosesThatStreamOnly() throws Exception {
        Pair p = new Pair();
        StreamMux.Channel victim = p.b.open("s1");
        StreamMux.Channel other = p.b.open("s2");
        p.a.open("s2");

        p.b.data("s1", new byte[StreamMux.WINDOW + 1]);

        assertThatThrownBy(() -> victim.in().read())
                .isInstanceOf(IOException.class)
                .hasMessageContaining("window");
        assertThat(p.endsSeenByA).anyMatch(e -> e.startsWith("s1:") && e.contains("window"));
        p.b.data("s2", "fine".getBytes());
        assertThat(other.in().read(new byte[4])).isEqualTo(4);
    }

    @Test
    void anAckForBytesNeverSentAbortsTheStream() {
        Pair p = new Pair();
        StreamMux.Channel c = p.b.open("s1");

        p.b.ack("s1", 10);

        assertThatThrownBy(() -> c.out().write(1))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("acknowledged 10");
    }

    @Test
    void idsAndStreamCountsAreChecked() {
        Pair p = new Pair();
        assertThatThrownBy(() -> p.a.open("../x")).isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> p.a.open("")).isInstanceOf(ProtocolException.class);
        for (int i = 0; i < 4; i++) {
            p.a.open("s" + i);
        }
        assertThatThrownBy(() -> p.a.open("s9")).hasMessageContaining("more than 4 streams");
        p.b.open("s1");
        assertThatThrownBy(() -> p.b.open("s1")).hasMessageContaining("stream s1 is already open");
    }

    @Test
    void closingAllFailsBlockedReadersAndWriters() throws Exception {
        Pair p = new Pair();
        StreamMux.Channel reader = p.b.open("r");
        StreamMux.Channel writer = p.a.open("w");
        // Nobody on b reads "w", so the writer blocks once the window is full.
        p.b.open("w");
        List<Throwable> failures = new ArrayList<>();
        Thread r = Thread.ofVirtual().start(() -> {
            try {
                reader.in().read();
            } catch (IOException e) {
                synchronized (failures) {
                    failures.add(e);
                }
            }
        });
        Thread w = Thread.ofVirtual().start(() -> {
            try {
                writer.out().write(new byte[StreamMux.WINDOW * 2]);
            } catch (IOException e) {
                synchronized (failures) {
                    failures.add(e);
                }
            }
        });
        Thread.sleep(200);
        p.b.closeAll("host going away");
        p.a.closeAll("host going away");
        r.join(5_000);
        w.join(5_000);

        assertThat(failures).hasSize(2);
    }
}
