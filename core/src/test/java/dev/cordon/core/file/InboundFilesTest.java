package dev.cordon.core.file;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.InboundFile;
import dev.cordon.core.store.Store.ReceivedFile;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads into a real vault folder, from sources that fail the way platforms and networks do. */
class InboundFilesTest {
    static final byte[] BYTES = "the quarterly numbers\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    /** A source that fails with each of {@code failures} in turn, then serves {@link #BYTES}; counts its opens. */
    static final class Flaky implements Attachment.Source {
        final Deque<IOException> failures;
        final AtomicInteger opens = new AtomicInteger();

        Flaky(IOException... failures) {
            this.failures = new ArrayDeque<>(List.of(failures));
        }

        @Override
        public synchronized InputStream open() throws IOException {
            opens.incrementAndGet();
            IOException next = failures.poll();
            if (next == null) {
                return new ByteArrayInputStream(BYTES);
            }
            if (next instanceof EOFException) {
                // Half the body, then the connection drops.
                return new InputStream() {
                    int at;

                    @Override
                    public int read() throws IOException {
                        if (at < BYTES.length / 2) {
                            return BYTES[at++];
                        }
                        throw next;
                    }
                };
            }
            throw next;
        }
    }

    ReceivedFile receive(Flaky source) {
        InboundFiles files = new InboundFiles(new FileVault(dir.resolve("vault")), 1 << 20, Duration.ofMillis(10));
        return files.receive(List.of(new InboundFile("q3.txt", "text/plain", BYTES.length, source)))
                .getFirst();
    }

    @Test
    void aPlatformThatIsBusyOrANetworkThatDropsIsTriedAgainAndTheFileKeptWhole() throws Exception {
        Flaky flaky = new Flaky(
                new Attachment.Unavailable("the CDN answered 503", null), new EOFException("the body stopped"));

        ReceivedFile kept = receive(flaky);

        assertThat(kept.problem()).isNull();
        assertThat(flaky.opens).hasValue(3);
        assertThat(kept.size()).isEqualTo(BYTES.length);
        // Only the whole file is in the vault: the half body of the second try left nothing behind.
        try (Stream<Path> all = Files.walk(dir.resolve("vault"))) {
            assertThat(all.filter(Files::isRegularFile).toList())
                    .singleElement()
                    .satisfies(p -> assertThat(Files.readAllBytes(p)).isEqualTo(BYTES));
        }
    }

    @Test
    void aFailureThatWillNotPassIsNotTriedAgain() {
        Flaky gone = new Flaky(new IOException("the CDN answered 404: the link expired"));

        ReceivedFile file = receive(gone);

        assertThat(gone.opens).hasValue(1);
        assertThat(file.sha256()).isNull();
        assertThat(file.problem()).isEqualTo("could not be fetched: the CDN answered 404: the link expired");
    }

    @Test
    void afterThreeTriesTheLastFailureIsWhatTheAgentIsTold() {
        Flaky down = new Flaky(
                new ConnectException("Connection refused"),
                new Attachment.Unavailable("the CDN answered 502", null),
                new Attachment.Unavailable("the CDN answered 429, retry after 1 s", Duration.ofSeconds(1)),
                new IOException("never reached"));

        ReceivedFile file = receive(down);

        assertThat(down.opens).hasValue(InboundFiles.ATTEMPTS);
        assertThat(file.problem()).isEqualTo("could not be fetched (3 tries): the CDN answered 429, retry after 1 s");
    }

    @Test
    void aPlatformsRetryAfterIsWaitedUpToTheCap() {
        Flaky limited = new Flaky(new Attachment.Unavailable("429", Duration.ofMillis(300)));

        long started = System.nanoTime();
        ReceivedFile file = receive(limited);

        // The platform asked for 300 ms where this host's own first wait is 10 ms.
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        assertThat(file.problem()).isNull();
        assertThat(limited.opens).hasValue(2);
    }

    @Test
    void whichStatusesMayPass() {
        assertThat(List.of(408, 429, 500, 502, 503, 504)).allMatch(Attachment.Unavailable::isTransient);
        assertThat(List.of(400, 401, 403, 404, 410, 413)).noneMatch(Attachment.Unavailable::isTransient);
        assertThat(Attachment.Unavailable.forStatus(503, "busy", null)).isInstanceOf(Attachment.Unavailable.class);
        assertThat(Attachment.Unavailable.forStatus(404, "gone", null))
                .isNotInstanceOf(Attachment.Unavailable.class)
                .hasMessage("gone");
    }
}
