package dev.cordon.channel.telegram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HookRequest;
import dev.cordon.core.channel.HookResponse;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.FakeTelegram;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
 * Webhook mode against {@link FakeTelegram}: the bot registers with {@code setWebhook}, and the fake
 * POSTs {@code Update} objects over real HTTP to a loopback listener that hands them to the adapter,
 * as the daemon's hook listener does, sending again what is not answered 2xx.
 */
class TelegramWebhookTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final String TOKEN = TelegramChannelTest.TOKEN;
    static final String SECRET = "s3cret_token-from-this-start";

    FakeTelegram telegram;
    HttpServer listener;
    URI hookUrl;
    volatile TelegramWebhook hook;
    final List<AutoCloseable> open = new CopyOnWriteArrayList<>();
    final List<NewInbound> stored = new CopyOnWriteArrayList<>();
    final AtomicInteger storeFailures = new AtomicInteger();
    final InboundSink sink = message -> {
        if (storeFailures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new IllegalStateException("database is locked");
        }
        stored.add(message);
        return new InboundSink.InboundResult.Accepted(stored.size(), false);
    };

    @BeforeEach
    void start() throws Exception {
        telegram = FakeTelegram.start(TOKEN, "cordon_bot");
        telegram.webhookRetry(Duration.ofMillis(50));
        listener = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        listener.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        listener.createContext("/hooks/telegram", exchange -> {
            try (exchange) {
                TelegramWebhook h = hook;
                HookResponse r = h == null
                        ? HookResponse.error(503, "no adapter")
                        : h.receive(new HookRequest(
                                exchange.getRequestMethod(),
                                "",
                                new HashMap<>(exchange.getRequestHeaders()),
                                Map.of(),
                                exchange.getRequestBody().readAllBytes()));
                byte[] out = r.body().getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(r.status(), out.length);
                exchange.getResponseBody().write(out);
            }
        });
        listener.start();
        hookUrl = URI.create("http://127.0.0.1:" + listener.getAddress().getPort() + "/hooks/telegram");
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        listener.stop(0);
        telegram.close();
    }

    TelegramChannel bot() {
        TelegramChannel c = new TelegramChannel(
                new TelegramSettings(telegram.url(), TOKEN, Duration.ofSeconds(2)),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(50), Duration.ofMillis(200), new SplittableRandom(1)),
                new Backoff(Duration.ofMillis(50), Duration.ofMillis(200), new SplittableRandom(2)));
        open.add(c);
        return c;
    }

    TelegramWebhook registered(URI url) {
        TelegramWebhook h = new TelegramWebhook(bot(), url, SECRET);
        open.add(h);
        hook = h;
        h.start(sink);
        await().atMost(WAIT).until(h::isRegistered);
        return h;
    }

    @Test
    void atStartTheBotSetsItsWebhookWithTheSecretAndTheUpdatesItReads() {
        registered(hookUrl);

        assertThat(telegram.calls()).containsSubsequence("getMe", "setWebhook");
        assertThat(telegram.calls()).doesNotContain("getUpdates", "deleteWebhook");
        assertThat(telegram.webhookUrl()).isEqualTo(hookUrl);
        assertThat(telegram.webhookConnections())
                .as("one update at a time, in order")
                .isEqualTo(1);
    }

    @Test
    void aMessageIsStoredBeforeTelegramGets200AndTheReplyGoesBackAsAReply() throws Exception {
        TelegramWebhook h = registered(hookUrl);
        FakeTelegram.User alice = telegram.user("alice");
        long asked = telegram.say(telegram.privateChat(alice), alice, "hello over the webhook");
        FakeTelegram.Chat group = telegram.group("team");
        telegram.say(group, alice, "just chatting");
        telegram.say(group, alice, "@cordon_bot status?");

        await().atMost(WAIT).until(() -> telegram.pushedIds().size() == 3);
        assertThat(telegram.webhookAnswers()).containsExactly(200, 200, 200);
        assertThat(stored)
                .extracting(NewInbound::text)
                .containsExactly("hello over the webhook", "just chatting", "status?");
        assertThat(stored).extracting(NewInbound::mentioned).containsExactly(true, false, true);
        DeliveryResult r = h.deliver(new OutgoingMessage(
                1, Long.toString(alice.id()), 1, stored.getFirst().platformMessageId(), "hi alice", false, "k1"));
        assertThat(r).isInstanceOf(DeliveryResult.Delivered.class);
        FakeTelegram.Sent sent = telegram.nextSent(WAIT);
        assertThat(sent.text()).isEqualTo("hi alice");
        assertThat(sent.replyTo()).isEqualTo(asked);
    }

    @Test
    void anUpdateWithoutTheSecretTokenIsRefusedAndNotStored() {
        registered(hookUrl);
        String forged = """
                {"update_id":1,"message":{"message_id":1,"date":1,"text":"forged",\
                "from":{"id":5,"is_bot":false,"first_name":"M"},"chat":{"id":5,"type":"private"}}}""";

        HttpResponse<String> none = telegram.push(forged, null);
        HttpResponse<String> wrong = telegram.push(forged, SECRET.substring(0, SECRET.length() - 1) + "X");
        HttpResponse<String> longer = telegram.push(forged, SECRET + "X");

        assertThat(List.of(none, wrong, longer))
                .allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(401));
        assertThat(none.body()).contains("X-Telegram-Bot-Api-Secret-Token");
        assertThat(stored).isEmpty();
    }

    @Test
    void aRedeliveredUpdateIsAnsweredAtOnceAndStoredOnce() {
        registered(hookUrl);
        FakeTelegram.User alice = telegram.user("alice");
        telegram.say(telegram.privateChat(alice), alice, "only once");
        await().atMost(WAIT).until(() -> telegram.pushedIds().size() == 1);

        int again = telegram.pushAgain(telegram.pushedIds().getFirst());

        assertThat(again).isEqualTo(200);
        assertThat(stored).extracting(NewInbound::text).containsExactly("only once");
    }

    @Test
    void anUpdateTheHostCannotStoreIsAnswered500AndTakenWhenTelegramSendsItAgain() {
        registered(hookUrl);
        storeFailures.set(2);
        FakeTelegram.User alice = telegram.user("alice");
        telegram.say(telegram.privateChat(alice), alice, "keep me");

        await().atMost(WAIT).until(() -> telegram.pushedIds().size() == 1);
        assertThat(telegram.webhookAnswers()).containsExactly(500, 500, 200);
        assertThat(stored).extracting(NewInbound::text).containsExactly("keep me");
    }

    @Test
    void aBodyThatIsNotAnUpdateIsRefusedWithWhatIsExpected() {
        registered(hookUrl);

        HttpResponse<String> garbage = telegram.push("[1,2,3]", SECRET);

        assertThat(garbage.statusCode()).isEqualTo(400);
        assertThat(garbage.body()).contains("update_id");
    }

    @Test
    void aWebhookUrlTelegramRefusesStopsTheAdapterWithWhatToChange() {
        TelegramChannel b = bot();
        TelegramWebhook h = new TelegramWebhook(b, URI.create("http://bot.example.org/hooks/telegram"), SECRET);
        open.add(h);
        h.start(sink);

        await().atMost(WAIT).until(() -> b.loop().gaveUp());
        assertThat(b.trouble()).contains("HTTPS URL must be provided", "channels.telegram.webhook_url");
        assertThat(h.isRegistered()).isFalse();
    }

    @Test
    void floodControlOnSetWebhookIsWaitedOutAndRegistrationGoesOn() {
        telegram.failNext("setWebhook", 1, 429, "Too Many Requests: retry after 1", 1);

        registered(hookUrl);

        assertThat(telegram.calls().stream().filter("setWebhook"::equals)).hasSize(2);
    }

    @Test
    void switchingBackToPollingRemovesTheWebhookAndLosesNoUpdate() throws Exception {
        TelegramWebhook h = registered(hookUrl);
        h.close();
        hook = null; // the daemon is down: Telegram keeps the update and tries again
        FakeTelegram.User alice = telegram.user("alice");
        telegram.say(telegram.privateChat(alice), alice, "sent while switching");
        await().atMost(WAIT).until(() -> !telegram.webhookAnswers().isEmpty());

        TelegramChannel polling = bot();
        polling.start(sink);

        await().atMost(WAIT).until(() -> !stored.isEmpty());
        assertThat(stored).extracting(NewInbound::text).containsExactly("sent while switching");
        assertThat(telegram.webhookUrl()).isNull();
        assertThat(telegram.calls()).containsSubsequence("setWebhook", "deleteWebhook", "getUpdates");
    }

    @Test
    void aSecretTokenTelegramWouldRefuseIsRefusedAtConstruction() {
        assertThatThrownBy(() -> new TelegramWebhook(bot(), hookUrl, "has spaces"))
                .hasMessageContaining("secret token");
    }

    @Test
    void theSecretTokenIsTheSameForEveryReplicaOfABotAndNoOtherBotsAndTelegramAcceptsIt() {
        String one = Telegram.webhookSecret("123456:AAbot-one");
        assertThat(Telegram.webhookSecret("123456:AAbot-one")).isEqualTo(one);
        assertThat(Telegram.webhookSecret("123456:AAbot-two")).isNotEqualTo(one);
        assertThat(one).matches("[A-Za-z0-9_-]{43}").doesNotContain("AAbot");
        assertThatCode(() -> new TelegramWebhook(bot(), hookUrl, one)).doesNotThrowAnyException();
    }
}
