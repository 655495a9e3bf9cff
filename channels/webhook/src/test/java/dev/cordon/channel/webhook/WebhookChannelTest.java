package dev.cordon.channel.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HookRequest;
import dev.cordon.core.channel.HookResponse;
import dev.cordon.core.channel.HookSignature;
import dev.cordon.core.channel.InboundSink.InboundResult;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.FakeReplyTarget;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WebhookChannelTest {
    static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

    FakeReplyTarget target;
    WebhookChannel channel;
    final List<NewInbound> stored = new ArrayList<>();
    final Set<String> storedIds = new HashSet<>();

    @BeforeEach
    void start() {
        target = FakeReplyTarget.start();
        channel = new WebhookChannel(
                new WebhookSettings(
                        List.of(
                                new WebhookSettings.Endpoint("ci", SECRET, target.url()),
                                new WebhookSettings.Endpoint("alerts", SECRET, null)),
                        Duration.ofMinutes(5)),
                Clock.fixed(NOW, ZoneOffset.UTC),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(10), Duration.ofMillis(20), new SplittableRandom(1)));
        // A sink that dedups on the message id, as the store does.
        channel.start(m -> {
            boolean duplicate = !storedIds.add(m.platformChatId() + "/" + m.platformMessageId());
            if (!duplicate) {
                stored.add(m);
            }
            return new InboundResult.Accepted(stored.size(), duplicate);
        });
    }

    @AfterEach
    void stop() {
        channel.close();
        target.close();
    }

    static HookRequest post(String path, Map<String, String> headers, String body) {
        Map<String, List<String>> h = new java.util.HashMap<>();
        headers.forEach((k, v) -> h.put(k, List.of(v)));
        return new HookRequest("POST", path, h, Map.of(), body.getBytes(StandardCharsets.UTF_8));
    }

    static HookRequest signed(String path, String event, long timestamp, String body) {
        String signature = "sha256="
                + HookSignature.hmacSha256Hex(SECRET, (timestamp + "." + body).getBytes(StandardCharsets.UTF_8));
        return post(
                path,
                Map.of(
                        "X-Cordon-Timestamp", Long.toString(timestamp),
                        "X-Cordon-Signature", signature,
                        "X-Cordon-Event-Id", event),
                body);
    }

    @Test
    void aSignedEventIsStoredAsAMessageOfTheEndpointsChatBeforeItIsAcknowledged() {
        HookResponse r = channel.receive(
                signed("/ci", "build-41", NOW.getEpochSecond(), "{\"text\":\"build 41 failed on main\"}"));

        assertThat(r.status()).isEqualTo(202);
        assertThat(r.body()).contains("\"duplicate\":false");
        assertThat(stored).singleElement().satisfies(m -> {
            assertThat(m.channel()).isEqualTo("webhook");
            assertThat(m.platformChatId()).isEqualTo("ci");
            assertThat(m.platformMessageId()).isEqualTo("build-41");
            assertThat(m.senderId()).isEqualTo("ci");
            assertThat(m.text()).isEqualTo("build 41 failed on main");
            assertThat(m.mentioned()).isTrue();
        });
    }

    @Test
    void aPayloadWithoutTextReachesTheAgentAsItsJson() {
        channel.receive(signed("/ci", "alert-7", NOW.getEpochSecond(), "{\"alert\":\"disk full\",\"host\":\"db1\"}"));

        assertThat(stored.getFirst().text()).contains("\"alert\" : \"disk full\"", "\"host\" : \"db1\"");
    }

    @Test
    void aRedeliveryOfTheSameEventIdIsAcknowledgedButStoredOnce() {
        String body = "{\"text\":\"deploy done\"}";
        channel.receive(signed("/ci", "deploy-9", NOW.getEpochSecond(), body));
        HookResponse again = channel.receive(signed("/ci", "deploy-9", NOW.getEpochSecond() + 30, body));

        assertThat(again.status()).isEqualTo(202);
        assertThat(again.body()).contains("\"duplicate\":true");
        assertThat(stored).hasSize(1);
    }

    @Test
    void aWrongSignatureIsRefusedWith401AndNothingIsStored() {
        HookRequest good = signed("/ci", "e1", NOW.getEpochSecond(), "{\"text\":\"hi\"}");
        HookRequest tampered = new HookRequest(
                "POST", "/ci", good.headers(), Map.of(), "{\"text\":\"rm -rf\"}".getBytes(StandardCharsets.UTF_8));

        HookResponse r = channel.receive(tampered);

        assertThat(r.status()).isEqualTo(401);
        assertThat(r.body()).contains("X-Cordon-Signature does not match");
        assertThat(stored).isEmpty();
    }

    @Test
    void aSignatureMadeWithAnotherSecretIsRefused() {
        String body = "{\"text\":\"hi\"}";
        String forged = "sha256="
                + HookSignature.hmacSha256Hex(
                        "another-secret-of-enough-length".getBytes(StandardCharsets.UTF_8),
                        (NOW.getEpochSecond() + "." + body).getBytes(StandardCharsets.UTF_8));
        HookResponse r = channel.receive(post(
                "/ci",
                Map.of(
                        "X-Cordon-Timestamp",
                        Long.toString(NOW.getEpochSecond()),
                        "X-Cordon-Signature",
                        forged,
                        "X-Cordon-Event-Id",
                        "e2"),
                body));

        assertThat(r.status()).isEqualTo(401);
        assertThat(stored).isEmpty();
    }

    @Test
    void aCorrectlySignedRequestOutsideTheReplayWindowIsRefused() {
        HookResponse old = channel.receive(
                signed("/ci", "e3", NOW.minus(Duration.ofMinutes(6)).getEpochSecond(), "{\"text\":\"old\"}"));
        HookResponse future = channel.receive(
                signed("/ci", "e4", NOW.plus(Duration.ofMinutes(6)).getEpochSecond(), "{\"text\":\"future\"}"));

        assertThat(old.status()).isEqualTo(401);
        assertThat(old.body()).contains("360 s away from this server's clock", "at most 300 s");
        assertThat(future.status()).isEqualTo(401);
        assertThat(stored).isEmpty();
    }

    @Test
    void missingOrMalformedPartsAreRefusedWithWhatIsWrong() {
        long ts = NOW.getEpochSecond();
        assertThat(channel.receive(post("/ci", Map.of(), "{}")))
                .satisfies(r -> assertThat(r.status()).isEqualTo(400))
                .satisfies(r -> assertThat(r.body()).contains("X-Cordon-Timestamp must be"));
        assertThat(channel.receive(post("/ci", Map.of("X-Cordon-Timestamp", Long.toString(ts)), "{}")))
                .satisfies(r -> assertThat(r.status()).isEqualTo(401))
                .satisfies(r -> assertThat(r.body()).contains("X-Cordon-Signature is missing"));
        assertThat(channel.receive(signed("/ci", "bad id with spaces", ts, "{}")))
                .satisfies(r -> assertThat(r.status()).isEqualTo(400))
                .satisfies(r -> assertThat(r.body()).contains("X-Cordon-Event-Id must be"));
        assertThat(channel.receive(signed("/ci", "e5", ts, "[1,2]")))
                .satisfies(r -> assertThat(r.status()).isEqualTo(400))
                .satisfies(r -> assertThat(r.body()).contains("must be a JSON object"));
        assertThat(channel.receive(signed("/nope", "e6", ts, "{}")))
                .satisfies(r -> assertThat(r.status()).isEqualTo(404));
        assertThat(channel.receive(new HookRequest("GET", "/ci", Map.of(), Map.of(), new byte[0])))
                .satisfies(r -> assertThat(r.status()).isEqualTo(405));
        assertThat(stored).isEmpty();
    }

    @Test
    void aStoreFailureAsksTheSenderToRetryAndADroppedEventSaysWhy() {
        channel.start(m -> {
            throw new IllegalStateException("disk full");
        });
        assertThat(channel.receive(signed("/ci", "e7", NOW.getEpochSecond(), "{}"))
                        .status())
                .isEqualTo(503);
        channel.start(m -> new InboundResult.Dropped("chat webhook:ci is not wired to an agent"));
        HookResponse dropped = channel.receive(signed("/ci", "e8", NOW.getEpochSecond(), "{}"));
        assertThat(dropped.status()).isEqualTo(403);
        assertThat(dropped.body()).contains("not wired");
    }

    @Test
    void aReplyIsPostedSignedWithAnIdempotencyKeyAndItsOptions() throws Exception {
        DeliveryResult r = channel.deliver(
                new OutgoingMessage(1, "ci", 5, "build-41", "Retry the build?", false, "out-1", List.of("yes", "no")));

        assertThat(r).isEqualTo(new DeliveryResult.Delivered("reply-1"));
        FakeReplyTarget.Received got = target.nextReceived(Duration.ofSeconds(5));
        assertThat(got.header("Idempotency-Key")).isEqualTo("out-1");
        assertThat(got.body().path("text").asString()).isEqualTo("Retry the build?");
        assertThat(got.body().path("in_reply_to").asString()).isEqualTo("build-41");
        assertThat(got.body().path("options").toString()).isEqualTo("[\"yes\",\"no\"]");
        String expected = "sha256="
                + HookSignature.hmacSha256Hex(
                        SECRET,
                        (got.header("X-Cordon-Timestamp") + "." + got.rawBody()).getBytes(StandardCharsets.UTF_8));
        assertThat(got.header("X-Cordon-Signature")).isEqualTo(expected);
    }

    @Test
    void transientFailuresAreRetriedAfterRetryAfterAndTheRetryIsShownOnce() {
        target.failNext(1, 503, "7");
        OutgoingMessage m = new OutgoingMessage(2, "ci", 0, null, "done", false, "out-2");

        assertThat(channel.deliver(m)).isInstanceOfSatisfying(DeliveryResult.RetryLater.class, r -> {
            assertThat(r.after()).isEqualTo(Duration.ofSeconds(7));
            assertThat(r.reason()).contains("503");
        });
        target.failNext(1, 429, null);
        assertThat(channel.deliver(m)).isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(channel.deliver(m)).isEqualTo(new DeliveryResult.Delivered("reply-1"));
        // The receiver's answer was lost: the same key again is recognised, not shown twice.
        assertThat(channel.deliver(m)).isEqualTo(new DeliveryResult.Delivered("reply-1"));
        assertThat(target.received()).hasSize(1);
    }

    @Test
    void aRefusingReceiverOrNoReplyUrlFailsTheReplyForGood() {
        target.failNext(1, 404, null);
        assertThat(channel.deliver(new OutgoingMessage(3, "ci", 0, null, "x", false, "out-3")))
                .isInstanceOfSatisfying(
                        DeliveryResult.Failed.class, f -> assertThat(f.reason()).contains("404", "injected failure"));
        assertThat(channel.deliver(new OutgoingMessage(4, "alerts", 0, null, "x", false, "out-4")))
                .isInstanceOfSatisfying(
                        DeliveryResult.Failed.class, f -> assertThat(f.reason()).contains("has no reply_url"));
    }

    @Test
    void anUnreachableReceiverIsRetried() {
        WebhookChannel offline = new WebhookChannel(
                new WebhookSettings(
                        List.of(new WebhookSettings.Endpoint("ci", SECRET, URI.create("http://127.0.0.1:1/x"))),
                        Duration.ofMinutes(5)),
                Clock.fixed(NOW, ZoneOffset.UTC),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(10), Duration.ofMillis(20), new SplittableRandom(1)));

        assertThat(offline.deliver(new OutgoingMessage(5, "ci", 0, null, "x", false, "out-5")))
                .isInstanceOfSatisfying(
                        DeliveryResult.RetryLater.class,
                        r -> assertThat(r.reason()).contains("could not be reached"));
    }

    @Test
    void settingsRefuseAShortSecretAPlainHttpReplyUrlElsewhereAndDuplicateNames() {
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> new WebhookSettings.Endpoint("ci", "short".getBytes(StandardCharsets.UTF_8), null))
                .withMessageContaining("shorter than 16 bytes");
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> new WebhookSettings.Endpoint("ci", SECRET, URI.create("http://ci.example/x")))
                .withMessageContaining("must use https");
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> new WebhookSettings.Endpoint("CI/x", SECRET, null))
                .withMessageContaining("must be 1-63");
        WebhookSettings.Endpoint ci = new WebhookSettings.Endpoint("ci", SECRET, null);
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> new WebhookSettings(List.of(ci, ci), Duration.ofMinutes(5)))
                .withMessageContaining("configured twice");
    }
}
