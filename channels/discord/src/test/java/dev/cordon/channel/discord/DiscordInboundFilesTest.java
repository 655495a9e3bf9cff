package dev.cordon.channel.discord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.InboundFile;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.file.FileVault;
import dev.cordon.core.file.InboundFiles;
import dev.cordon.core.store.Store.ReceivedFile;
import dev.cordon.testkit.FakeDiscord;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files people attach, read from MESSAGE_CREATE and downloaded from {@link FakeDiscord}'s signed CDN links. */
class DiscordInboundFilesTest {
    static final byte[] LOG = "ERROR boom\n\u0000\u0001tail\n".getBytes(StandardCharsets.ISO_8859_1);

    FakeDiscord discord;
    DiscordChannel channel;
    FakeDiscord.User alice;
    String dm;
    final List<NewInbound> stored = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        discord = FakeDiscord.start();
        alice = discord.user("alice");
        dm = discord.dm(alice);
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
        channel.start(message -> {
            stored.add(message);
            return new InboundSink.InboundResult.Accepted(stored.size(), false);
        });
        await().atMost(Duration.ofSeconds(20)).until(channel::isReady);
    }

    @AfterEach
    void stop() {
        channel.close();
        discord.close();
    }

    NewInbound attached(String text, String name, String type, byte[] bytes) {
        int before = stored.size();
        discord.sayWithFile(alice, dm, text, name, type, bytes);
        await().atMost(Duration.ofSeconds(20)).until(() -> stored.size() > before);
        return stored.getLast();
    }

    static byte[] read(InboundFile file) throws IOException {
        try (InputStream in = file.bytes().open()) {
            return in.readAllBytes();
        }
    }

    @Test
    void anAttachmentIsAFileWithItsNameTypeAndSizeNotALineOfText() throws Exception {
        NewInbound m = attached("what broke?", "build.log", "text/plain; charset=utf-8", LOG);

        assertThat(m.text()).isEqualTo("what broke?");
        assertThat(m.files()).singleElement().satisfies(f -> {
            assertThat(f.name()).isEqualTo("build.log");
            assertThat(f.mediaType()).isEqualTo("text/plain; charset=utf-8");
            assertThat(f.size()).isEqualTo(LOG.length);
        });
        assertThat(read(m.files().getFirst())).isEqualTo(LOG);
        assertThat(discord.calls()).contains("cdn").doesNotContain("cdn unsigned");
    }

    @Test
    void aFileWithoutTextIsStillReported() throws Exception {
        NewInbound m = attached("", "shot.png", "image/png", new byte[] {(byte) 0x89, 'P', 'N', 'G'});

        assertThat(m.text()).isEmpty();
        assertThat(read(m.files().getFirst())).containsExactly(0x89, 'P', 'N', 'G');
    }

    @Test
    void aFailedDownloadNamesTheCdnsAnswer() throws Exception {
        InboundFile file = attached("x", "build.log", "text/plain", LOG).files().getFirst();

        discord.failNextDownload(429, "3");
        assertThatThrownBy(() -> read(file))
                .isInstanceOf(IOException.class)
                .hasMessage("Discord's CDN answered 429 for 'build.log' (You are being rate limited.), retry after 3 s")
                .isInstanceOfSatisfying(
                        Attachment.Unavailable.class,
                        u -> assertThat(u.retryAfter()).isEqualTo(Duration.ofSeconds(3)));
        discord.expireAttachmentLinks();
        assertThatThrownBy(() -> read(file))
                .isInstanceOf(IOException.class)
                .hasMessage(
                        "Discord's CDN answered 404 for 'build.log' (This content is no longer available.): the link"
                                + " expired (after about a day) or the file was deleted")
                .isNotInstanceOf(Attachment.Unavailable.class);
    }

    @Test
    void theHostTriesABusyCdnAgainAndKeepsTheFile(@TempDir Path vault) throws Exception {
        InboundFile file = attached("x", "build.log", "text/plain", LOG).files().getFirst();
        discord.failNextDownload(503, null);
        discord.failNextDownload(429, "0.2");
        long before = discord.calls().stream().filter("cdn"::equals).count();

        ReceivedFile kept = new InboundFiles(new FileVault(vault), 1 << 20)
                .receive(List.of(file))
                .getFirst();

        assertThat(kept.problem()).isNull();
        assertThat(kept.size()).isEqualTo(LOG.length);
        assertThat(discord.calls().stream().filter("cdn"::equals).count() - before)
                .isEqualTo(3);
    }

    @Test
    void theCdnServesOnlyBySignatureAndTheBotTokenIsNeverSentToIt() throws Exception {
        InboundFile file = attached("x", "build.log", "text/plain", LOG).files().getFirst();
        assertThat(read(file)).isEqualTo(LOG);
        assertThat(discord.calls()).contains("cdn").doesNotContain("cdn with a token");
        String signed = discord.attachmentUrls().getLast();
        String unsigned = signed.substring(0, signed.indexOf('?'));

        HttpResponse<String> answer = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(unsigned))
                                .header("Authorization", "Bot " + FakeDiscord.TOKEN)
                                .build(),
                        HttpResponse.BodyHandlers.ofString());

        assertThat(answer.statusCode()).isEqualTo(404);
        assertThat(answer.body()).isEqualTo("This content is no longer available.");
    }
}
