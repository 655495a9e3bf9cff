package dev.cordon.channel.telegram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.FakeTelegram;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The adapter against {@link FakeTelegram}, which speaks the Bot API's JSON and its failures. */
class TelegramChannelTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final String TOKEN = "123456789:AAHfake-token-for-tests_0123456789";

    FakeTelegram telegram;
    final List<TelegramChannel> channels = new ArrayList<>();
    final LinkedBlockingQueue<NewInbound> inbox = new LinkedBlockingQueue<>();
    final AtomicLong ids = new AtomicLong();
    final AtomicBoolean storeFails = new AtomicBoolean();
    final InboundSink sink = message -> {
        if (storeFails.getAndSet(false)) {
            throw new IllegalStateException("database is locked");
        }
        inbox.add(message);
        return new InboundSink.InboundResult.Accepted(ids.incrementAndGet(), false);
    };

    @BeforeEach
    void start() {
        telegram = FakeTelegram.start(TOKEN, "cordon_bot");
    }

    @AfterEach
    void stop() {
        channels.forEach(TelegramChannel::close);
        telegram.close();
    }

    TelegramChannel channel(String token) {
        TelegramChannel c = new TelegramChannel(
                new TelegramSettings(telegram.url(), token, Duration.ofSeconds(2)),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(50), Duration.ofMillis(200), new SplittableRandom(1)),
                new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(60), new SplittableRandom(2)));
        channels.add(c);
        return c;
    }

    TelegramChannel started() {
        TelegramChannel c = channel(TOKEN);
        c.start(sink);
        await().atMost(WAIT).until(c::isPolling);
        return c;
    }

    NewInbound next() throws InterruptedException {
        NewInbound m = inbox.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(m).as("an inbound message within " + WAIT).isNotNull();
        return m;
    }

    static OutgoingMessage reply(long chat, String replyTo, String text) {
        return new OutgoingMessage(1, Long.toString(chat), 0, replyTo, text, false, "turn:1");
    }

    @Test
    void aPrivateMessageIsAddressedToTheBotWithNumericChatAndSenderIds() throws Exception {
        started();
        FakeTelegram.User alice = telegram.user("alice");
        FakeTelegram.Chat dm = telegram.privateChat(alice);

        long id = telegram.say(dm, alice, "hello agent");

        NewInbound m = next();
        assertThat(m.channel()).isEqualTo("telegram");
        assertThat(m.platformChatId()).isEqualTo(Long.toString(alice.id()));
        assertThat(m.senderId()).isEqualTo(Long.toString(alice.id()));
        assertThat(m.platformMessageId()).isEqualTo(Long.toString(id));
        assertThat(m.text()).isEqualTo("hello agent");
        assertThat(m.mentioned()).isTrue();
    }

    @Test
    void aGroupMessageIsAddressedOnlyWhenItNamesTheBotCommandsItOrRepliesToIt() throws Exception {
        TelegramChannel c = started();
        FakeTelegram.User alice = telegram.user("alice");
        FakeTelegram.Chat team = telegram.group("Team");

        telegram.say(team, alice, "just chatting about @someone_else");
        telegram.say(team, alice, "@Cordon_Bot what time is it?");
        telegram.say(team, alice, "/status@cordon_bot now");
        telegram.say(team, alice, "tell me @cordon_bot how");
        NewInbound chatter = next();
        NewInbound question = next();
        NewInbound command = next();
        assertThat(next().text()).isEqualTo("tell me how");

        assertThat(chatter.mentioned()).isFalse();
        assertThat(chatter.platformChatId()).isEqualTo(Long.toString(team.id())).startsWith("-100");
        assertThat(question.mentioned()).isTrue();
        assertThat(question.text()).isEqualTo("what time is it?");
        assertThat(command.mentioned()).isTrue();
        assertThat(command.text()).isEqualTo("/status now");

        DeliveryResult sent = c.deliver(reply(team.id(), question.platformMessageId(), "Noon."));
        long botMessage = Long.parseLong(((DeliveryResult.Delivered) sent).platformMessageId());
        telegram.reply(team, alice, "and tomorrow?", botMessage);
        NewInbound answer = next();
        assertThat(answer.mentioned()).isTrue();
        assertThat(answer.replyToPlatformMessageId()).isEqualTo(Long.toString(botMessage));
    }

    @Test
    void optionsGoAsAnInlineKeyboardAndATapComesBackAsTheOptionFromThePersonWhoTapped() throws Exception {
        TelegramChannel c = started();
        FakeTelegram.User alice = telegram.user("alice");
        FakeTelegram.User bob = telegram.user("bob");
        FakeTelegram.Chat team = telegram.group("Team");
        // Long multi-byte labels: the callback data must still fit Telegram's 64 bytes.
        String long1 = "🚀 launch ".repeat(20).strip();
        List<String> options = List.of(long1, "Wait", "Ask Ada");

        DeliveryResult sent = c.deliver(
                new OutgoingMessage(1, Long.toString(team.id()), 0, null, "Launch now?", false, "ask:1", options));

        long card = Long.parseLong(((DeliveryResult.Delivered) sent).platformMessageId());
        assertThat(telegram.sent().getLast().buttons()).containsExactlyElementsOf(options);
        String query = telegram.press(team, bob, card, long1);
        NewInbound tap = next();
        assertThat(tap.text()).isEqualTo(long1);
        assertThat(tap.senderId()).isEqualTo(Long.toString(bob.id()));
        assertThat(tap.platformChatId()).isEqualTo(Long.toString(team.id()));
        assertThat(tap.replyToPlatformMessageId()).isEqualTo(Long.toString(card));
        assertThat(tap.platformMessageId()).isEqualTo("callback:" + query);
        assertThat(tap.mentioned()).as("a tap is addressed to the bot").isTrue();
        await().atMost(WAIT).until(() -> !telegram.callbackAnswers().isEmpty());
        assertThat(telegram.callbackAnswers()).containsExactly(new FakeTelegram.CallbackAnswer(query, null, false));
        assertThat(alice.id()).isNotEqualTo(bob.id());
    }

    @Test
    void aForeignOrStaleTapIsAnsweredWithAnAlertAndNeverReachesTheHost() throws Exception {
        TelegramChannel c = started();
        FakeTelegram.User alice = telegram.user("alice");
        FakeTelegram.Chat dm = telegram.privateChat(alice);
        DeliveryResult sent = c.deliver(
                new OutgoingMessage(1, Long.toString(alice.id()), 0, null, "Pick", false, "ask:2", List.of("A", "B")));
        long card = Long.parseLong(((DeliveryResult.Delivered) sent).platformMessageId());
        long plain = Long.parseLong(
                ((DeliveryResult.Delivered) c.deliver(reply(alice.id(), null, "no buttons"))).platformMessageId());

        String foreign = telegram.pressData(dm, alice, card, "another-bot:approve");
        String stale = telegram.pressData(dm, alice, plain, TelegramButtons.PREFIX + "0");
        String gone = telegram.pressData(dm, alice, card, TelegramButtons.PREFIX + "7");
        telegram.say(dm, alice, "after the taps");

        assertThat(next().text()).as("only the typed message reached the host").isEqualTo("after the taps");
        assertThat(telegram.callbackAnswers())
                .extracting(FakeTelegram.CallbackAnswer::queryId, FakeTelegram.CallbackAnswer::showAlert)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(foreign, true),
                        org.assertj.core.groups.Tuple.tuple(stale, true),
                        org.assertj.core.groups.Tuple.tuple(gone, true));
    }

    @Test
    void theFakeRefusesCallbackDataOverSixtyFourBytesAsTelegramDoes() throws Exception {
        TelegramChannel c = started();
        FakeTelegram.User alice = telegram.user("alice");
        telegram.privateChat(alice);
        HttpClient http = HttpClient.newHttpClient();
        String body = "{\"chat_id\":" + alice.id()
                + ",\"text\":\"x\",\"reply_markup\":{\"inline_keyboard\":[[{\"text\":\"a\"," + "\"callback_data\":\""
                + "é".repeat(33) + "\"}]]}}";
        var response = http.send(
                java.net.http.HttpRequest.newBuilder(URI.create(telegram.url() + "/bot" + TOKEN + "/sendMessage"))
                        .header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("BUTTON_DATA_INVALID");
        assertThat(c.isPolling()).isTrue();
    }

    @Test
    void anUpdateIsConfirmedToTelegramOnlyAfterTheHostStoredIt() throws Exception {
        started();
        FakeTelegram.User alice = telegram.user("alice");
        FakeTelegram.Chat dm = telegram.privateChat(alice);
        storeFails.set(true);

        long id = telegram.say(dm, alice, "do not lose me");

        // The first attempt to store fails: the update stays with Telegram and comes again.
        assertThat(next().platformMessageId()).isEqualTo(Long.toString(id));
        telegram.say(dm, alice, "next");
        assertThat(next().text()).isEqualTo("next");
        await().atMost(WAIT).until(() -> telegram.unconfirmed() == 0);
    }

    @Test
    void anUpdateStoredJustBeforeAStopComesAgainWithTheSameIdsForTheHostsDedup() throws Exception {
        FakeTelegram.User alice = telegram.user("alice");
        FakeTelegram.Chat dm = telegram.privateChat(alice);
        // A slow store: it finishes only as the daemon stops, before the next poll could confirm it.
        InboundSink slowStore = message -> {
            inbox.add(message);
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new InboundSink.InboundResult.Accepted(1, false);
        };
        TelegramChannel first = channel(TOKEN);
        first.start(slowStore);
        await().atMost(WAIT).until(first::isPolling);

        telegram.say(dm, alice, "exactly once, please");
        NewInbound stored = next();
        first.close();
        assertThat(telegram.unconfirmed()).isEqualTo(1);

        started();
        NewInbound again = next();
        assertThat(again.platformChatId()).isEqualTo(stored.platformChatId());
        assertThat(again.platformMessageId()).isEqualTo(stored.platformMessageId());
        await().atMost(WAIT).until(() -> telegram.unconfirmed() == 0);
    }

    @Test
    void aReplyGoesOutAsATelegramReplyToTheMessageItAnswers() throws Exception {
        TelegramChannel c = started();
        FakeTelegram.User alice = telegram.user("alice");
        FakeTelegram.Chat dm = telegram.privateChat(alice);
        long question = telegram.say(dm, alice, "hi");

        DeliveryResult result = c.deliver(reply(dm.id(), Long.toString(question), "Hello, Alice."));

        FakeTelegram.Sent sent = telegram.nextSent(WAIT);
        assertThat(result).isEqualTo(new DeliveryResult.Delivered(Long.toString(sent.messageId())));
        assertThat(sent.text()).isEqualTo("Hello, Alice.");
        assertThat(sent.replyTo()).isEqualTo(question);
        assertThat(sent.chatId()).isEqualTo(alice.id());
    }

    @Test
    void floodControlIsRetriedAfterTheRetryAfterTelegramAsks() {
        TelegramChannel c = started();
        FakeTelegram.Chat dm = telegram.privateChat(telegram.user("alice"));
        telegram.failNext("sendMessage", 1, 429, "Too Many Requests: retry after 7", 7);

        DeliveryResult limited = c.deliver(reply(dm.id(), null, "hi"));

        assertThat(limited).isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(((DeliveryResult.RetryLater) limited).after()).isEqualTo(Duration.ofSeconds(7));
        assertThat(((DeliveryResult.RetryLater) limited).reason()).contains("429", "Too Many Requests");
        assertThat(c.deliver(reply(dm.id(), null, "hi"))).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(telegram.sent()).hasSize(1);
    }

    @Test
    void serverErrorsAreRetriedWithAGrowingBackOff() {
        TelegramChannel c = started();
        FakeTelegram.Chat dm = telegram.privateChat(telegram.user("alice"));
        telegram.failNext("sendMessage", 3, 502, "Bad Gateway", null);

        List<Duration> waits = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            DeliveryResult r = c.deliver(reply(dm.id(), null, "hi"));
            assertThat(r).isInstanceOf(DeliveryResult.RetryLater.class);
            waits.add(((DeliveryResult.RetryLater) r).after());
        }

        assertThat(waits.get(2)).isGreaterThan(waits.get(0));
        assertThat(c.deliver(reply(dm.id(), null, "hi"))).isInstanceOf(DeliveryResult.Delivered.class);
    }

    @Test
    void aBlockedUserAndAnUnknownChatAreFailuresForGood() {
        TelegramChannel c = started();
        FakeTelegram.User bob = telegram.user("bob");
        FakeTelegram.Chat dm = telegram.privateChat(bob);
        telegram.block(bob);

        assertThat(c.deliver(reply(dm.id(), null, "hi")))
                .isEqualTo(new DeliveryResult.Failed(
                        "Telegram answered 403 (Forbidden: bot was blocked by the user)" + " for chat " + bob.id()));
        assertThat(c.deliver(reply(42, null, "hi")))
                .isEqualTo(
                        new DeliveryResult.Failed("Telegram answered 400 (Bad Request: chat not found) for chat 42"));
        assertThat(c.deliver(reply(dm.id(), null, "x".repeat(TelegramChannel.MAX_TEXT + 1))))
                .isInstanceOf(DeliveryResult.Failed.class);
        assertThat(telegram.sent()).isEmpty();
    }

    @Test
    void aSecondReaderOfTheSameBotIsReportedAsAConflict() {
        started();
        TelegramChannel twin = channel(TOKEN);
        twin.start(sink);

        await().atMost(WAIT)
                .until(() -> channels.stream()
                        .anyMatch(c -> c.trouble() != null && c.trouble().contains("409")));
        String trouble = channels.stream()
                .map(TelegramChannel::trouble)
                .filter(t -> t != null && t.contains("409"))
                .findFirst()
                .orElseThrow();
        assertThat(trouble)
                .contains("terminated by other getUpdates request")
                .contains("a second daemon with the same token");
        twin.close();
    }

    @Test
    void pollingRemovesAWebhookLeftFromWebhookModeAndReportsOneSetLaterAsAConflict() {
        telegram.webhook(true);
        TelegramChannel c = started();
        assertThat(telegram.calls()).containsSubsequence("getMe", "deleteWebhook", "getUpdates");

        telegram.webhook(true); // another program set one while the bot polls
        await().atMost(WAIT).until(() -> c.trouble() != null);
        assertThat(c.trouble()).contains("409", "webhook is active", "deleteWebhook");
        telegram.webhook(false);
        await().atMost(WAIT).until(c::isPolling);
    }

    @Test
    void aRejectedTokenIsReportedWithoutShowingIt() {
        String wrong = "123456789:AAHsome-other-token-entirely_0000000";
        TelegramChannel c = channel(wrong);
        c.start(sink);

        await().atMost(WAIT).until(() -> c.trouble() != null);
        assertThat(c.trouble()).contains("401", "cordon secret set").doesNotContain(wrong, "AAHsome");
        DeliveryResult r = c.deliver(reply(1, null, "hi"));
        assertThat(r).isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(((DeliveryResult.RetryLater) r).reason()).doesNotContain("AAHsome");
    }

    @Test
    void settingsRefuseAPlainHttpApiAwayFromLoopbackAndNeverEchoTheToken() {
        assertThatThrownBy(() -> new TelegramSettings(URI.create("http://api.telegram.org"), TOKEN, Duration.ZERO))
                .hasMessageContaining("api_url")
                .hasMessageContaining("https");
        assertThatThrownBy(() -> new TelegramSettings(TelegramSettings.DEFAULT_API, "not-a-token", Duration.ZERO))
                .hasMessageContaining("token")
                .hasMessageNotContaining("not-a-token");
        assertThat(new TelegramSettings(TelegramSettings.DEFAULT_API, TOKEN, Duration.ofSeconds(50)).toString())
                .doesNotContain(TOKEN);
    }
}
