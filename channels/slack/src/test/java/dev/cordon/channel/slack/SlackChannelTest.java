package dev.cordon.channel.slack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.FakeSlack;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Slack adapter against {@link FakeSlack}: Socket Mode over a real WebSocket, the Web API over HTTP. */
class SlackChannelTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    FakeSlack slack;
    SlackChannel channel;
    final List<NewInbound> stored = new CopyOnWriteArrayList<>();
    /** What the sink does with the next message: null stores it. */
    volatile Runnable beforeStoring;

    @BeforeEach
    void start() throws Exception {
        slack = FakeSlack.start();
        slack.channel("D0ALICE", true);
        channel = adapter(FakeSlack.APP_TOKEN, FakeSlack.BOT_TOKEN);
        channel.start(message -> {
            Runnable r = beforeStoring;
            if (r != null) {
                r.run();
            }
            stored.add(message);
            return new InboundSink.InboundResult.Accepted(stored.size(), false);
        });
        await().atMost(WAIT).until(channel::isReady);
    }

    SlackChannel adapter(String appToken, String botToken) {
        SlackSettings settings = new SlackSettings(slack.api(), appToken, botToken);
        HttpClient http = HttpClient.newHttpClient();
        return new SlackChannel(
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

    static OutgoingMessage reply(String chat, String replyTo, String text) {
        return new OutgoingMessage(1, chat, 0, replyTo, text, false, "key-1");
    }

    @Test
    void aDirectMessageIsAcknowledgedOnlyAfterTheHostStoredIt() throws Exception {
        CountDownLatch storing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        beforeStoring = () -> {
            storing.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };

        String ts = slack.say("U0ALICE", "D0ALICE", "hello <agent> & you");

        assertThat(storing.await(20, TimeUnit.SECONDS)).isTrue();
        assertThat(slack.acknowledged()).isEmpty();
        release.countDown();
        await().atMost(WAIT).until(() -> slack.acknowledged().size() == 1);
        NewInbound in = stored.getFirst();
        assertThat(in.channel()).isEqualTo("slack");
        assertThat(in.platformChatId()).isEqualTo("D0ALICE");
        assertThat(in.platformMessageId()).isEqualTo(ts);
        assertThat(in.senderId()).isEqualTo("U0ALICE");
        assertThat(in.text()).isEqualTo("hello <agent> & you");
        assertThat(in.mentioned()).isTrue();
    }

    @Test
    void optionsAreBlockKitButtonsAndAClickComesBackAsTheOptionFromTheClickerAcknowledgedOnceStored() {
        DeliveryResult.Delivered card = (DeliveryResult.Delivered) channel.deliver(new OutgoingMessage(
                1, "C0GENERAL", 0, null, "Deploy <now>?", false, "ask:1", List.of("Deploy", "Wait")));
        FakeSlack.Posted posted = slack.posted().getLast();
        assertThat(posted.text()).isEqualTo("Deploy &lt;now&gt;?");
        assertThat(posted.blocks().toString())
                .contains("\"type\":\"actions\"", "\"text\":\"Deploy &lt;now&gt;?\"", "\"text\":\"Wait\"");

        String envelope = slack.press("U0BOB", "C0GENERAL", card.platformMessageId(), "Wait");

        await().atMost(WAIT).until(() -> slack.acknowledged().contains(envelope));
        NewInbound click = stored.stream()
                .filter(m -> m.platformMessageId().startsWith("action:"))
                .findFirst()
                .orElseThrow();
        assertThat(click.text()).isEqualTo("Wait");
        assertThat(click.senderId()).isEqualTo("U0BOB");
        assertThat(click.platformChatId()).isEqualTo("C0GENERAL");
        assertThat(click.replyToPlatformMessageId()).isEqualTo(card.platformMessageId());
        assertThat(click.mentioned()).isTrue();
    }

    @Test
    void tooManyOptionsForBlockKitGoAsANumberedListAndAForeignClickIsAcknowledgedAndDropped() {
        List<String> long1 = List.of("x".repeat(76));
        channel.deliver(new OutgoingMessage(1, "C0GENERAL", 0, null, "Pick", false, "ask:2", long1));
        assertThat(slack.posted().getLast().blocks()).isNull();
        assertThat(slack.posted().getLast().text())
                .isEqualTo("Pick\n\n1. " + "x".repeat(76) + "\n(Answer with a number.)");
        DeliveryResult.Delivered card = (DeliveryResult.Delivered)
                channel.deliver(new OutgoingMessage(1, "C0GENERAL", 0, null, "Pick", false, "ask:3", List.of("A")));

        String foreign = slack.pressAction("U0BOB", "C0GENERAL", card.platformMessageId(), "other-app-approve");

        await().atMost(WAIT).until(() -> slack.acknowledged().contains(foreign));
        assertThat(stored).noneMatch(m -> m.platformMessageId().startsWith("action:"));
    }

    @Test
    void aMentionInAChannelReachesTheHostOnceThoughSlackSendsTwoEvents() {
        slack.say("U0ALICE", "C0GENERAL", "just talking among ourselves");
        slack.say("U0ALICE", "C0GENERAL", "<@U0BOT> what is up?");

        await().atMost(WAIT).until(() -> slack.acknowledged().size() == 3);
        assertThat(slack.envelopes()).hasSize(3);
        assertThat(stored).hasSize(2);
        assertThat(stored.get(0).mentioned()).isFalse();
        assertThat(stored.get(1).mentioned()).isTrue();
        assertThat(stored.get(1).text()).isEqualTo("what is up?");
    }

    @Test
    void aRedeliveredEventIsAcknowledgedAgainWithoutReachingTheHostTwice() {
        slack.say("U0ALICE", "D0ALICE", "once only");
        await().atMost(WAIT).until(() -> slack.acknowledged().size() == 1);
        String eventId = slack.acknowledged().getFirst();

        slack.redeliver(eventId);

        await().atMost(WAIT).until(() -> slack.acknowledged().size() == 2);
        assertThat(slack.acknowledged()).containsExactly(eventId, eventId);
        assertThat(stored).hasSize(1);
    }

    @Test
    void aMessageTheHostCouldNotStoreIsLeftUnacknowledgedAndStoredWhenSlackSendsItAgain() {
        AtomicInteger attempts = new AtomicInteger();
        beforeStoring = () -> {
            if (attempts.incrementAndGet() == 1) {
                throw new IllegalStateException("the store is down");
            }
        };
        slack.say("U0ALICE", "D0ALICE", "do not lose me");
        await().atMost(WAIT).until(() -> attempts.get() == 1);
        assertThat(slack.acknowledged()).isEmpty();

        slack.dropSocket();

        await().atMost(WAIT).until(() -> slack.acknowledged().size() == 1);
        assertThat(stored).extracting(NewInbound::text).containsExactly("do not lose me");
        assertThat(slack.envelopes().getLast().path("retry_attempt").asInt()).isEqualTo(1);
    }

    @Test
    void messagesWrittenWhileTheSocketIsDownArriveAfterTheAdapterReconnects() {
        slack.dropSocket();
        slack.say("U0ALICE", "D0ALICE", "are you there?");

        await().atMost(WAIT).until(() -> stored.size() == 1);
        assertThat(slack.connections()).isEqualTo(2);
        assertThat(stored.getFirst().text()).isEqualTo("are you there?");
    }

    @Test
    void aRefreshRequestMakesTheAdapterOpenANewConnection() {
        slack.askToReconnect();

        await().atMost(WAIT).until(() -> slack.connections() == 2 && channel.isReady());
        slack.say("U0ALICE", "D0ALICE", "after the refresh");
        await().atMost(WAIT).until(() -> stored.size() == 1);
    }

    @Test
    void garbageIsIgnoredAndAnOversizedMessageCostsTheConnectionButNothingElse() {
        slack.sendRaw("this is not JSON");
        slack.sendRaw("{\"type\":\"events_api\",\"envelope_id\":\"x\",\"payload\":\""
                + "a".repeat(SlackChannel.MAX_MESSAGE) + "\"}");

        await().atMost(WAIT).until(() -> slack.connections() == 2 && channel.isReady());
        slack.say("U0ALICE", "D0ALICE", "still fine");
        await().atMost(WAIT).until(() -> stored.size() == 1);
        assertThat(slack.connections()).isEqualTo(2);
    }

    @Test
    void theBotsOwnPostsAreAcknowledgedButNotPassedOn() {
        assertThat(channel.deliver(reply("C0GENERAL", null, "I am the bot")))
                .isInstanceOf(DeliveryResult.Delivered.class);

        await().atMost(WAIT).until(() -> slack.acknowledged().size() == 1);
        assertThat(stored).isEmpty();
    }

    @Test
    void aReplyGoesInTheThreadOfTheMessageItAnswers() {
        String root = slack.say("U0ALICE", "C0GENERAL", "<@U0BOT> start a thread");
        slack.sayInThread("U0ALICE", "C0GENERAL", root, "<@U0BOT> in the thread");
        await().atMost(WAIT).until(() -> stored.size() == 2);
        NewInbound inThread = stored.get(1);
        assertThat(inThread.threadId()).isEqualTo(root);

        DeliveryResult inThreadReply = channel.deliver(reply("C0GENERAL", inThread.platformMessageId(), "threaded"));
        DeliveryResult topReply =
                channel.deliver(reply("C0GENERAL", stored.get(0).platformMessageId(), "top"));

        assertThat(inThreadReply).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(topReply).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(slack.posted()).extracting(FakeSlack.Posted::threadTs).containsExactly(root, null);
        assertThat(((DeliveryResult.Delivered) inThreadReply).platformMessageId())
                .isEqualTo(slack.posted().getFirst().ts());
    }

    @Test
    void anAgentsReplyCannotPingTheChannelOrAnyoneInIt() {
        channel.deliver(reply("C0GENERAL", null, "<!channel> <!here> <@U0ALICE> <https://evil.example|docs> & co"));

        assertThat(slack.posted().getFirst().text())
                .isEqualTo(
                        "&lt;!channel&gt; &lt;!here&gt; &lt;@U0ALICE&gt; &lt;https://evil.example|docs&gt; &amp; co");
    }

    @Test
    void rateLimitsAndSlacksOwnTroubleAreRetriedAfterWhatSlackSays() {
        slack.failNext("chat.postMessage", FakeSlack.Failure.rateLimited(7));
        slack.failNext("chat.postMessage", FakeSlack.Failure.status(503));
        slack.failNext("chat.postMessage", FakeSlack.Failure.error("internal_error"));
        slack.failNext("chat.postMessage", FakeSlack.Failure.error("fatal_error"));

        DeliveryResult limited = channel.deliver(reply("C0GENERAL", null, "hi"));
        assertThat(limited).isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(((DeliveryResult.RetryLater) limited).after()).isEqualTo(Duration.ofSeconds(7));
        assertThat(channel.deliver(reply("C0GENERAL", null, "hi"))).isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(channel.deliver(reply("C0GENERAL", null, "hi"))).isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(channel.deliver(reply("C0GENERAL", null, "hi"))).isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(channel.deliver(reply("C0GENERAL", null, "hi"))).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(slack.posted()).hasSize(1);
    }

    @Test
    void aPostSlackRefusesForGoodFailsWithSlacksReason() {
        slack.channel("C0OUTSIDE", false);
        slack.channel("C0OLD", true);
        slack.archive("C0OLD");

        assertThat(failure(channel.deliver(reply("C0GONE", null, "hi")))).contains("channel_not_found");
        assertThat(failure(channel.deliver(reply("C0OUTSIDE", null, "hi"))))
                .contains("not_in_channel")
                .contains("/invite");
        assertThat(failure(channel.deliver(reply("C0OLD", null, "hi")))).contains("is_archived");
        SlackChannel badToken = adapter(FakeSlack.APP_TOKEN, "xoxb-revoked");
        assertThat(failure(badToken.deliver(reply("C0GENERAL", null, "hi")))).contains("invalid_auth");
        assertThat(slack.posted()).isEmpty();
    }

    @Test
    void withAWrongAppTokenTheAdapterKeepsTryingAndNeverConnects() {
        SlackChannel wrong = adapter("xapp-1-wrong", FakeSlack.BOT_TOKEN);
        wrong.start(message -> {
            throw new AssertionError("nothing can arrive");
        });
        try {
            await().atMost(WAIT)
                    .until(() -> slack.calls().stream()
                                    .filter("apps.connections.open"::equals)
                                    .count()
                            >= 4);
            assertThat(wrong.isReady()).isFalse();
            assertThat(slack.connections()).isEqualTo(1);
        } finally {
            wrong.close();
        }
    }

    private static String failure(DeliveryResult result) {
        assertThat(result).isInstanceOf(DeliveryResult.Failed.class);
        return ((DeliveryResult.Failed) result).reason();
    }

    // ---- files (send_file): the upload URL, the bytes, the share

    static final byte[] CSV = "region,total\nnorth,12\n".getBytes(StandardCharsets.UTF_8);

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
