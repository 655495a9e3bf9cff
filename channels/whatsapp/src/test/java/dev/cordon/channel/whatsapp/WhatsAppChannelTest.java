package dev.cordon.channel.whatsapp;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HookRequest;
import dev.cordon.core.channel.HookResponse;
import dev.cordon.core.channel.HookSignature;
import dev.cordon.core.channel.InboundSink.InboundResult;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.FakeGraph;
import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The WhatsApp adapter against {@link FakeGraph}: webhooks over real HTTP to a loopback listener
 * that hands them to the adapter (as the daemon's hook listener does), sends to the fake Graph API.
 */
class WhatsAppChannelTest {
    static final String TOKEN = "EAAGtestaccesstoken0123456789";
    static final String APP_SECRET = "0123456789abcdef0123456789abcdef";
    static final String VERIFY = "verify-token-0123456789";
    static final String NUMBER_ID = "106540352242922";
    static final String ALICE = "4915112345678";

    FakeGraph graph;
    WhatsAppChannel channel;
    HttpServer listener;
    URI hookUrl;
    final List<NewInbound> stored = Collections.synchronizedList(new ArrayList<>());
    final Set<String> storedIds = Collections.synchronizedSet(new HashSet<>());

    @BeforeEach
    void start() throws Exception {
        graph = FakeGraph.start(TOKEN, NUMBER_ID);
        channel = channel(TOKEN);
        channel.start(m -> {
            boolean duplicate = !storedIds.add(m.platformChatId() + "/" + m.platformMessageId());
            if (!duplicate) {
                stored.add(m);
            }
            return new InboundResult.Accepted(stored.size(), duplicate);
        });
        listener = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        listener.createContext("/hooks/whatsapp", exchange -> {
            try (exchange) {
                Map<String, String> query = new HashMap<>();
                String raw = exchange.getRequestURI().getRawQuery();
                if (raw != null) {
                    for (String pair : raw.split("&")) {
                        String[] kv = pair.split("=", 2);
                        query.put(kv[0], URLDecoder.decode(kv.length > 1 ? kv[1] : "", StandardCharsets.UTF_8));
                    }
                }
                HookResponse r = channel.receive(new HookRequest(
                        exchange.getRequestMethod(),
                        "",
                        new HashMap<>(exchange.getRequestHeaders()),
                        query,
                        exchange.getRequestBody().readAllBytes()));
                byte[] out = r.body().getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(r.status(), out.length);
                exchange.getResponseBody().write(out);
            }
        });
        listener.start();
        hookUrl = URI.create("http://127.0.0.1:" + listener.getAddress().getPort() + "/hooks/whatsapp");
    }

    WhatsAppChannel channel(String token) {
        return new WhatsAppChannel(
                new WhatsAppSettings(
                        graph.url(), NUMBER_ID, token, APP_SECRET.getBytes(StandardCharsets.UTF_8), VERIFY),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(10), Duration.ofMillis(20), new SplittableRandom(1)));
    }

    @AfterEach
    void stop() {
        listener.stop(0);
        channel.close();
        graph.close();
    }

    @Test
    void theSubscriptionHandshakeEchoesTheChallengeOnlyForTheRightVerifyToken() {
        HttpResponse<String> ok = graph.subscribe(hookUrl, VERIFY, "1158201444");
        HttpResponse<String> wrong = graph.subscribe(hookUrl, "verify-token-guessed-000", "1158201444");

        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("1158201444");
        assertThat(wrong.statusCode()).isEqualTo(403);
        assertThat(wrong.body()).doesNotContain("1158201444");
    }

    @Test
    void aSignedMessageIsStoredAsTheSendersChatBeforeThe200() {
        HttpResponse<String> r = graph.post(hookUrl, graph.says(ALICE, "Alice", "hello agent"), APP_SECRET);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(stored).singleElement().satisfies(m -> {
            assertThat(m.channel()).isEqualTo("whatsapp");
            assertThat(m.platformChatId()).isEqualTo(ALICE);
            assertThat(m.senderId()).isEqualTo(ALICE);
            assertThat(m.platformMessageId()).startsWith("wamid.");
            assertThat(m.text()).isEqualTo("hello agent");
            assertThat(m.mentioned()).isTrue();
        });
    }

    @Test
    void aPressedReplyButtonArrivesAsItsTitleReplyingToTheMessageItWasUnder() {
        graph.post(hookUrl, graph.pressed(ALICE, "Alice", "wamid.question", "option-2", "No"), APP_SECRET);

        assertThat(stored).singleElement().satisfies(m -> {
            assertThat(m.text()).isEqualTo("No");
            assertThat(m.replyToPlatformMessageId()).isEqualTo("wamid.question");
        });
    }

    @Test
    void aReplayedBatchIsStoredOnceAndStatusUpdatesAreNoMessages() {
        String payload = graph.says(ALICE, "Alice", "once");
        graph.post(hookUrl, payload, APP_SECRET);
        HttpResponse<String> replay = graph.post(hookUrl, payload, APP_SECRET);
        HttpResponse<String> status = graph.post(hookUrl, graph.delivered(ALICE, "wamid.x"), APP_SECRET);

        assertThat(replay.statusCode()).isEqualTo(200);
        assertThat(status.statusCode()).isEqualTo(200);
        assertThat(stored).hasSize(1);
    }

    @Test
    void aMissingWrongOrTamperedSignatureIsRefusedAndNothingIsStored() {
        String payload = graph.says(ALICE, "Alice", "hi");
        String good = "sha256="
                + HookSignature.hmacSha256Hex(
                        APP_SECRET.getBytes(StandardCharsets.UTF_8), payload.getBytes(StandardCharsets.UTF_8));

        assertThat(graph.post(hookUrl, payload, null, false).statusCode()).isEqualTo(401);
        assertThat(graph.post(hookUrl, payload, "another-app-secret-0123456789").statusCode())
                .isEqualTo(401);
        assertThat(graph.post(hookUrl, payload.replace("\"hi\"", "\"pay\""), good, true)
                        .statusCode())
                .isEqualTo(401);
        assertThat(stored).isEmpty();
    }

    @Test
    void aStoreFailureAsksMetaToSendTheBatchAgain() {
        channel.start(m -> {
            throw new IllegalStateException("disk full");
        });

        assertThat(graph.post(hookUrl, graph.says(ALICE, "Alice", "hi"), APP_SECRET)
                        .statusCode())
                .isEqualTo(503);
    }

    @Test
    void aReplyIsTextInReplyToTheQuestion() throws Exception {
        graph.post(hookUrl, graph.says(ALICE, "Alice", "hi"), APP_SECRET);

        DeliveryResult r = channel.deliver(new OutgoingMessage(1, ALICE, 1, "wamid.q", "Hello Alice.", false, "k1"));

        FakeGraph.Sent sent = graph.nextSent(Duration.ofSeconds(5));
        assertThat(sent.type()).isEqualTo("text");
        assertThat(sent.text()).isEqualTo("Hello Alice.");
        assertThat(sent.contextId()).isEqualTo("wamid.q");
        assertThat(r).isEqualTo(new DeliveryResult.Delivered(sent.id()));
    }

    @Test
    void upToThreeShortOptionsAreReplyButtonsAndOthersANumberedList() throws Exception {
        graph.post(hookUrl, graph.says(ALICE, "Alice", "hi"), APP_SECRET);

        channel.deliver(new OutgoingMessage(1, ALICE, 0, null, "Deploy now?", false, "k1", List.of("Yes", "No")));
        channel.deliver(new OutgoingMessage(
                2, ALICE, 0, null, "Which?", false, "k2", List.of("Alpha", "Beta", "Gamma", "Delta")));
        channel.deliver(new OutgoingMessage(
                3, ALICE, 0, null, "Which?", false, "k3", List.of("A title far longer than twenty", "B")));

        FakeGraph.Sent buttons = graph.nextSent(Duration.ofSeconds(5));
        assertThat(buttons.type()).isEqualTo("interactive");
        assertThat(buttons.text()).isEqualTo("Deploy now?");
        assertThat(buttons.buttons()).containsExactly("Yes", "No");
        FakeGraph.Sent four = graph.nextSent(Duration.ofSeconds(5));
        assertThat(four.type()).isEqualTo("text");
        assertThat(four.text()).isEqualTo("Which?\n\n1. Alpha\n2. Beta\n3. Gamma\n4. Delta\n(Answer with a number.)");
        FakeGraph.Sent longTitle = graph.nextSent(Duration.ofSeconds(5));
        assertThat(longTitle.type()).isEqualTo("text");
        assertThat(longTitle.text()).contains("1. A title far longer than twenty");
    }

    @Test
    void theReengagementWindowFailsForGoodRateLimitsAndAnExpiredTokenWait() {
        graph.post(hookUrl, graph.says(ALICE, "Alice", "hi"), APP_SECRET);
        OutgoingMessage m = new OutgoingMessage(1, ALICE, 0, null, "later", false, "k");

        graph.failNext(1, 400, 130429, "(#130429) Rate limit hit");
        assertThat(channel.deliver(m))
                .isInstanceOfSatisfying(
                        DeliveryResult.RetryLater.class,
                        r -> assertThat(r.reason()).contains("130429"));
        graph.failNext(1, 500, 1, "An unknown error occurred");
        assertThat(channel.deliver(m)).isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(channel("EAAGexpired").deliver(m))
                .isInstanceOfSatisfying(
                        DeliveryResult.RetryLater.class,
                        r -> assertThat(r.reason())
                                .contains("190", "access token")
                                .doesNotContain("EAAGexpired"));

        graph.expireWindow(ALICE);
        assertThat(channel.deliver(m))
                .isInstanceOfSatisfying(
                        DeliveryResult.Failed.class, f -> assertThat(f.reason()).contains("131047", "24 hours"));
        assertThat(channel.deliver(new OutgoingMessage(2, "4900000000000", 0, null, "x", false, "k2")))
                .isInstanceOf(DeliveryResult.Failed.class);
    }

    static final byte[] PDF = "%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n".getBytes(StandardCharsets.US_ASCII);

    static OutgoingMessage withFile(String replyTo, String caption, Attachment file) {
        return new OutgoingMessage(7, ALICE, 0, replyTo, caption, false, "file:1", List.of(), file);
    }

    static Attachment file(String name, String mediaType, byte[] bytes) {
        return new Attachment(name, mediaType, bytes.length, "ab".repeat(32), () -> new ByteArrayInputStream(bytes));
    }

    @Test
    void aFileIsUploadedToTheMediaStoreThenSentAsADocumentWithItsNameAndCaption() throws Exception {
        assertThat(channel.capabilities().files()).isTrue();
        graph.post(hookUrl, graph.says(ALICE, "Alice", "send me the report"), APP_SECRET);

        DeliveryResult r = channel.deliver(
                withFile("wamid.q", "The Q3 report.", file("report \"Q3\".pdf", "application/pdf", PDF)));

        FakeGraph.Sent sent = graph.nextSent(Duration.ofSeconds(5));
        assertThat(r).isEqualTo(new DeliveryResult.Delivered(sent.id()));
        assertThat(sent.type()).isEqualTo("document");
        assertThat(sent.text()).isEqualTo("The Q3 report.");
        assertThat(sent.contextId()).isEqualTo("wamid.q");
        assertThat(sent.document().fileName()).isEqualTo("report \"Q3\".pdf");
        assertThat(sent.document().mediaType()).isEqualTo("application/pdf");
        assertThat(sent.document().bytes()).isEqualTo(PDF);
        assertThat(graph.media()).containsOnlyKeys(sent.document().id());
    }

    @Test
    void aFileOverWhatsAppsLimitOrOfATypeItRefusesIsRefusedForTheHostToLinkInstead() {
        graph.post(hookUrl, graph.says(ALICE, "Alice", "hi"), APP_SECRET);
        Attachment huge = new Attachment("dump.pdf", "application/pdf", 100L * 1024 * 1024 + 1, "ab".repeat(32), () -> {
            throw new AssertionError("a file over 100 MB is not read, let alone uploaded");
        });
        graph.mediaLimit(16);

        DeliveryResult tooBig = channel.deliver(withFile(null, "", huge));
        DeliveryResult overFakeLimit = channel.deliver(withFile(null, "", file("a.pdf", "application/pdf", PDF)));
        DeliveryResult zip = channel.deliver(withFile(null, "", file("a.zip", "application/zip", PDF)));

        assertThat(tooBig)
                .isInstanceOfSatisfying(
                        DeliveryResult.FileRefused.class,
                        f -> assertThat(f.reason()).contains("dump.pdf", "100 MB"));
        assertThat(overFakeLimit)
                .isInstanceOfSatisfying(
                        DeliveryResult.FileRefused.class,
                        f -> assertThat(f.reason()).contains("131053", "size too big"));
        assertThat(zip)
                .isInstanceOfSatisfying(
                        DeliveryResult.FileRefused.class,
                        f -> assertThat(f.reason()).contains("(#100)", "application/zip"));
        assertThat(graph.media()).isEmpty();
        assertThat(graph.sent()).isEmpty();
    }

    @Test
    void otherPermanentErrorsOfAFileMessageStillFailForGood() {
        graph.post(hookUrl, graph.says(ALICE, "Alice", "hi"), APP_SECRET);
        graph.expireWindow(ALICE);
        OutgoingMessage m = withFile(null, "notes", file("notes.txt", "text/plain", PDF));

        assertThat(channel.deliver(m))
                .isInstanceOfSatisfying(
                        DeliveryResult.Failed.class, f -> assertThat(f.reason()).contains("131047"));
        assertThat(channel.deliver(withFile(null, "x".repeat(1025), file("a.pdf", "application/pdf", PDF))))
                .isInstanceOfSatisfying(
                        DeliveryResult.Failed.class, f -> assertThat(f.reason()).contains("caption"));
    }

    @Test
    void aRateLimitedUploadIsRetriedLaterAndThenSent() throws Exception {
        graph.post(hookUrl, graph.says(ALICE, "Alice", "hi"), APP_SECRET);
        OutgoingMessage m =
                withFile(null, "notes", file("notes.txt", "text/plain", "hello\n".getBytes(StandardCharsets.UTF_8)));
        graph.failNext(1, 429, 130429, "(#130429) Rate limit hit");

        DeliveryResult first = channel.deliver(m);
        DeliveryResult again = channel.deliver(m);

        assertThat(first)
                .isInstanceOfSatisfying(
                        DeliveryResult.RetryLater.class,
                        r -> assertThat(r.reason()).contains("130429"));
        FakeGraph.Sent sent = graph.nextSent(Duration.ofSeconds(5));
        assertThat(again).isEqualTo(new DeliveryResult.Delivered(sent.id()));
        assertThat(sent.document().fileName()).isEqualTo("notes.txt");
        assertThat(graph.media()).hasSize(1);
    }
}
