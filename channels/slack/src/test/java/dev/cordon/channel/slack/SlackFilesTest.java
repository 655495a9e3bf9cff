package dev.cordon.channel.slack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.FakeSlack;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Files to Slack in its three steps against {@link FakeSlack}: the upload URL (form fields only),
 * the raw bytes of the declared length, and the share in the channel or thread.
 */
class SlackFilesTest {
    static final byte[] CSV = "region,total\nnorth,12\n".getBytes(StandardCharsets.UTF_8);

    FakeSlack slack;
    SlackChannel channel;

    @BeforeEach
    void start() throws Exception {
        slack = FakeSlack.start();
        SlackSettings settings = new SlackSettings(slack.api(), FakeSlack.APP_TOKEN, FakeSlack.BOT_TOKEN);
        HttpClient http = HttpClient.newHttpClient();
        channel = new SlackChannel(
                settings,
                new SlackApi(http, settings),
                http,
                new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), new SplittableRandom(7)));
    }

    @AfterEach
    void stop() {
        channel.close();
        slack.close();
    }

    static OutgoingMessage withFile(String chat, String replyTo, String caption) {
        Attachment file = new Attachment(
                "totals.csv", "text/csv", CSV.length, "cd".repeat(32), () -> new ByteArrayInputStream(CSV));
        return new OutgoingMessage(3, chat, 0, replyTo, caption, false, "file:2", List.of(), file);
    }

    @Test
    void aFileIsUploadedThenSharedInTheThreadWithItsCommentEscaped() {
        assertThat(channel.capabilities().files()).isTrue();

        DeliveryResult sent =
                channel.deliver(withFile("C0GENERAL", "1700000001.000001@1700000000.000100", "Totals <!channel>"));

        assertThat(sent).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(slack.calls())
                .containsSubsequence("files.getUploadURLExternal", "upload", "files.completeUploadExternal");
        assertThat(slack.files()).singleElement().satisfies(f -> {
            assertThat(f.channel()).isEqualTo("C0GENERAL");
            assertThat(f.fileName()).isEqualTo("totals.csv");
            assertThat(f.bytes()).isEqualTo(CSV);
            assertThat(f.comment()).isEqualTo("Totals &lt;!channel&gt;");
            assertThat(f.threadTs()).isEqualTo("1700000000.000100");
            assertThat(((DeliveryResult.Delivered) sent).platformMessageId()).isEqualTo(f.fileId());
        });
    }

    @Test
    void aRateLimitIsRetriedAfterSlacksDelayAndAChannelWithoutTheBotFailsForGood() {
        slack.failNext("files.getUploadURLExternal", FakeSlack.Failure.rateLimited(9));
        assertThat(channel.deliver(withFile("C0GENERAL", null, "")))
                .isInstanceOfSatisfying(
                        DeliveryResult.RetryLater.class,
                        r -> assertThat(r.after()).isEqualTo(Duration.ofSeconds(9)));

        slack.channel("C0OTHER", false);
        assertThat(channel.deliver(withFile("C0OTHER", null, "")))
                .isInstanceOfSatisfying(
                        DeliveryResult.Failed.class, f -> assertThat(f.reason()).contains("not_in_channel"));
        assertThat(slack.files()).isEmpty();
    }

    @Test
    void aFileTooLargeForSlackFailsForGood() {
        slack.uploadLimit(5);

        assertThat(channel.deliver(withFile("C0GENERAL", null, "")))
                .isInstanceOfSatisfying(
                        DeliveryResult.Failed.class,
                        f -> assertThat(f.reason())
                                .isEqualTo("Slack's upload URL answered HTTP 413 (the file is too large for Slack)"));
    }
}
