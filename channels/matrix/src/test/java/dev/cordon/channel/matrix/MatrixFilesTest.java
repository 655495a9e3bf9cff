package dev.cordon.channel.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.FakeMatrix;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files to Matrix: the media upload, then an {@code m.file} message naming its {@code mxc://} URI. */
class MatrixFilesTest {
    static final String TOKEN = "syt_fake_token_for_tests";
    static final byte[] GZ = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

    @TempDir
    Path dir;

    FakeMatrix matrix;
    MatrixChannel channel;

    @BeforeEach
    void start() {
        matrix = FakeMatrix.start(TOKEN, "cordon");
        channel = new MatrixChannel(
                new MatrixSettings(matrix.url(), TOKEN, Duration.ofSeconds(2), true, dir.resolve("sync-token")),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(50), Duration.ofMillis(200), new SplittableRandom(1)),
                new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(60), new SplittableRandom(2)),
                100);
    }

    @AfterEach
    void stop() {
        channel.close();
        matrix.close();
    }

    static OutgoingMessage withFile(String room, String caption, String key) {
        Attachment file = new Attachment(
                "dump.gz", "application/gzip", GZ.length, "12".repeat(32), () -> new ByteArrayInputStream(GZ));
        return new OutgoingMessage(2, room, 0, null, caption, false, key, List.of(), file);
    }

    @Test
    void theFileIsUploadedThenSentAsAnMFileWithItsCaption() throws Exception {
        assertThat(channel.capabilities().files()).isTrue();
        String room = matrix.room(FakeMatrix.user("alice"));

        DeliveryResult result = channel.deliver(withFile(room, "The dump.", "file:1"));

        FakeMatrix.Sent sent = matrix.nextSent(Duration.ofSeconds(10));
        assertThat(result).isEqualTo(new DeliveryResult.Delivered(sent.eventId()));
        assertThat(sent.content().path("msgtype").asString()).isEqualTo("m.file");
        assertThat(sent.body()).isEqualTo("The dump.");
        assertThat(sent.content().path("filename").asString()).isEqualTo("dump.gz");
        assertThat(sent.content().path("info").path("mimetype").asString()).isEqualTo("application/gzip");
        assertThat(sent.content().path("info").path("size").asLong()).isEqualTo(GZ.length);
        FakeMatrix.Media media = matrix.media(sent.content().path("url").asString());
        assertThat(media.bytes()).isEqualTo(GZ);
        assertThat(media.fileName()).isEqualTo("dump.gz");
        assertThat(media.mediaType()).isEqualTo("application/gzip");
    }

    @Test
    void tooLargeForTheHomeserverFailsForGoodAndARateLimitWaitsAsAsked() {
        String room = matrix.room(FakeMatrix.user("alice"));
        matrix.failNext("upload", 1, 429, "M_LIMIT_EXCEEDED", "Too many requests", 4000L);

        assertThat(channel.deliver(withFile(room, "", "file:2")))
                .isInstanceOfSatisfying(
                        DeliveryResult.RetryLater.class,
                        r -> assertThat(r.after()).isEqualTo(Duration.ofSeconds(4)));

        matrix.uploadLimit(5);
        assertThat(channel.deliver(withFile(room, "", "file:3")))
                .isInstanceOfSatisfying(
                        DeliveryResult.Failed.class, f -> assertThat(f.reason()).contains("M_TOO_LARGE"));
        assertThat(matrix.sent()).isEmpty();
    }
}
