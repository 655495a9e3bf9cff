package dev.cordon.channel.matrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.InboundFile;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.testkit.FakeMatrix;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/** Files people send in rooms, read from /sync and downloaded with {@link FakeMatrix}'s authenticated media API. */
class MatrixInboundFilesTest {
    static final String TOKEN = "syt_Y29yZG9u_fakeAccessToken_0a1b2c";
    static final String ALICE = FakeMatrix.user("alice");
    static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};

    @TempDir
    Path dir;

    FakeMatrix matrix;
    MatrixChannel channel;
    String room;
    final LinkedBlockingQueue<NewInbound> inbox = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() {
        matrix = FakeMatrix.start(TOKEN, "cordon");
        room = matrix.room(ALICE);
        channel = new MatrixChannel(
                new MatrixSettings(matrix.url(), TOKEN, Duration.ofSeconds(2), true, dir.resolve("sync-token")),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(50), Duration.ofMillis(200), new SplittableRandom(1)),
                new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(60), new SplittableRandom(2)));
        channel.start(m -> {
            inbox.add(m);
            return new InboundSink.InboundResult.Accepted(inbox.size(), false);
        });
        await().atMost(Duration.ofSeconds(20)).until(channel::isSyncing);
    }

    @AfterEach
    void stop() {
        channel.close();
        matrix.close();
    }

    NewInbound next() throws InterruptedException {
        NewInbound m = inbox.poll(20, TimeUnit.SECONDS);
        assertThat(m).as("an inbound message").isNotNull();
        return m;
    }

    static byte[] read(InboundFile file) throws IOException {
        try (InputStream in = file.bytes().open()) {
            return in.readAllBytes();
        }
    }

    @Test
    void anImageWithACaptionIsReportedAndDownloadedWithTheAccessToken() throws Exception {
        matrix.sendFile(room, ALICE, "m.image", "chart.png", "image/png", PNG, "what does this show?");

        NewInbound m = next();

        assertThat(m.text()).isEqualTo("what does this show?");
        assertThat(m.mentioned()).as("a direct room").isTrue();
        assertThat(m.files()).singleElement().satisfies(f -> {
            assertThat(f.name()).isEqualTo("chart.png");
            assertThat(f.mediaType()).isEqualTo("image/png");
            assertThat(f.size()).isEqualTo(PNG.length);
        });
        assertThat(read(m.files().getFirst())).isEqualTo(PNG);
        assertThat(matrix.downloads()).containsExactly("download");
    }

    @Test
    void fileAudioAndVideoWithoutCaptionAreStillReported() throws Exception {
        byte[] pdf = "%PDF-1.7 \u0000".getBytes(StandardCharsets.ISO_8859_1);
        matrix.sendFile(room, ALICE, "m.file", "notes.pdf", "application/pdf", pdf, null);
        matrix.sendFile(room, ALICE, "m.audio", "voice.ogg", "audio/ogg", new byte[] {1, 2}, null);
        matrix.sendFile(room, ALICE, "m.video", "clip.mp4", "video/mp4", new byte[] {3, 4}, null);

        NewInbound file = next();
        NewInbound audio = next();
        NewInbound video = next();

        assertThat(file.text()).isEmpty();
        assertThat(file.files().getFirst().name()).isEqualTo("notes.pdf");
        assertThat(read(file.files().getFirst())).isEqualTo(pdf);
        assertThat(audio.files().getFirst().mediaType()).isEqualTo("audio/ogg");
        assertThat(read(audio.files().getFirst())).containsExactly(1, 2);
        assertThat(read(video.files().getFirst())).containsExactly(3, 4);
    }

    @Test
    void aFailedDownloadNamesTheHomeserversAnswer() throws Exception {
        matrix.sendFile(room, ALICE, "m.file", "notes.pdf", "application/pdf", PNG, null);
        InboundFile file = next().files().getFirst();

        matrix.failNext("download", 1, 429, "M_LIMIT_EXCEEDED", "Too Many Requests", 1500L);
        assertThatThrownBy(() -> read(file))
                .isInstanceOf(IOException.class)
                .hasMessage("the homeserver answered 429 M_LIMIT_EXCEEDED (Too Many Requests) for 'notes.pdf', retry"
                        + " after 1500 ms")
                .isInstanceOfSatisfying(
                        Attachment.Unavailable.class,
                        u -> assertThat(u.retryAfter()).isEqualTo(Duration.ofMillis(1500)));
        matrix.failNext("download", 1, 404, "M_NOT_FOUND", "Not found", null);
        assertThatThrownBy(() -> read(file))
                .hasMessage("the homeserver answered 404 M_NOT_FOUND (Not found) for 'notes.pdf'")
                .isNotInstanceOf(Attachment.Unavailable.class);
        assertThat(read(file)).isEqualTo(PNG);
    }

    @Test
    void anEncryptedFileIsReportedButItsFetchSaysItCannotBeDecrypted() throws Exception {
        ObjectNode content = ClientApi.object().put("msgtype", "m.file").put("body", "secret.pdf");
        content.putObject("file").put("url", "mxc://localhost/encrypted1").put("v", "v2");
        content.putObject("info").put("mimetype", "application/pdf").put("size", 42);
        matrix.send(room, ALICE, content);

        InboundFile file = next().files().getFirst();

        assertThat(file.name()).isEqualTo("secret.pdf");
        assertThat(file.size()).isEqualTo(42);
        assertThatThrownBy(() -> read(file))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("'secret.pdf' is end-to-end encrypted")
                .hasMessageContaining("cannot decrypt");
        assertThat(matrix.downloads()).isEmpty();
    }

    @Test
    void theMediaApiRefusesADownloadWithoutTheToken() throws Exception {
        matrix.sendFile(room, ALICE, "m.image", "chart.png", "image/png", PNG, null);
        next();

        HttpResponse<String> answer = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(
                                        URI.create(matrix.url() + "/_matrix/client/v1/media/download/localhost/media1"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());

        assertThat(answer.statusCode()).isEqualTo(401);
        assertThat(answer.body()).contains("M_MISSING_TOKEN");
        assertThat(matrix.downloads()).containsExactly("without token");
    }
}
