package dev.cordon.channel.telegram;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.FakeTelegram;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Files through {@code sendDocument} against {@link FakeTelegram}, which reads the real multipart form. */
class TelegramFilesTest {
    static final String TOKEN = "123456789:AAHfake-token-for-tests_0123456789";
    static final byte[] PDF = "%PDF-1.7\n...binary \u0000 bytes...\n%%EOF\n".getBytes(StandardCharsets.ISO_8859_1);

    FakeTelegram telegram;
    TelegramChannel channel;

    @BeforeEach
    void start() {
        telegram = FakeTelegram.start(TOKEN, "cordon_bot");
        channel = new TelegramChannel(
                new TelegramSettings(telegram.url(), TOKEN, Duration.ofSeconds(2)),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(50), Duration.ofMillis(200), new SplittableRandom(1)),
                new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(60), new SplittableRandom(2)));
    }

    @AfterEach
    void stop() {
        channel.close();
        telegram.close();
    }

    static OutgoingMessage withFile(long chat, String replyTo, String caption) {
        Attachment file = new Attachment(
                "report \"Q3\".pdf",
                "application/pdf",
                PDF.length,
                "ab".repeat(32),
                () -> new ByteArrayInputStream(PDF));
        return new OutgoingMessage(7, Long.toString(chat), 0, replyTo, caption, false, "file:1", List.of(), file);
    }

    @Test
    void aFileGoesAsADocumentWithItsNameTypeBytesCaptionAndReply() throws Exception {
        assertThat(channel.capabilities().files()).isTrue();
        FakeTelegram.User alice = telegram.user("alice");
        FakeTelegram.Chat dm = telegram.privateChat(alice);
        long asked = telegram.say(dm, alice, "send me the report");

        DeliveryResult sent = channel.deliver(withFile(dm.id(), Long.toString(asked), "The Q3 report."));

        assertThat(sent).isInstanceOf(DeliveryResult.Delivered.class);
        FakeTelegram.Document doc = telegram.nextDocument(Duration.ofSeconds(10));
        assertThat(doc.chatId()).isEqualTo(dm.id());
        assertThat(doc.fileName()).isEqualTo("report 'Q3'.pdf");
        assertThat(doc.mediaType()).isEqualTo("application/pdf");
        assertThat(doc.bytes()).isEqualTo(PDF);
        assertThat(doc.caption()).isEqualTo("The Q3 report.");
        assertThat(doc.replyTo()).isEqualTo(asked);
        assertThat(((DeliveryResult.Delivered) sent).platformMessageId()).isEqualTo(Long.toString(doc.messageId()));
    }

    @Test
    void aFileWithoutCaptionSendsNoCaptionField() throws Exception {
        FakeTelegram.User bob = telegram.user("bob");
        FakeTelegram.Chat dm = telegram.privateChat(bob);

        assertThat(channel.deliver(withFile(dm.id(), null, ""))).isInstanceOf(DeliveryResult.Delivered.class);

        assertThat(telegram.nextDocument(Duration.ofSeconds(10)).caption()).isNull();
    }

    @Test
    void tooLargeForTelegramFailsForGoodAndFloodControlWaitsAsAsked() {
        FakeTelegram.User alice = telegram.user("alice");
        FakeTelegram.Chat dm = telegram.privateChat(alice);

        telegram.failNext("sendDocument", 1, 429, "Too Many Requests: retry after 7", 7);
        assertThat(channel.deliver(withFile(dm.id(), null, "x")))
                .isEqualTo(new DeliveryResult.RetryLater(
                        Duration.ofSeconds(7), "Telegram answered 429 (Too Many Requests: retry after 7)"));

        telegram.uploadLimit(100);
        assertThat(channel.deliver(withFile(dm.id(), null, "x")))
                .isInstanceOfSatisfying(
                        DeliveryResult.Failed.class,
                        f -> assertThat(f.reason()).contains("413 (Request Entity Too Large)"));
    }
}
