package dev.cordon.channel.whatsapp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.HookRequest;
import dev.cordon.core.channel.HookSignature;
import dev.cordon.core.channel.InboundFile;
import dev.cordon.core.channel.InboundSink.InboundResult;
import dev.cordon.testkit.FakeGraph;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Media people send, read from signed webhooks and fetched from {@link FakeGraph} by media id, then URL. */
class WhatsAppInboundFilesTest {
    static final String TOKEN = "EAAGtestaccesstoken0123456789";
    static final String APP_SECRET = "0123456789abcdef0123456789abcdef";
    static final String NUMBER_ID = "106540352242922";
    static final String ALICE = "4915112345678";
    static final byte[] PDF = "%PDF-1.5\n\u0000\u00fe invoice\n%%EOF".getBytes(StandardCharsets.ISO_8859_1);

    FakeGraph graph;
    WhatsAppChannel channel;
    final List<NewInbound> stored = new ArrayList<>();

    @BeforeEach
    void start() {
        graph = FakeGraph.start(TOKEN, NUMBER_ID);
        channel = channel(TOKEN);
    }

    /** A started adapter with {@code token} whose messages go to {@link #stored}. */
    WhatsAppChannel channel(String token) {
        WhatsAppChannel c = new WhatsAppChannel(
                new WhatsAppSettings(
                        graph.url(),
                        NUMBER_ID,
                        token,
                        APP_SECRET.getBytes(StandardCharsets.UTF_8),
                        "verify-token-0123456789"),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(10), Duration.ofMillis(20), new SplittableRandom(1)));
        c.start(m -> {
            stored.add(m);
            return new InboundResult.Accepted(stored.size(), false);
        });
        return c;
    }

    @AfterEach
    void stop() {
        channel.close();
        graph.close();
    }

    /** Meta POSTs {@code payload}, signed, to {@code to}; returns the message the host got. */
    NewInbound posted(WhatsAppChannel to, String payload) {
        byte[] body = payload.getBytes(StandardCharsets.UTF_8);
        String signature = "sha256=" + HookSignature.hmacSha256Hex(APP_SECRET.getBytes(StandardCharsets.UTF_8), body);
        int before = stored.size();
        assertThat(to.receive(new HookRequest(
                                "POST", "", Map.of("X-Hub-Signature-256", List.of(signature)), Map.of(), body))
                        .status())
                .isEqualTo(200);
        assertThat(stored).hasSize(before + 1);
        return stored.getLast();
    }

    static byte[] read(InboundFile file) throws IOException {
        try (InputStream in = file.bytes().open()) {
            return in.readAllBytes();
        }
    }

    @Test
    void aDocumentIsReportedWithItsFilenameAndCaptionAndFetchedByMediaIdThenUrl() throws Exception {
        NewInbound m = posted(
                channel,
                graph.sendsMedia(ALICE, "Alice", "document", "invoice.pdf", "application/pdf", PDF, "pay this?"));

        assertThat(m.text()).isEqualTo("pay this?");
        assertThat(m.files()).singleElement().satisfies(f -> {
            assertThat(f.name()).isEqualTo("invoice.pdf");
            assertThat(f.mediaType()).isEqualTo("application/pdf");
            assertThat(f.size()).as("the webhook declares no size").isEqualTo(-1);
        });
        assertThat(read(m.files().getFirst())).isEqualTo(PDF);
        assertThat(graph.mediaCalls()).containsExactly("lookup", "download");
    }

    @Test
    void imageAudioVideoAndStickerWithoutCaptionAreStillReported() throws Exception {
        byte[] bytes = {9, 8, 7, 6};
        NewInbound image = posted(channel, graph.sendsMedia(ALICE, "Alice", "image", null, "image/jpeg", bytes, null));
        NewInbound voice =
                posted(channel, graph.sendsMedia(ALICE, "Alice", "audio", null, "audio/ogg; codecs=opus", bytes, null));
        NewInbound video = posted(channel, graph.sendsMedia(ALICE, "Alice", "video", null, "video/mp4", bytes, "look"));
        NewInbound sticker =
                posted(channel, graph.sendsMedia(ALICE, "Alice", "sticker", null, "image/webp", bytes, null));

        assertThat(image.text()).isEmpty();
        assertThat(image.files().getFirst().name()).matches("image-[0-9]+\\.jpg");
        assertThat(voice.files().getFirst().name()).matches("audio-[0-9]+\\.ogg");
        assertThat(voice.files().getFirst().mediaType()).isEqualTo("audio/ogg; codecs=opus");
        assertThat(video.text()).isEqualTo("look");
        assertThat(sticker.files().getFirst().name()).matches("sticker-[0-9]+\\.webp");
        for (NewInbound m : List.of(image, voice, video, sticker)) {
            assertThat(read(m.files().getFirst())).isEqualTo(bytes);
        }
    }

    @Test
    void aFailedFetchNamesTheGraphApisAnswer() throws Exception {
        InboundFile file = posted(
                        channel,
                        graph.sendsMedia(ALICE, "Alice", "document", "invoice.pdf", "application/pdf", PDF, null))
                .files()
                .getFirst();

        graph.failNext(1, 429, 80007, "(#80007) Rate limit hit");
        assertThatThrownBy(() -> read(file))
                .isInstanceOf(IOException.class)
                .hasMessage("WhatsApp's media lookup for 'invoice.pdf' answered 429 (80007 (#80007) Rate limit hit)")
                .isInstanceOf(Attachment.Unavailable.class);
        graph.failNextDownload(1, 429, 80007, "Rate limit hit");
        assertThatThrownBy(() -> read(file))
                .hasMessage("WhatsApp's media download for 'invoice.pdf' answered 429 (80007 Rate limit hit),"
                        + " retry after 60 s")
                .isInstanceOfSatisfying(
                        Attachment.Unavailable.class,
                        u -> assertThat(u.retryAfter()).isEqualTo(Duration.ofSeconds(60)));
        graph.expireMediaUrls();
        assertThatThrownBy(() -> read(file))
                .hasMessage("WhatsApp's media download for 'invoice.pdf' answered 404")
                .isNotInstanceOf(Attachment.Unavailable.class);
    }

    @Test
    void anUnknownMediaIdAndAnotherTokenAreRefusedByTheGraphApi() throws Exception {
        String payload = graph.sendsMedia(ALICE, "Alice", "image", null, "image/png", new byte[] {1}, null);
        InboundFile wrongToken =
                posted(channel("EAAGsomeoneelsestoken000000"), payload).files().getFirst();
        InboundFile unknown = posted(channel, payload.replaceAll("\"id\":\"2000", "\"id\":\"3000"))
                .files()
                .getFirst();

        assertThatThrownBy(() -> read(wrongToken))
                .hasMessageContaining("media lookup for 'image-")
                .hasMessageContaining("answered 401 (190 Invalid OAuth access token - Cannot parse access token)");
        assertThatThrownBy(() -> read(unknown))
                .hasMessageContaining("answered 400 (100 Unsupported get request. Object with ID '3000");
    }

    @Test
    void theMediaHostServesTheLookedUpUrlOnlyWithTheToken() throws Exception {
        String payload = graph.sendsMedia(ALICE, "Alice", "image", null, "image/png", new byte[] {1, 2}, null);
        String id =
                GraphApi.JSON.readTree(payload).findValue("image").path("id").asString();
        HttpClient http = HttpClient.newHttpClient();
        String url = GraphApi.JSON
                .readTree(http.send(
                                HttpRequest.newBuilder(java.net.URI.create(graph.url() + "/" + id))
                                        .header("Authorization", "Bearer " + TOKEN)
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body())
                .path("url")
                .asString();

        HttpResponse<byte[]> without = http.send(
                HttpRequest.newBuilder(java.net.URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray());
        HttpResponse<byte[]> with = http.send(
                HttpRequest.newBuilder(java.net.URI.create(url))
                        .header("Authorization", "Bearer " + TOKEN)
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());

        assertThat(without.statusCode()).isEqualTo(401);
        assertThat(with.statusCode()).isEqualTo(200);
        assertThat(with.body()).containsExactly(1, 2);
    }
}
