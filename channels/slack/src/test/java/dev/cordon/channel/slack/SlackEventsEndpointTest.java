package dev.cordon.channel.slack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HookRequest;
import dev.cordon.core.channel.HookResponse;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.FakeSlack;
import dev.cordon.testkit.FakeSlackEvents;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Slack's Events API against {@link FakeSlack} in Events API mode: the fake POSTs signed {@code
 * event_callback} payloads over real HTTP to a loopback listener that hands them to the endpoint, as
 * the daemon's hook listener does, and retries what is not answered 2xx.
 */
class SlackEventsEndpointTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final String SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

    FakeSlack slack;
    FakeSlackEvents events;
    SlackEventsEndpoint endpoint;
    HttpServer listener;
    final List<NewInbound> stored = new CopyOnWriteArrayList<>();
    /** How many of the next messages the sink fails to store. */
    final AtomicInteger storeFailures = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        slack = FakeSlack.start();
        slack.channel("D0ALICE", true);
        SlackSettings settings = new SlackSettings(slack.api(), null, FakeSlack.BOT_TOKEN);
        HttpClient http = HttpClient.newHttpClient();
        SlackApi api = new SlackApi(http, settings);
        endpoint = new SlackEventsEndpoint(
                new SlackChannel(
                        settings,
                        api,
                        http,
                        new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), new SplittableRandom(7))),
                api,
                SIGNING_SECRET.getBytes(StandardCharsets.UTF_8),
                Clock.systemUTC());
        endpoint.start(message -> {
            if (storeFailures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new IllegalStateException("database is locked");
            }
            stored.add(message);
            return new InboundSink.InboundResult.Accepted(stored.size(), false);
        });
        listener = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        listener.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        listener.createContext("/hooks/slack", exchange -> {
            try (exchange) {
                HookResponse r = endpoint.receive(new HookRequest(
                        exchange.getRequestMethod(),
                        exchange.getRequestURI().getPath().substring("/hooks/slack".length()),
                        new HashMap<>(exchange.getRequestHeaders()),
                        Map.of(),
                        exchange.getRequestBody().readAllBytes()));
                byte[] out = r.body().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", r.contentType());
                exchange.sendResponseHeaders(r.status(), out.length);
                exchange.getResponseBody().write(out);
            }
        });
        listener.start();
        URI url = URI.create("http://127.0.0.1:" + listener.getAddress().getPort() + "/hooks/slack");
        events = slack.eventsTo(url, SIGNING_SECRET).interactivity(URI.create(url + "/interactions"));
        events.retryDelays(Duration.ZERO, Duration.ofMillis(50), Duration.ofMillis(50));
    }

    @AfterEach
    void stop() {
        listener.stop(0);
        endpoint.close();
        slack.close();
    }

    /** Waits until every event sent so far got an answer. */
    void allAnswered() {
        await().atMost(WAIT)
                .until(() -> events.eventIds().stream()
                        .allMatch(id -> !events.answers(id).isEmpty()));
    }

    /** The bot's message with buttons {@code options} in C0GENERAL; its ts. */
    String card(String... options) {
        DeliveryResult.Delivered card = (DeliveryResult.Delivered) endpoint.deliver(new OutgoingMessage(
                1, "C0GENERAL", 0, null, "Deploy?", false, "ask:" + options.length, List.of(options)));
        assertThat(slack.posted().getLast().blocks()).as("sent as buttons").isNotNull();
        return card.platformMessageId();
    }

    List<NewInbound> clicks() {
        return stored.stream()
                .filter(m -> m.platformMessageId().startsWith("action:"))
                .toList();
    }

    @Test
    void aFileSharedOverTheEventsApiIsReportedAndDownloadsWithTheBotToken() throws Exception {
        byte[] pdf = "%PDF-1.4 \u0000\u0001".getBytes(StandardCharsets.ISO_8859_1);

        slack.share("U0ALICE", "D0ALICE", "brief.pdf", "application/pdf", pdf, "");

        await().atMost(WAIT).until(() -> !stored.isEmpty());
        NewInbound m = stored.getFirst();
        assertThat(m.text()).isEmpty();
        assertThat(m.files()).singleElement().satisfies(f -> {
            assertThat(f.name()).isEqualTo("brief.pdf");
            assertThat(f.mediaType()).isEqualTo("application/pdf");
            assertThat(f.size()).isEqualTo(pdf.length);
            try (var in = f.bytes().open()) {
                assertThat(in.readAllBytes()).isEqualTo(pdf);
            }
        });
    }

    @Test
    void optionsAreButtonsAndAClickPostedToTheInteractivityUrlIsTheClickersAnswerTakenOnceStored() {
        assertThat(endpoint.capabilities().buttons()).isTrue();
        String ts = card("Deploy", "Wait");

        String trigger = slack.press("U0BOB", "C0GENERAL", ts, "Wait");

        await().atMost(WAIT).until(() -> !events.answers(trigger).isEmpty());
        assertThat(events.answers(trigger)).containsExactly(200);
        assertThat(events.click(trigger)).startsWith("payload=%7B%22type%22%3A%22block_actions%22");
        NewInbound click = clicks().getFirst();
        assertThat(click.text()).isEqualTo("Wait");
        assertThat(click.senderId()).isEqualTo("U0BOB");
        assertThat(click.platformChatId()).isEqualTo("C0GENERAL");
        assertThat(click.replyToPlatformMessageId()).isEqualTo(ts);
        assertThat(click.mentioned()).isTrue();
    }

    @Test
    void aClickOnAnotherAppsButtonIsAnswered200AndDropped() {
        String ts = card("Deploy");

        String trigger = slack.pressAction("U0BOB", "C0GENERAL", ts, "other-app-approve");

        await().atMost(WAIT).until(() -> !events.answers(trigger).isEmpty());
        assertThat(events.answers(trigger)).containsExactly(200);
        assertThat(clicks()).isEmpty();
    }

    @Test
    void aClickTheHostCannotStoreIsAnswered503AndAClickAgainIsTaken() {
        String ts = card("Deploy");
        storeFailures.set(1);

        String first = slack.press("U0BOB", "C0GENERAL", ts, "Deploy");
        await().atMost(WAIT).until(() -> !events.answers(first).isEmpty());
        String again = slack.press("U0BOB", "C0GENERAL", ts, "Deploy");
        await().atMost(WAIT).until(() -> !events.answers(again).isEmpty());

        assertThat(events.answers(first)).containsExactly(503);
        assertThat(events.answers(again)).containsExactly(200);
        assertThat(clicks()).extracting(NewInbound::text).containsExactly("Deploy");
    }

    @Test
    void aForgedStaleOrUnsignedClickIsRefusedAndNothingIsStored() {
        String ts = card("Deploy", "Wait");
        String trigger = slack.press("U0BOB", "C0GENERAL", ts, "Wait");
        await().atMost(WAIT).until(() -> !events.answers(trigger).isEmpty());
        stored.clear();
        String real = events.click(trigger);
        String forged = real.replace("U0BOB", "U0ADMIN");
        long now = System.currentTimeMillis() / 1000;

        HttpResponse<String> tampered = events.sendClick(forged, Long.toString(now), events.signature(now, real));
        HttpResponse<String> unsigned = events.sendClick(forged, Long.toString(now), null);
        HttpResponse<String> otherSecret = events.sendClick(forged, Long.toString(now), "v0=" + "ab".repeat(32));
        HttpResponse<String> stale =
                events.sendClick(real, Long.toString(now - 301), events.signature(now - 301, real));

        assertThat(List.of(tampered, unsigned, otherSecret, stale))
                .allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(401));
        assertThat(tampered.body()).contains("X-Slack-Signature", "signing_secret");
        assertThat(stale.body()).contains("replay");
        assertThat(stored).isEmpty();
    }

    @Test
    void aSignedClickThatIsNotAFormWithAJsonPayloadIsRefusedWithWhatIsExpected() {
        long now = System.currentTimeMillis() / 1000;
        String json = "{\"type\":\"block_actions\"}";
        String notJson = "payload=%7Bnot";

        HttpResponse<String> rawJson = events.sendClick(json, Long.toString(now), events.signature(now, json));
        HttpResponse<String> broken = events.sendClick(notJson, Long.toString(now), events.signature(now, notJson));
        HookResponse elsewhere =
                endpoint.receive(new HookRequest("POST", "/commands", Map.of(), Map.of(), new byte[0]));

        assertThat(List.of(rawJson, broken)).allSatisfy(r -> {
            assertThat(r.statusCode()).isEqualTo(400);
            assertThat(r.body()).contains("payload=");
        });
        assertThat(elsewhere.status()).isEqualTo(404);
        assertThat(elsewhere.body()).contains("/hooks/slack/interactions");
        assertThat(stored).isEmpty();
    }

    @Test
    void theUrlVerificationIsAnsweredWithItsChallengeOnlyWhenSigned() {
        HttpResponse<String> ok = events.verifyUrl("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
        String unsigned = "{\"type\":\"url_verification\",\"challenge\":\"abc\"}";
        HttpResponse<String> forged = events.send(
                unsigned, Long.toString(System.currentTimeMillis() / 1000), "v0=" + "0".repeat(64), Map.of());

        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
        assertThat(forged.statusCode()).isEqualTo(401);
        assertThat(forged.body()).doesNotContain("abc");
    }

    @Test
    void aMentionInAChannelIsStoredOnceThoughSlackSendsTwoEventsForIt() {
        String ts = slack.say("U0ALICE", "C0GENERAL", "<@" + FakeSlack.BOT_USER + "> what is the build status?");
        slack.say("U0BOB", "C0GENERAL", "lunch?");
        allAnswered();

        assertThat(stored).hasSize(2);
        NewInbound mention =
                stored.stream().filter(NewInbound::mentioned).findFirst().orElseThrow();
        assertThat(mention.platformChatId()).isEqualTo("C0GENERAL");
        assertThat(mention.platformMessageId()).isEqualTo(ts);
        assertThat(mention.text()).isEqualTo("what is the build status?");
        assertThat(stored.stream().filter(m -> !m.mentioned()).map(NewInbound::text))
                .containsExactly("lunch?");
        assertThat(events.eventIds())
                .hasSize(3)
                .allSatisfy(id -> assertThat(events.answers(id)).containsExactly(200));
    }

    @Test
    void directMessagesAndThreadsAreReadAsOverSocketModeAndRepliesGoInTheThread() {
        slack.say("U0ALICE", "D0ALICE", "hello &lt;there&gt;");
        String root = slack.say("U0ALICE", "C0GENERAL", "<@" + FakeSlack.BOT_USER + "> start");
        slack.sayInThread("U0ALICE", "C0GENERAL", root, "<@" + FakeSlack.BOT_USER + "> and in the thread");
        allAnswered();

        assertThat(stored).hasSize(3);
        assertThat(stored.getFirst().mentioned()).isTrue();
        assertThat(stored.getFirst().platformChatId()).isEqualTo("D0ALICE");
        NewInbound inThread = stored.get(2);
        assertThat(inThread.threadId()).isEqualTo(root);
        DeliveryResult result = endpoint.deliver(
                new OutgoingMessage(1, "C0GENERAL", 3, inThread.platformMessageId(), "answer <!channel>", false, "k1"));
        assertThat(result).isInstanceOf(DeliveryResult.Delivered.class);
        FakeSlack.Posted posted = slack.posted().getLast();
        assertThat(posted.threadTs()).isEqualTo(root);
        assertThat(posted.text()).isEqualTo("answer &lt;!channel&gt;");
        allAnswered(); // the echo of the bot's own post is taken, and not stored
        assertThat(stored).hasSize(3);
    }

    @Test
    void aForgedOrUnsignedEventIsRefusedAndNothingIsStored() {
        slack.say("U0ALICE", "D0ALICE", "real");
        allAnswered();
        String id = events.eventIds().getFirst();
        String body = events.payload(id).replace("real", "forged");
        String now = Long.toString(System.currentTimeMillis() / 1000);
        String signatureOfOriginal = events.signature(Long.parseLong(now), events.payload(id));

        HttpResponse<String> tampered = events.send(body, now, signatureOfOriginal, Map.of());
        HttpResponse<String> unsigned = events.send(body, now, null, Map.of());
        HttpResponse<String> noTimestamp =
                events.send(body, null, events.signature(Long.parseLong(now), body), Map.of());
        HttpResponse<String> otherSecret = events.send(body, now, "v0=" + "ab".repeat(32), Map.of());

        assertThat(List.of(tampered, unsigned, noTimestamp, otherSecret))
                .allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(401));
        assertThat(tampered.body()).contains("X-Slack-Signature", "signing_secret");
        assertThat(noTimestamp.body()).contains("X-Slack-Request-Timestamp");
        assertThat(stored).extracting(NewInbound::text).containsExactly("real");
    }

    @Test
    void aCorrectlySignedEventOutsideTheFiveMinuteWindowIsRefusedAsAReplay() {
        slack.say("U0ALICE", "D0ALICE", "once");
        allAnswered();
        stored.clear();
        String body = events.payload(events.eventIds().getFirst());
        long now = System.currentTimeMillis() / 1000;

        HttpResponse<String> old =
                events.send(body, Long.toString(now - 301), events.signature(now - 301, body), Map.of());
        HttpResponse<String> future =
                events.send(body, Long.toString(now + 400), events.signature(now + 400, body), Map.of());

        assertThat(old.statusCode()).isEqualTo(401);
        assertThat(old.body()).contains("replay");
        assertThat(future.statusCode()).isEqualTo(401);
        assertThat(stored).isEmpty();
    }

    @Test
    void aRedeliveredEventIsAnsweredAtOnceAndStoredOnce() {
        slack.say("U0ALICE", "D0ALICE", "only once please");
        allAnswered();
        String id = events.eventIds().getFirst();

        int first = events.redeliver(id, 1, "http_timeout");
        int second = events.redeliver(id, 2, "http_timeout");

        assertThat(first).isEqualTo(200);
        assertThat(second).isEqualTo(200);
        assertThat(stored).extracting(NewInbound::text).containsExactly("only once please");
    }

    @Test
    void anEventTheHostCannotStoreIsAnswered503AndStoredWhenSlackRetries() {
        storeFailures.set(2);
        slack.say("U0ALICE", "D0ALICE", "keep me");

        await().atMost(WAIT).until(() -> !stored.isEmpty());
        String id = events.eventIds().getFirst();
        await().atMost(WAIT).until(() -> events.answers(id).size() == 3);
        assertThat(events.answers(id)).containsExactly(503, 503, 200);
        assertThat(stored).extracting(NewInbound::text).containsExactly("keep me");
    }

    @Test
    void requestsThatAreNotEventsAreRefusedWithWhatIsExpected() {
        HookResponse get = endpoint.receive(new HookRequest("GET", "", Map.of(), Map.of(), new byte[0]));
        long now = System.currentTimeMillis() / 1000;
        String notJson = "not json";
        HttpResponse<String> garbage =
                events.send(notJson, Long.toString(now), events.signature(now, notJson), Map.of());

        assertThat(get.status()).isEqualTo(405);
        assertThat(garbage.statusCode()).isEqualTo(400);
        assertThat(stored).isEmpty();
    }
}
