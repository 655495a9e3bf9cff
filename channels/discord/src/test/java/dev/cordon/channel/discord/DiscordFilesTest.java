package dev.cordon.channel.discord;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.FakeDiscord;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Files to Discord as {@code payload_json} plus {@code files[0]}, against {@link FakeDiscord}. */
class DiscordFilesTest {
    static final byte[] ZIP = {'P', 'K', 3, 4, 0, (byte) 0x80, (byte) 0xff, 0, 'x'};

    FakeDiscord discord;
    DiscordChannel channel;

    @BeforeEach
    void start() throws Exception {
        discord = FakeDiscord.start();
        DiscordSettings settings = new DiscordSettings(discord.api(), FakeDiscord.TOKEN, null);
        HttpClient http = HttpClient.newHttpClient();
        channel = new DiscordChannel(
                settings,
                new DiscordRest(
                        http,
                        settings,
                        new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), new SplittableRandom(3)),
                        Clock.systemUTC()),
                http,
                new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), new SplittableRandom(7)),
                new SplittableRandom(11),
                Duration.ofMillis(10));
    }

    @AfterEach
    void stop() {
        channel.close();
        discord.close();
    }

    static OutgoingMessage withFile(String chat, String caption, String key) {
        Attachment file = new Attachment(
                "logs.zip", "application/zip", ZIP.length, "01".repeat(32), () -> new ByteArrayInputStream(ZIP));
        return new OutgoingMessage(5, chat, 0, null, caption, false, key, List.of(), file);
    }

    @Test
    void aFileIsPostedWithThePayloadAndItsBytesUnchanged() {
        assertThat(channel.capabilities().files()).isTrue();
        String room = discord.textChannel();

        DeliveryResult sent = channel.deliver(withFile(room, "The logs.", "file:a"));

        assertThat(sent).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(discord.uploads()).singleElement().satisfies(u -> {
            assertThat(u.fileName()).isEqualTo("logs.zip");
            assertThat(u.mediaType()).isEqualTo("application/zip");
            assertThat(u.bytes()).isEqualTo(ZIP);
            assertThat(u.content()).isEqualTo("The logs.");
            assertThat(u.messageId()).isEqualTo(((DeliveryResult.Delivered) sent).platformMessageId());
        });
        assertThat(discord.posted()
                        .getFirst()
                        .request()
                        .path("allowed_mentions")
                        .path("parse"))
                .isEmpty();
    }

    @Test
    void aFileAloneNeedsNoTextAndOneTooLargeFailsForGoodWithDiscordsWords() {
        String room = discord.textChannel();
        assertThat(channel.deliver(withFile(room, "", "file:b"))).isInstanceOf(DeliveryResult.Delivered.class);

        discord.uploadLimit(100);
        assertThat(channel.deliver(withFile(room, "x".repeat(200), "file:c")))
                .isInstanceOfSatisfying(
                        DeliveryResult.Failed.class,
                        f -> assertThat(f.reason()).contains("413 Request entity too large (code 40005)"));
    }

    @Test
    void aRateLimitedUploadIsRetriedAfterDiscordsDelay() {
        String room = discord.textChannel();
        discord.failNext(room, 429, "3");

        assertThat(channel.deliver(withFile(room, "x", "file:d")))
                .isInstanceOfSatisfying(
                        DeliveryResult.RetryLater.class,
                        r -> assertThat(r.after()).isEqualTo(Duration.ofSeconds(3)));
        assertThat(discord.uploads()).isEmpty();
    }
}
