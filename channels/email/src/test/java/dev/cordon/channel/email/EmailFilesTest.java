package dev.cordon.channel.email;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.OutgoingMessage;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A file as a MIME attachment, through GreenMail's real SMTP and IMAP servers. */
class EmailFilesTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, (byte) 0xff};

    final MailServer server = new MailServer().start();
    final LinkedBlockingQueue<String> inbox = new LinkedBlockingQueue<>();
    EmailChannel channel;

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.close();
        }
        server.close();
    }

    @Test
    void aFileGoesAsAnAttachmentBesideTheTextInTheSameThread() throws Exception {
        channel = new EmailChannel(
                server.settings(true, Duration.ofMinutes(5)),
                new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), new SplittableRandom(5)));
        channel.start(message -> {
            inbox.add(message.platformMessageId());
            return new dev.cordon.core.channel.InboundSink.InboundResult.Accepted(inbox.size(), false);
        });
        await().atMost(WAIT).until(channel::isConnected);
        server.send("alice@example.org", "Chart", "Send the chart, please.", Map.of("Message-ID", "<c1@example.org>"));
        assertThat(inbox.poll(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS))
                .isEqualTo("<c1@example.org>");
        assertThat(channel.capabilities().files()).isTrue();

        Attachment file = new Attachment(
                "chart.png", "image/png", PNG.length, "ef".repeat(32), () -> new ByteArrayInputStream(PNG));
        DeliveryResult sent = channel.deliver(new OutgoingMessage(
                1, MailServer.AGENT, 1, "<c1@example.org>", "Here it is.", false, "file:9", List.of(), file));

        assertThat(sent).isInstanceOf(DeliveryResult.Delivered.class);
        await().atMost(WAIT).until(() -> server.mail.getReceivedMessagesForDomain("example.org").length == 1);
        MimeMessage mail = server.mail.getReceivedMessagesForDomain("example.org")[0];
        assertThat(mail.getHeader("In-Reply-To", null)).isEqualTo("<c1@example.org>");
        assertThat(mail.getContentType()).startsWith("multipart/mixed");
        MimeMultipart parts = (MimeMultipart) mail.getContent();
        assertThat(parts.getCount()).isEqualTo(2);
        assertThat(parts.getBodyPart(0).getContent().toString()).isEqualTo("Here it is.");
        Part attached = parts.getBodyPart(1);
        assertThat(attached.getDisposition()).isEqualTo(Part.ATTACHMENT);
        assertThat(attached.getFileName()).isEqualTo("chart.png");
        assertThat(attached.getContentType()).startsWith("image/png");
        assertThat(attached.getInputStream().readAllBytes()).isEqualTo(PNG);
        assertThat(new String(PNG, StandardCharsets.ISO_8859_1)).startsWith("\u0089PNG");
    }
}
