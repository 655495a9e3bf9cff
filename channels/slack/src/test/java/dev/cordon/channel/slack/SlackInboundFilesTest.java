package dev.cordon.channel.slack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.InboundFile;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.testkit.FakeSlack;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Files people share, over Socket Mode, downloaded from {@link FakeSlack}'s files.slack.com with the bot token. */
class SlackInboundFilesTest {
    static final byte[] CSV = "day,spend\nmon,3\n\u00e9t\u00e9,4\n".getBytes(StandardCharsets.UTF_8);

    FakeSlack slack;
    SlackChannel channel;
    final List<NewInbound> stored = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        slack = FakeSlack.start();
        slack.channel("D0ALICE", true);
        SlackSettings settings = new SlackSettings(slack.api(), FakeSlack.APP_TOKEN, FakeSlack.BOT_TOKEN);
        HttpClient http = HttpClient.newHttpClient();
        channel = new SlackChannel(
                settings,
                new SlackApi(http, settings),
                http,
                new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), new SplittableRandom(7)));
        channel.start(message -> {
            stored.add(message);
            return new InboundSink.InboundResult.Accepted(stored.size(), false);
        });
        await().atMost(Duration.ofSeconds(20)).until(channel::isReady);
    }

    @AfterEach
    void stop() {
        channel.close();
        slack.close();
    }

    /** Alice shares {@code name} in her DM with the bot; the message as the host got it. */
    NewInbound shared(String name, String type, byte[] bytes, String text) {
        int before = stored.size();
        slack.share("U0ALICE", "D0ALICE", name, type, bytes, text);
        await().atMost(Duration.ofSeconds(20)).until(() -> stored.size() > before);
        return stored.getLast();
    }

    static byte[] read(InboundFile file) throws IOException {
        try (InputStream in = file.bytes().open()) {
            return in.readAllBytes();
        }
    }

    @Test
    void aSharedFileIsReportedWithItsTextAndDownloadedWithTheBotToken() throws Exception {
        NewInbound m = shared("spend.csv", "text/csv", CSV, "totals please");

        assertThat(m.text()).isEqualTo("totals please");
        assertThat(m.files()).singleElement().satisfies(f -> {
            assertThat(f.name()).isEqualTo("spend.csv");
            assertThat(f.mediaType()).isEqualTo("text/csv");
            assertThat(f.size()).isEqualTo(CSV.length);
        });
        assertThat(read(m.files().getFirst())).isEqualTo(CSV);
        assertThat(slack.calls()).contains("files.download").doesNotContain("files.download without token");
    }

    @Test
    void aFileWithoutTextIsStillReported() throws Exception {
        NewInbound m = shared("photo.png", "image/png", new byte[] {(byte) 0x89, 'P', 'N', 'G'}, "");

        assertThat(m.text()).isEmpty();
        assertThat(m.mentioned()).isTrue();
        assertThat(read(m.files().getFirst())).containsExactly(0x89, 'P', 'N', 'G');
    }

    @Test
    void aFailedDownloadNamesSlacksAnswer() throws Exception {
        InboundFile file = shared("spend.csv", "text/csv", CSV, "x").files().getFirst();

        slack.failNext("files.download", FakeSlack.Failure.rateLimited(30));
        assertThatThrownBy(() -> read(file))
                .isInstanceOf(IOException.class)
                .hasMessage("Slack answered HTTP 429 for 'spend.csv', retry after 30 s")
                .isInstanceOfSatisfying(
                        Attachment.Unavailable.class,
                        u -> assertThat(u.retryAfter()).isEqualTo(Duration.ofSeconds(30)));
        slack.failNext("files.download", FakeSlack.Failure.status(404));
        assertThatThrownBy(() -> read(file))
                .hasMessage("Slack answered HTTP 404 for 'spend.csv'")
                .isNotInstanceOf(Attachment.Unavailable.class);
        assertThat(read(file)).isEqualTo(CSV);
    }

    @Test
    void withoutTheRightTokenSlackAnswersItsLoginPageWhichFailsClearly() throws Exception {
        shared("spend.csv", "text/csv", CSV, "x");
        SlackApi wrong = new SlackApi(
                HttpClient.newHttpClient(), new SlackSettings(slack.api(), null, "xoxb-1-someone-elses-token"));
        InboundFile file = new SlackFiles(wrong)
                .of(SlackApi.JSON.readTree(slack.envelopes()
                        .getLast()
                        .path("payload")
                        .path("event")
                        .toString()))
                .getFirst();

        assertThatThrownBy(() -> read(file))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("Slack answered its login page (HTML) instead of 'spend.csv'")
                .hasMessageContaining("files:read");
        assertThat(slack.calls()).contains("files.download without token");
    }

    @Test
    void theBotTokenGoesOnlyToSlacksOwnHosts() {
        SlackApi api = new SlackApi(
                HttpClient.newHttpClient(), new SlackSettings(SlackSettings.SLACK_API, null, FakeSlack.BOT_TOKEN));
        String external = "{\"files\":[{\"id\":\"F1\",\"name\":\"plan.gdoc\",\"mode\":\"external\","
                + "\"url_private\":\"https://docs.example.com/d/1\"},"
                + "{\"id\":\"F2\",\"name\":\"old.txt\",\"mode\":\"hidden_by_limit\"}]}";

        List<InboundFile> files = new SlackFiles(api).of(SlackApi.JSON.readTree(external));

        assertThatThrownBy(() -> read(files.get(0)))
                .hasMessage("'plan.gdoc' is not a file Slack hosts (https://docs.example.com): the bot token goes only"
                        + " to slack.com, so it was not fetched");
        assertThatThrownBy(() -> read(files.get(1))).hasMessageContaining("mode hidden_by_limit");
        assertThat(files.get(1).size()).isEqualTo(-1);
    }
}
