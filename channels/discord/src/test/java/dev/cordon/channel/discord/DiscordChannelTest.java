package dev.cordon.channel.discord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.FakeDiscord;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Discord adapter against {@link FakeDiscord}: the gateway over a real WebSocket, REST over HTTP. */
class DiscordChannelTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    FakeDiscord discord;
    DiscordChannel channel;
    FakeDiscord.User alice;
    final List<NewInbound> stored = new CopyOnWriteArrayList<>();
    /** Run before the sink stores a message; may throw, as a failing store does. */
    volatile Runnable beforeStoring;

    @BeforeEach
    void start() throws Exception {
        discord = FakeDiscord.start();
        alice = discord.user("alice");
    }

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.close();
        }
        discord.close();
    }

    DiscordChannel adapter(String token, Path sessionFile) {
        DiscordSettings settings = new DiscordSettings(discord.api(), token, sessionFile);
        HttpClient http = HttpClient.newHttpClient();
        return new DiscordChannel(
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

    /** Starts the adapter with a sink that records what it stores, and waits until its session is live. */
    void connect() {
        channel = started(adapter(FakeDiscord.TOKEN, null));
        await().atMost(WAIT).until(channel::isReady);
    }

    DiscordChannel started(DiscordChannel adapter) {
        adapter.start(message -> {
            Runnable r = beforeStoring;
            if (r != null) {
                r.run();
            }
            stored.add(message);
            return new InboundSink.InboundResult.Accepted(stored.size(), false);
        });
        return adapter;
    }

    static OutgoingMessage reply(String chat, String replyTo, String text, String key) {
        return new OutgoingMessage(1, chat, 0, replyTo, text, false, key);
    }

    @Test
    void aDirectMessageReachesTheHostAddressedToTheBot() {
        connect();
        String dm = discord.dm(alice);

        String id = discord.say(alice, dm, "hello <agent> & you");

        await().atMost(WAIT).until(() -> stored.size() == 1);
        NewInbound in = stored.getFirst();
        assertThat(in.channel()).isEqualTo("discord");
        assertThat(in.platformChatId()).isEqualTo(dm);
        assertThat(in.platformMessageId()).isEqualTo(id);
        assertThat(in.senderId()).isEqualTo(alice.id());
        assertThat(in.text()).isEqualTo("hello <agent> & you");
        assertThat(in.mentioned()).isTrue();
        assertThat(in.threadId()).isNull();
    }

    @Test
    void inAGuildChannelAMentionOrAReplyToTheBotAddressesItAndTheMentionIsRemoved() {
        connect();
        discord.say(alice, FakeDiscord.GENERAL, "just talking among ourselves");
        discord.say(alice, FakeDiscord.GENERAL, "<@" + FakeDiscord.BOT_ID + "> what is up?");
        await().atMost(WAIT).until(() -> stored.size() == 2);
        DeliveryResult.Delivered mine =
                (DeliveryResult.Delivered) channel.deliver(reply(FakeDiscord.GENERAL, null, "I am the bot", "k-1"));

        discord.reply(alice, FakeDiscord.GENERAL, "and a reply to you", mine.platformMessageId());

        await().atMost(WAIT).until(() -> stored.size() == 3);
        assertThat(stored).extracting(NewInbound::mentioned).containsExactly(false, true, true);
        assertThat(stored.get(1).text()).isEqualTo("what is up?");
        assertThat(stored.get(2).replyToPlatformMessageId()).isEqualTo(mine.platformMessageId());
    }

    @Test
    void optionsAreButtonsInOneRowAndAClickComesBackAsTheOptionFromTheClickerThenIsAcknowledged() {
        connect();
        FakeDiscord.User bob = discord.user("bob");
        DeliveryResult.Delivered card = (DeliveryResult.Delivered) channel.deliver(new OutgoingMessage(
                1, FakeDiscord.GENERAL, 0, null, "Launch?", false, "ask:1", List.of("Launch", "Wait", "Ask Ada")));
        assertThat(discord.posted().getLast().request().path("components").toString())
                .contains("\"label\":\"Wait\"", "\"custom_id\":\"cordon:o:1\"");

        String interaction = discord.press(bob, card.platformMessageId(), "Wait");

        await().atMost(WAIT).until(() -> stored.size() == 1);
        NewInbound click = stored.getFirst();
        assertThat(click.text()).isEqualTo("Wait");
        assertThat(click.senderId()).isEqualTo(bob.id());
        assertThat(click.platformChatId()).isEqualTo(FakeDiscord.GENERAL);
        assertThat(click.platformMessageId()).isEqualTo("interaction:" + interaction);
        assertThat(click.replyToPlatformMessageId()).isEqualTo(card.platformMessageId());
        assertThat(click.mentioned()).isTrue();
        await().atMost(WAIT).until(() -> !discord.callbacks().isEmpty());
        assertThat(discord.callbacks().getFirst().type()).isEqualTo(6);
    }

    @Test
    void moreOptionsThanOneRowHoldsGoAsANumberedListAndAForeignClickIsAnsweredOnlyToItsClicker() {
        connect();
        List<String> six = List.of("a", "b", "c", "d", "e", "f");
        DeliveryResult.Delivered many = (DeliveryResult.Delivered)
                channel.deliver(new OutgoingMessage(1, FakeDiscord.GENERAL, 0, null, "Pick", false, "ask:2", six));
        assertThat(discord.posted().getLast().content())
                .isEqualTo("Pick\n\n1. a\n2. b\n3. c\n4. d\n5. e\n6. f\n(Answer with a number.)");
        assertThat(discord.posted().getLast().request().has("components")).isFalse();
        DeliveryResult.Delivered card = (DeliveryResult.Delivered) channel.deliver(
                new OutgoingMessage(1, FakeDiscord.GENERAL, 0, null, "Pick", false, "ask:3", List.of("x")));

        String foreign = discord.pressCustomId(alice, card.platformMessageId(), "another-app:approve");
        String stale = discord.pressCustomId(alice, many.platformMessageId(), "cordon:o:0");
        discord.say(alice, FakeDiscord.GENERAL, "<@" + FakeDiscord.BOT_ID + "> after the clicks");

        await().atMost(WAIT).until(() -> stored.size() == 1);
        assertThat(stored.getFirst().text()).isEqualTo("after the clicks");
        assertThat(discord.callbacks())
                .extracting(FakeDiscord.Callback::interactionId, FakeDiscord.Callback::type)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(foreign, 4), org.assertj.core.groups.Tuple.tuple(stale, 4));
        assertThat(discord.callbacks()
                        .getFirst()
                        .body()
                        .path("data")
                        .path("flags")
                        .asInt())
                .as("ephemeral: only the clicker sees it")
                .isEqualTo(64);
    }

    @Test
    void theBotsOwnPostsAreNotPassedOn() throws Exception {
        connect();
        channel.deliver(reply(FakeDiscord.GENERAL, null, "I am the bot", "k-1"));
        discord.say(alice, FakeDiscord.GENERAL, "after the bot");

        await().atMost(WAIT).until(() -> stored.size() == 1);
        assertThat(stored.getFirst().text()).isEqualTo("after the bot");
    }

    @Test
    void aMessageInAThreadBelongsToItsParentChannelAndItsAnswerGoesInTheThread() {
        connect();
        String thread = discord.thread(FakeDiscord.GENERAL);

        String id = discord.say(alice, thread, "<@" + FakeDiscord.BOT_ID + "> in the thread");

        await().atMost(WAIT).until(() -> stored.size() == 1);
        NewInbound in = stored.getFirst();
        assertThat(in.platformChatId()).isEqualTo(FakeDiscord.GENERAL);
        assertThat(in.threadId()).isEqualTo(thread);
        assertThat(in.platformMessageId()).isEqualTo(id + "@" + thread);

        assertThat(channel.deliver(reply(FakeDiscord.GENERAL, in.platformMessageId(), "threaded", "k-1")))
                .isInstanceOf(DeliveryResult.Delivered.class);
        FakeDiscord.Posted posted = discord.posted().getFirst();
        assertThat(posted.channelId()).isEqualTo(thread);
        assertThat(posted.replyTo()).isEqualTo(id);
    }

    @Test
    void aMessageTheHostCouldNotStoreIsReplayedByAResumeAndStoredThen() {
        connect();
        AtomicInteger attempts = new AtomicInteger();
        beforeStoring = () -> {
            if (attempts.incrementAndGet() == 1) {
                throw new IllegalStateException("the store is down");
            }
        };
        String dm = discord.dm(alice);

        discord.say(alice, dm, "do not lose me");

        await().atMost(WAIT).until(() -> stored.size() == 1);
        assertThat(stored).extracting(NewInbound::text).containsExactly("do not lose me");
        assertThat(attempts).hasValue(2);
        assertThat(discord.resumes()).isEqualTo(1);
        assertThat(discord.identifies()).isEqualTo(1);
    }

    @Test
    void aRedeliveredMessageReachesTheHostOnce() {
        connect();
        String dm = discord.dm(alice);
        String id = discord.say(alice, dm, "once only");
        String later = discord.say(alice, dm, "then this");
        await().atMost(WAIT).until(() -> stored.size() == 2);

        discord.redeliver(id);
        discord.say(alice, dm, "and this");

        await().atMost(WAIT).until(() -> stored.size() == 3);
        assertThat(stored).extracting(NewInbound::text).containsExactly("once only", "then this", "and this");
        assertThat(later).isNotEqualTo(id);
    }

    @Test
    void messagesWrittenWhileTheSocketIsDownArriveWhenTheAdapterResumes() {
        connect();
        String dm = discord.dm(alice);

        discord.dropSocket();
        discord.say(alice, dm, "are you there?");

        await().atMost(WAIT).until(() -> stored.size() == 1);
        assertThat(discord.connections()).isEqualTo(2);
        assertThat(discord.identifies()).isEqualTo(1);
        assertThat(discord.resumes()).isEqualTo(1);
    }

    @Test
    void reconnectResumesAndAnInvalidSessionResumesOrIdentifiesAsDiscordSays() {
        connect();

        discord.askToReconnect();
        await().atMost(WAIT).until(() -> discord.resumes() == 1 && channel.isReady());
        discord.invalidateSession(true);
        await().atMost(WAIT).until(() -> discord.resumes() == 2 && channel.isReady());
        discord.invalidateSession(false);
        await().atMost(WAIT).until(() -> discord.identifies() == 2 && channel.isReady());

        discord.say(alice, discord.dm(alice), "still here");
        await().atMost(WAIT).until(() -> stored.size() == 1);
        assertThat(discord.resumes()).isEqualTo(2);
    }

    @Test
    void aSessionDiscordTimedOutIsIdentifiedAnew() {
        connect();

        discord.closeSocket(4009, "Session timed out.");

        await().atMost(WAIT).until(() -> discord.identifies() == 2 && channel.isReady());
        assertThat(discord.resumes()).isZero();
    }

    @Test
    void heartbeatsAreSentAndAConnectionWhoseBeatsAreNotAcknowledgedIsDroppedAndResumed() {
        discord.heartbeatInterval(150);
        connect();
        await().atMost(WAIT).until(() -> discord.heartbeats() >= 2);
        int before = discord.heartbeats();
        discord.requestHeartbeat();
        await().atMost(WAIT).until(() -> discord.heartbeats() > before);

        discord.acknowledgeHeartbeats(false);
        await().atMost(WAIT).until(() -> discord.connections() >= 2);
        discord.acknowledgeHeartbeats(true);

        await().atMost(WAIT).until(() -> discord.resumes() >= 1 && channel.isReady());
        assertThat(discord.identifies()).isEqualTo(1);
    }

    @Test
    void garbageIsIgnoredAndAnOversizedMessageCostsTheConnectionButNothingElse() {
        connect();

        discord.sendRaw("this is not JSON");
        discord.sendRaw("{\"op\":0,\"t\":\"X\",\"d\":\"" + "a".repeat(DiscordChannel.MAX_MESSAGE) + "\"}");

        await().atMost(WAIT).until(() -> discord.resumes() == 1 && channel.isReady());
        discord.say(alice, discord.dm(alice), "still fine");
        await().atMost(WAIT).until(() -> stored.size() == 1);
        assertThat(discord.connections()).isEqualTo(2);
    }

    @Test
    void aRejectedTokenStopsTheAdapterAndSaysWhatToDo() {
        channel = started(adapter("MTAwMDAwMDAwMDAwMDAwMDAx.GfAkEt.wrong-token-0123456789", null));

        await().atMost(WAIT).until(channel::stopped);
        assertThat(channel.trouble()).contains("401").contains("cordon secret set");
        assertThat(discord.connections()).isZero();
    }

    @Test
    void closeCode4004StopsTheAdapterForGood() {
        connect();

        discord.closeSocket(4004, "Authentication failed.");

        await().atMost(WAIT).until(channel::stopped);
        assertThat(channel.trouble()).contains("4004").contains("token");
        assertThat(discord.connections()).isEqualTo(1);
    }

    @Test
    void withoutTheMessageContentIntentEnabledTheAdapterStopsAndNamesTheSwitch() {
        discord.messageContentIntent(false);
        channel = started(adapter(FakeDiscord.TOKEN, null));

        await().atMost(WAIT).until(channel::stopped);
        assertThat(channel.trouble()).contains("4014").contains("MESSAGE CONTENT INTENT");
        assertThat(discord.connections()).isEqualTo(1);
    }

    @Test
    void withTheDaysSessionStartsSpentTheAdapterWaitsForTheResetInsteadOfIdentifying() {
        discord.sessionStartLimit(0, 50);
        channel = started(adapter(FakeDiscord.TOKEN, null));

        await().atMost(WAIT).until(() -> discord.calls().size() >= 2);
        assertThat(discord.connections()).isZero();
        assertThat(channel.trouble()).contains("daily limit of new gateway sessions");

        discord.sessionStartLimit(999, 14_400_000);
        await().atMost(WAIT).until(channel::isReady);
        assertThat(discord.identifies()).isEqualTo(1);
    }

    @Test
    void aRestartWithTheSessionFileResumesAndMissesNothing() {
        Path file = dir.resolve("discord-session");
        channel = started(adapter(FakeDiscord.TOKEN, file));
        await().atMost(WAIT).until(channel::isReady);
        String dm = discord.dm(alice);
        discord.say(alice, dm, "before the restart");
        await().atMost(WAIT).until(() -> stored.size() == 1);
        channel.close();

        discord.say(alice, dm, "while the daemon was down");
        channel = started(adapter(FakeDiscord.TOKEN, file));

        await().atMost(WAIT).until(() -> stored.size() == 2);
        assertThat(stored)
                .extracting(NewInbound::text)
                .containsExactly("before the restart", "while the daemon was down");
        assertThat(discord.resumes()).isEqualTo(1);
        assertThat(discord.identifies()).isEqualTo(1);
    }

    @Test
    void whenDiscordForgotTheSessionANewOneCatchesUpFromEachChannelsHistoryOldestFirst() {
        Path file = dir.resolve("discord-session");
        channel = started(adapter(FakeDiscord.TOKEN, file));
        await().atMost(WAIT).until(channel::isReady);
        String dm = discord.dm(alice);
        String thread = discord.thread(FakeDiscord.GENERAL);
        discord.say(alice, dm, "before the restart");
        discord.say(alice, thread, "<@" + FakeDiscord.BOT_ID + "> in a thread, before");
        await().atMost(WAIT).until(() -> stored.size() == 2);
        channel.close();
        discord.expireSessions();

        discord.say(alice, dm, "while down, one");
        discord.say(alice, thread, "<@" + FakeDiscord.BOT_ID + "> while down, in the thread");
        discord.say(alice, dm, "while down, two");
        channel = started(adapter(FakeDiscord.TOKEN, file));

        await().atMost(WAIT).until(() -> stored.size() == 5);
        assertThat(discord.identifies()).isEqualTo(2);
        assertThat(stored.subList(2, 5))
                .extracting(NewInbound::text)
                .containsExactlyInAnyOrder("while down, one", "while down, two", "while down, in the thread");
        assertThat(stored.stream().map(NewInbound::text).filter(t -> t.startsWith("while down, ")))
                .containsSubsequence("while down, one", "while down, two");
        NewInbound inThread = stored.stream()
                .filter(m -> m.text().equals("while down, in the thread"))
                .findFirst()
                .orElseThrow();
        assertThat(inThread.platformChatId()).isEqualTo(FakeDiscord.GENERAL);
        assertThat(inThread.threadId()).isEqualTo(thread);
        assertThat(inThread.mentioned()).isTrue();
        assertThat(stored.stream().filter(m -> m.text().equals("while down, two")))
                .singleElement()
                .satisfies(m -> assertThat(m.mentioned()).as("a direct message").isTrue());

        // Caught up, and remembered: the next new session reads nothing twice.
        channel.close();
        discord.expireSessions();
        channel = started(adapter(FakeDiscord.TOKEN, file));
        await().atMost(WAIT).until(() -> discord.identifies() == 3 && channel.isReady());
        discord.say(alice, dm, "after");
        await().atMost(WAIT).until(() -> stored.size() == 6);
        assertThat(stored).extracting(NewInbound::text).doesNotHaveDuplicates();
    }

    @Test
    void aReplyCarriesItsNonceSoARepeatIsShownOnceAndCannotPingAnyone() {
        connect();
        OutgoingMessage message = reply(
                FakeDiscord.GENERAL, null, "@everyone <@" + alice.id() + "> see https://x.example", "outbound-42");

        DeliveryResult first = channel.deliver(message);
        DeliveryResult again = channel.deliver(message);

        assertThat(first).isInstanceOf(DeliveryResult.Delivered.class).isEqualTo(again);
        assertThat(discord.posted()).hasSize(1);
        FakeDiscord.Posted posted = discord.posted().getFirst();
        assertThat(posted.nonce()).hasSize(25).isEqualTo(DiscordMessages.nonce("outbound-42"));
        assertThat(posted.request().path("enforce_nonce").asBoolean()).isTrue();
        assertThat(posted.request().path("allowed_mentions").path("parse")).isEmpty();
        assertThat(posted.request().path("flags").asInt() & 4).isEqualTo(4);
    }

    @Test
    void theRateLimitHeadersAreRespectedSoNoPostRunsIntoA429() {
        discord.rateLimit(2, 400);
        connect();

        for (int i = 0; i < 5; i++) {
            assertThat(channel.deliver(reply(FakeDiscord.GENERAL, null, "message " + i, "k-" + i)))
                    .isInstanceOf(DeliveryResult.Delivered.class);
        }

        assertThat(discord.posted()).hasSize(5);
        assertThat(discord.rateLimited()).isZero();
    }

    @Test
    void a429WaitsWhatDiscordSaysAndA5xxIsRetried() {
        connect();
        discord.failNext(FakeDiscord.GENERAL, 429, "1.5");
        discord.failNext(FakeDiscord.GENERAL, 502, null);

        DeliveryResult limited = channel.deliver(reply(FakeDiscord.GENERAL, null, "hi", "k-1"));
        DeliveryResult outage = channel.deliver(reply(FakeDiscord.GENERAL, null, "hi", "k-1"));
        DeliveryResult done = channel.deliver(reply(FakeDiscord.GENERAL, null, "hi", "k-1"));

        assertThat(limited).isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(((DeliveryResult.RetryLater) limited).after()).isEqualTo(Duration.ofMillis(1500));
        assertThat(outage).isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(((DeliveryResult.RetryLater) outage).reason()).contains("502");
        assertThat(done).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(discord.posted()).hasSize(1);
    }

    @Test
    void missingAccessAndAnUnknownChannelFailForGoodWithDiscordsReason() {
        connect();
        String hidden = discord.textChannel();
        discord.revokeAccess(hidden);
        String gone = discord.textChannel();
        discord.delete(gone);

        assertThat(failure(channel.deliver(reply(hidden, null, "hi", "k-1"))))
                .contains("403", "Missing Access", "50001", "View Channel");
        assertThat(failure(channel.deliver(reply(gone, null, "hi", "k-2"))))
                .contains("404", "Unknown Channel", "10003");
        assertThat(failure(channel.deliver(reply(FakeDiscord.GENERAL, null, "x".repeat(2001), "k-3"))))
                .contains("400", "Invalid Form Body");
        assertThat(discord.posted()).isEmpty();
    }

    private static String failure(DeliveryResult result) {
        assertThat(result).isInstanceOf(DeliveryResult.Failed.class);
        return ((DeliveryResult.Failed) result).reason();
    }

    // ---- files (send_file): payload_json plus files[0]

    static final byte[] ZIP = {'P', 'K', 3, 4, 0, (byte) 0x80, (byte) 0xff, 0, 'x'};

    static OutgoingMessage withFile(String chat, String caption, String key) {
        Attachment file = new Attachment(
                "logs.zip", "application/zip", ZIP.length, "01".repeat(32), () -> new ByteArrayInputStream(ZIP));
        return new OutgoingMessage(5, chat, 0, null, caption, false, key, List.of(), file);
    }

    @Test
    void aFileIsPostedWithThePayloadAndItsBytesUnchanged() {
        channel = adapter(FakeDiscord.TOKEN, null);
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
        channel = adapter(FakeDiscord.TOKEN, null);
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
        channel = adapter(FakeDiscord.TOKEN, null);
        String room = discord.textChannel();
        discord.failNext(room, 429, "3");

        assertThat(channel.deliver(withFile(room, "x", "file:d")))
                .isInstanceOfSatisfying(
                        DeliveryResult.RetryLater.class,
                        r -> assertThat(r.after()).isEqualTo(Duration.ofSeconds(3)));
        assertThat(discord.uploads()).isEmpty();
    }
}
