package dev.cordon.channel.matrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.FakeMatrix;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The adapter against {@link FakeMatrix}, which speaks the client-server API's JSON and its errors. */
class MatrixChannelTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final String TOKEN = "syt_Y29yZG9u_fakeAccessToken_0a1b2c";
    static final String ALICE = FakeMatrix.user("alice");
    static final String BOB = FakeMatrix.user("bob");

    @TempDir
    Path dir;

    FakeMatrix matrix;
    final List<MatrixChannel> channels = new ArrayList<>();
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
        matrix = FakeMatrix.start(TOKEN, "cordon");
    }

    @AfterEach
    void stop() {
        channels.forEach(MatrixChannel::close);
        matrix.close();
    }

    Path tokenFile() {
        return dir.resolve("matrix/sync-token");
    }

    MatrixChannel channel(String token) {
        return channel(token, 100);
    }

    /** An adapter whose syncs and pages carry at most {@code limit} events per room. */
    MatrixChannel channel(String token, int limit) {
        MatrixChannel c = new MatrixChannel(
                new MatrixSettings(matrix.url(), token, Duration.ofSeconds(2), true, tokenFile()),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(50), Duration.ofMillis(200), new SplittableRandom(1)),
                new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(60), new SplittableRandom(2)),
                limit);
        channels.add(c);
        return c;
    }

    MatrixChannel started() {
        MatrixChannel c = channel(TOKEN);
        c.start(sink);
        await().atMost(WAIT).until(c::isSyncing);
        return c;
    }

    NewInbound next() throws InterruptedException {
        NewInbound m = inbox.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(m).as("an inbound message within " + WAIT).isNotNull();
        return m;
    }

    static OutgoingMessage reply(String room, String replyTo, String text, String key) {
        return new OutgoingMessage(1, room, 0, replyTo, text, false, key);
    }

    @Test
    void theFirstStartSkipsHistoryThenAGroupMessageIsAddressedOnlyWhenItMentionsTheBot() throws Exception {
        String room = matrix.room(ALICE, BOB);
        matrix.mention(room, ALICE, "said before the bot ever synced");
        started();

        String plain = matrix.say(room, ALICE, "just chatting");
        String asked = matrix.mention(room, ALICE, "what time is it?");

        NewInbound chatter = next();
        NewInbound question = next();
        assertThat(chatter.platformMessageId()).isEqualTo(plain);
        assertThat(chatter.mentioned()).isFalse();
        assertThat(question.platformMessageId()).isEqualTo(asked);
        assertThat(question.channel()).isEqualTo("matrix");
        assertThat(question.platformChatId()).isEqualTo(room);
        assertThat(question.senderId()).isEqualTo(ALICE);
        assertThat(question.mentioned()).isTrue();
        assertThat(question.text()).isEqualTo("what time is it?");
        assertThat(inbox).isEmpty();
        assertThat(Files.readString(tokenFile())).startsWith("s");
    }

    @Test
    void aDirectRoomIsAlwaysAddressedAndAnInvitationIsAccepted() throws Exception {
        started();
        String dm = matrix.roomInviting(ALICE);
        await().atMost(WAIT).until(() -> matrix.joined(dm));

        matrix.say(dm, ALICE, "hello");

        NewInbound m = next();
        assertThat(m.text()).isEqualTo("hello");
        assertThat(m.mentioned()).isTrue();
    }

    @Test
    void aThreadMessageNamesItsRootAndTheReplyGoesIntoTheThread() throws Exception {
        MatrixChannel c = started();
        String room = matrix.room(ALICE, BOB);
        String root = matrix.say(room, BOB, "incident 42");
        String asked = matrix.inThread(room, ALICE, root, "what happened?");
        next();
        NewInbound question = next();
        assertThat(question.threadId()).isEqualTo(root);
        assertThat(question.replyToPlatformMessageId()).isNull();

        DeliveryResult result = c.deliver(reply(room, asked, "A disk filled up.", "turn:7"));

        FakeMatrix.Sent sent = matrix.nextSent(WAIT);
        assertThat(result).isEqualTo(new DeliveryResult.Delivered(sent.eventId()));
        assertThat(sent.body()).isEqualTo("A disk filled up.");
        assertThat(sent.content().path("m.relates_to").path("rel_type").asString())
                .isEqualTo("m.thread");
        assertThat(sent.content().path("m.relates_to").path("event_id").asString())
                .isEqualTo(root);
        assertThat(sent.content()
                        .path("m.relates_to")
                        .path("m.in_reply_to")
                        .path("event_id")
                        .asString())
                .isEqualTo(asked);
        assertThat(sent.content().path("m.mentions").path("user_ids").get(0).asString())
                .isEqualTo(ALICE);
    }

    @Test
    void aReplySentAgainWithTheSameKeyIsShownOnce() {
        MatrixChannel c = started();
        String room = matrix.room(ALICE, BOB);

        DeliveryResult first = c.deliver(reply(room, null, "Once.", "turn:9#1/2"));
        DeliveryResult again = c.deliver(reply(room, null, "Once.", "turn:9#1/2"));

        assertThat(again).isEqualTo(first).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(matrix.sent()).hasSize(1);
        assertThat(matrix.sent().getFirst().txnId()).isEqualTo("turn:9#1/2");
    }

    @Test
    void aRateLimitIsRetriedAfterTheWaitTheHomeserverAsksAndServerErrorsWithABackOff() {
        MatrixChannel c = started();
        String room = matrix.room(ALICE, BOB);
        matrix.failNext("send", 1, 429, "M_LIMIT_EXCEEDED", "Too many requests", 2_500L);
        matrix.failNext("send", 1, 502, "M_UNKNOWN", "Bad gateway", null);

        DeliveryResult limited = c.deliver(reply(room, null, "hi", "turn:1"));
        DeliveryResult down = c.deliver(reply(room, null, "hi", "turn:1"));

        assertThat(limited).isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(((DeliveryResult.RetryLater) limited).after()).isEqualTo(Duration.ofMillis(2_500));
        assertThat(((DeliveryResult.RetryLater) limited).reason()).contains("M_LIMIT_EXCEEDED");
        assertThat(down).isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(c.deliver(reply(room, null, "hi", "turn:1"))).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(matrix.sent()).hasSize(1);
    }

    @Test
    void aRoomThatForbidsTheBotIsAFailureForGood() {
        MatrixChannel c = started();
        String room = matrix.room(ALICE, BOB);
        matrix.kickBot(room);

        DeliveryResult result = c.deliver(reply(room, null, "hi", "turn:1"));

        assertThat(result).isInstanceOf(DeliveryResult.Failed.class);
        assertThat(((DeliveryResult.Failed) result).reason()).contains("403", "M_FORBIDDEN", room);
    }

    @Test
    void anEventTheHostCouldNotStoreComesAgainAndARestartGoesOnFromTheSavedToken() throws Exception {
        MatrixChannel first = started();
        String room = matrix.room(ALICE, BOB);
        storeFails.set(true);
        String kept = matrix.mention(room, ALICE, "do not lose me");
        assertThat(next().platformMessageId()).isEqualTo(kept);
        // Once stored, the batch's token is saved and the next sync starts after it.
        int syncs = matrix.syncs().size();
        await().atMost(WAIT).until(() -> matrix.syncs().size() > syncs);
        first.close();
        String saved = Files.readString(tokenFile());

        String whileDown = matrix.mention(room, ALICE, "said while the daemon was down");
        started();

        assertThat(next().platformMessageId()).isEqualTo(whileDown);
        assertThat(matrix.syncs()).contains(saved);
        assertThat(inbox).isEmpty();
    }

    @Test
    void aGapLongerThanOneSyncIsFetchedBackSoThatNothingSaidWhileDownIsLost() throws Exception {
        String room = matrix.room(ALICE, BOB);
        MatrixChannel first = limited(3);
        first.close();
        List<String> said = new ArrayList<>();
        for (int i = 1; i <= 8; i++) {
            said.add(matrix.mention(room, ALICE, "message " + i));
        }

        limited(3);

        List<String> received = new ArrayList<>();
        for (int i = 0; i < said.size(); i++) {
            received.add(next().platformMessageId());
        }
        assertThat(received).isEqualTo(said);
        assertThat(inbox).isEmpty();
    }

    MatrixChannel limited(int limit) {
        MatrixChannel c = channel(TOKEN, limit);
        c.start(sink);
        await().atMost(WAIT).until(c::isSyncing);
        return c;
    }

    @Test
    void aRejectedTokenIsReported() {
        MatrixChannel c = channel("syt_wrong");
        c.start(sink);

        await().atMost(WAIT).until(() -> c.trouble() != null);
        assertThat(c.trouble()).contains("401", "M_UNKNOWN_TOKEN", "cordon secret set");
    }

    @Test
    void settingsRefuseAPlainHttpHomeserverAwayFromLoopback() {
        assertThatThrownBy(() -> new MatrixSettings(
                        URI.create("http://matrix.example.org"), TOKEN, Duration.ZERO, true, tokenFile()))
                .hasMessageContaining("homeserver")
                .hasMessageContaining("https");
        assertThat(MatrixEvent.withoutReplyFallback("> <@bob:x> earlier\n> more\n\nthe answer"))
                .isEqualTo("the answer");
    }
}
