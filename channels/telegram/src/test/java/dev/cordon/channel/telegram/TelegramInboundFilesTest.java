package dev.cordon.channel.telegram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.InboundFile;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.testkit.FakeTelegram;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Files people send, read from updates and downloaded from {@link FakeTelegram} as the Bot API serves them. */
class TelegramInboundFilesTest {
    static final String TOKEN = "123456789:AAHfake-token-for-tests_0123456789";
    static final byte[] PDF = "%PDF-1.7\n\u0000\u00ff binary\n%%EOF\n".getBytes(StandardCharsets.ISO_8859_1);

    FakeTelegram telegram;
    TelegramChannel channel;
    FakeTelegram.User alice;
    FakeTelegram.Chat dm;
    final LinkedBlockingQueue<NewInbound> inbox = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() {
        telegram = FakeTelegram.start(TOKEN, "cordon_bot");
        channel = new TelegramChannel(
                new TelegramSettings(telegram.url(), TOKEN, Duration.ofSeconds(2)),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(50), Duration.ofMillis(200), new SplittableRandom(1)),
                new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(60), new SplittableRandom(2)));
        channel.start(m -> {
            inbox.add(m);
            return new InboundSink.InboundResult.Accepted(inbox.size(), false);
        });
        await().atMost(Duration.ofSeconds(20)).until(channel::isPolling);
        alice = telegram.user("alice");
        dm = telegram.privateChat(alice);
    }

    @AfterEach
    void stop() {
        channel.close();
        telegram.close();
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
    void aDocumentIsReportedWithItsCaptionAsTextAndDownloadedWithGetFile() throws Exception {
        telegram.sendFile(dm, alice, "document", "Q3 report.pdf", "application/pdf", PDF, "summarise this");

        NewInbound m = next();

        assertThat(m.text()).isEqualTo("summarise this");
        assertThat(m.files()).singleElement().satisfies(f -> {
            assertThat(f.name()).isEqualTo("Q3 report.pdf");
            assertThat(f.mediaType()).isEqualTo("application/pdf");
            assertThat(f.size()).isEqualTo(PDF.length);
        });
        assertThat(read(m.files().getFirst())).isEqualTo(PDF);
        assertThat(read(m.files().getFirst()))
                .as("each open is a fresh download")
                .isEqualTo(PDF);
        assertThat(telegram.calls()).containsSubsequence("getFile", "download", "getFile", "download");
    }

    @Test
    void aPhotoWithoutCaptionIsReportedAsItsLargestSize() throws Exception {
        byte[] jpeg = {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 0x10, 0x20, 0x30, (byte) 0xff, (byte) 0xd9};
        telegram.sendFile(dm, alice, "photo", null, null, jpeg, null);

        NewInbound m = next();

        assertThat(m.text()).isEmpty();
        assertThat(m.mentioned()).isTrue();
        InboundFile photo = m.files().getFirst();
        assertThat(m.files()).hasSize(1);
        assertThat(photo.name()).startsWith("photo-").endsWith(".jpg");
        assertThat(photo.mediaType()).isEqualTo("image/jpeg");
        assertThat(photo.size()).isEqualTo(jpeg.length);
        assertThat(read(photo)).isEqualTo(jpeg);
    }

    @Test
    void voiceVideoNoteAudioVideoAndAnimationAreEachOneFile() throws Exception {
        byte[] bytes = {1, 2, 3, 4, 5};
        telegram.sendFile(dm, alice, "voice", null, null, bytes, null);
        telegram.sendFile(dm, alice, "video_note", null, null, bytes, null);
        telegram.sendFile(dm, alice, "audio", "song.mp3", "audio/mpeg", bytes, "listen");
        telegram.sendFile(dm, alice, "video", "clip.mp4", "video/mp4", bytes, null);
        telegram.sendFile(dm, alice, "animation", "funny.gif.mp4", "video/mp4", bytes, null);

        InboundFile voice = next().files().getFirst();
        InboundFile note = next().files().getFirst();
        NewInbound audio = next();
        InboundFile video = next().files().getFirst();
        NewInbound animation = next();

        assertThat(voice.name()).matches("voice-.*\\.ogg");
        assertThat(voice.mediaType()).isEqualTo("audio/ogg");
        assertThat(note.name()).matches("video_note-.*\\.mp4");
        assertThat(note.mediaType()).isEqualTo("video/mp4");
        assertThat(audio.text()).isEqualTo("listen");
        assertThat(audio.files().getFirst().name()).isEqualTo("song.mp3");
        assertThat(video.name()).isEqualTo("clip.mp4");
        assertThat(animation.files())
                .as("an animation is also a document: one file")
                .hasSize(1);
        assertThat(animation.files().getFirst().name()).isEqualTo("funny.gif.mp4");
        for (InboundFile f : new InboundFile[] {voice, note, audio.files().getFirst(), video}) {
            assertThat(read(f)).isEqualTo(bytes);
        }
    }

    @Test
    void aFailedDownloadNamesTelegramsAnswer() throws Exception {
        telegram.sendFile(dm, alice, "document", "a.pdf", "application/pdf", PDF, null);
        InboundFile file = next().files().getFirst();

        telegram.failNext("getFile", 1, 429, "Too Many Requests: retry after 7", 7);
        assertThatThrownBy(() -> read(file))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("getFile for 'a.pdf' answered 429 (Too Many Requests: retry after 7)")
                .hasMessageContaining("retry after 7 s")
                .isInstanceOfSatisfying(
                        Attachment.Unavailable.class,
                        u -> assertThat(u.retryAfter()).isEqualTo(Duration.ofSeconds(7)));

        telegram.failNext("download", 1, 404, "Not Found", null);
        assertThatThrownBy(() -> read(file))
                .isInstanceOf(IOException.class)
                .hasMessage("Telegram's file download answered 404 (Not Found)")
                .isNotInstanceOf(Attachment.Unavailable.class);

        assertThat(read(file)).isEqualTo(PDF);
    }

    @Test
    void aFileOverTwentyMegabytesFailsClearlyWithoutADownload() throws Exception {
        telegram.sendBigDocument(dm, alice, "dump.zip", 25L * 1024 * 1024);
        InboundFile big = next().files().getFirst();

        assertThat(big.size()).isEqualTo(25L * 1024 * 1024);
        assertThatThrownBy(() -> read(big))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("'dump.zip' is 26214400 bytes")
                .hasMessageContaining("at most 20 MB");
        assertThat(telegram.calls()).doesNotContain("getFile", "download");
    }

    @Test
    void theFileServerRefusesAnotherTokenAndTheErrorNeverShowsOne() throws Exception {
        telegram.sendFile(dm, alice, "document", "a.pdf", "application/pdf", PDF, null);
        next();
        BotApi wrong = new BotApi(telegram.url(), "123456789:AAHsome-other-token", HttpClient.newHttpClient());

        assertThatThrownBy(() -> wrong.download("documents/file_1", Duration.ofSeconds(10)))
                .isInstanceOf(IOException.class)
                .hasMessage("Telegram's file download answered 401 (Unauthorized)");
        assertThat(telegram.calls()).contains("401 download");
        assertThatThrownBy(() -> wrong.download("../bot123/getMe", Duration.ofSeconds(10)))
                .hasMessage("Telegram's getFile gave a file_path that cannot be fetched: '../bot123/getMe'");
    }
}
