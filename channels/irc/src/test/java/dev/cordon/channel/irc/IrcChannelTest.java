package dev.cordon.channel.irc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.IrcUser;
import dev.cordon.testkit.Ngircd;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The adapter against a real ngircd started by the test on loopback. */
class IrcChannelTest {
    static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    Ngircd server;
    IrcChannel channel;
    final LinkedBlockingQueue<NewInbound> inbox = new LinkedBlockingQueue<>();
    final AtomicLong ids = new AtomicLong();
    final InboundSink sink = message -> {
        inbox.add(message);
        return new InboundSink.InboundResult.Accepted(ids.incrementAndGet(), false);
    };

    @BeforeEach
    void start() throws Exception {
        server = Ngircd.start(dir);
        channel = new IrcChannel(
                new IrcSettings(server.host(), server.port(), false, "cordonbot", List.of("#cordon"), null),
                new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), new SplittableRandom(3)),
                Pacer.standard());
        channel.start(sink);
        await().atMost(WAIT).until(channel::isReady);
    }

    @AfterEach
    void stop() {
        channel.close();
        server.close();
    }

    NewInbound next() throws InterruptedException {
        NewInbound m = inbox.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(m).as("an inbound message within " + WAIT).isNotNull();
        return m;
    }

    static OutgoingMessage reply(String chat, String text) {
        return new OutgoingMessage(1, chat, 0, null, text, false, "turn:1");
    }

    @Test
    void aChannelMessageThatMentionsTheNickIsAddressedWithTheMentionStripped() throws Exception {
        try (IrcUser alice = IrcUser.connect(server.host(), server.port(), "alice")) {
            alice.join("#Cordon");
            alice.say("#Cordon", "just chatting");
            alice.say("#Cordon", "CordonBot: what time is it?");

            NewInbound chatter = next();
            NewInbound question = next();

            assertThat(chatter.channel()).isEqualTo("irc");
            assertThat(chatter.platformChatId()).isEqualTo("#cordon");
            assertThat(chatter.senderId()).isEqualTo("alice");
            assertThat(chatter.mentioned()).isFalse();
            assertThat(question.mentioned()).isTrue();
            assertThat(question.text()).isEqualTo("what time is it?");
            assertThat(question.platformMessageId()).isNotEqualTo(chatter.platformMessageId());
        }
    }

    @Test
    void aPrivateMessageIsADirectChatWithTheSender() throws Exception {
        try (IrcUser bob = IrcUser.connect(server.host(), server.port(), "Bob")) {
            bob.say("cordonbot", "hello in private");

            NewInbound m = next();

            assertThat(m.platformChatId()).isEqualTo("bob");
            assertThat(m.senderId()).isEqualTo("bob");
            assertThat(m.mentioned()).isTrue();

            assertThat(channel.deliver(reply("bob", "hello back"))).isInstanceOf(DeliveryResult.Delivered.class);
            assertThat(bob.await(s -> true, WAIT)).isEqualTo(new IrcUser.Said("cordonbot", "Bob", "hello back"));
        }
    }

    @Test
    void aLongReplyArrivesSplitIntoLinesWithinTheIrcLimit() throws Exception {
        try (IrcUser alice = IrcUser.connect(server.host(), server.port(), "alice")) {
            alice.join("#cordon");
            String text =
                    "The quick brown fox jumps over the lazy dog. ".repeat(25).strip();

            DeliveryResult result = channel.deliver(reply("#cordon", text));

            assertThat(result).isInstanceOf(DeliveryResult.Delivered.class);
            List<String> got = new java.util.ArrayList<>();
            while (String.join(" ", got).length() < text.length()) {
                got.add(alice.await(s -> s.target().equals("#cordon"), WAIT).text());
            }
            assertThat(got).hasSizeGreaterThan(2);
            assertThat(String.join(" ", got)).isEqualTo(text);
            assertThat(alice.raw().stream().filter(l -> l.contains(" PRIVMSG ")))
                    .allSatisfy(l -> assertThat(l.getBytes(StandardCharsets.UTF_8).length + 2)
                            .isLessThanOrEqualTo(512));
        }
    }

    @Test
    void aReplyCannotSmuggleAnIrcCommand() throws Exception {
        try (IrcUser alice = IrcUser.connect(server.host(), server.port(), "alice")) {
            alice.join("#cordon");

            channel.deliver(reply("#cordon", "harmless\r\nPART #cordon :gone\r\nJOIN #elsewhere"));

            assertThat(alice.await(s -> true, WAIT).text()).isEqualTo("harmless");
            assertThat(alice.await(s -> true, WAIT).text()).isEqualTo("PART #cordon :gone");
            assertThat(alice.await(s -> true, WAIT).text()).isEqualTo("JOIN #elsewhere");
            // Still in the channel: the lines went as text, not as commands.
            alice.say("#cordon", "cordonbot: still there?");
            assertThat(next().text()).isEqualTo("still there?");
        }
    }

    @Test
    void aReplyToANickThatIsNotThereFailsPermanentlyWithTheServersReason() {
        DeliveryResult result = channel.deliver(reply("nobody", "anyone?"));

        assertThat(result).isInstanceOf(DeliveryResult.Failed.class);
        assertThat(((DeliveryResult.Failed) result).reason()).contains("401").contains("nobody");
    }

    @Test
    void aBotWhoseNickIsHeldByAGhostAnswersToItAndTakesItBackWhenTheGhostLeaves() throws Exception {
        // The ghost of a crashed daemon still holds the nick when the new one connects. (#ghosts:
        // the test's other adapter is in #cordon.)
        IrcUser ghost = IrcUser.connect(server.host(), server.port(), "ghostbot");
        ghost.join("#ghosts");
        IrcChannel bot = new IrcChannel(
                new IrcSettings(server.host(), server.port(), false, "ghostbot", List.of("#ghosts"), null),
                new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), new SplittableRandom(5)),
                Pacer.standard());
        try (IrcUser alice = IrcUser.connect(server.host(), server.port(), "alice")) {
            bot.start(sink);
            await().atMost(WAIT).until(bot::isReady);
            alice.join("#ghosts");
            alice.awaitMember("#ghosts", "ghostbot_", WAIT);
            alice.say("#ghosts", "ghostbot: are you the real one?");
            NewInbound meanwhile = next();
            assertThat(meanwhile.mentioned()).isTrue();
            assertThat(meanwhile.text()).isEqualTo("are you the real one?");

            ghost.close();

            await().atMost(WAIT)
                    .until(() -> alice.raw().stream()
                            .anyMatch(l -> l.startsWith(":ghostbot_!") && l.endsWith("NICK :ghostbot")));
            assertThat(bot.deliver(reply("#ghosts", "I am"))).isInstanceOf(DeliveryResult.Delivered.class);
            assertThat(alice.await(s -> s.text().equals("I am"), WAIT).from()).isEqualTo("ghostbot");
        } finally {
            bot.close();
        }
    }

    @Test
    void afterTheServerRestartsTheAdapterRejoinsAndNothingIsLostOrDoubled() throws Exception {
        server.stop();
        await().atMost(WAIT).until(() -> !channel.isReady());
        // While the server is gone a reply waits: a retry, not a failure, and not marked delivered.
        assertThat(channel.deliver(reply("#cordon", "are you there?"))).isInstanceOf(DeliveryResult.RetryLater.class);

        server.restart();
        await().atMost(WAIT).until(channel::isReady);

        try (IrcUser alice = IrcUser.connect(server.host(), server.port(), "alice")) {
            alice.join("#cordon");
            alice.say("#cordon", "cordonbot: back?");
            assertThat(next().text()).isEqualTo("back?");
            assertThat(channel.deliver(reply("#cordon", "yes, back"))).isInstanceOf(DeliveryResult.Delivered.class);
            assertThat(alice.await(s -> true, WAIT).text()).isEqualTo("yes, back");
            assertThat(alice.drain(Duration.ofMillis(500))).isEmpty();
            assertThat(inbox).isEmpty();
        }
    }

    @Test
    void privateMessagesAndCtcpRequestsAreNotMistakenForEachOther() throws Exception {
        try (IrcUser eve = IrcUser.connect(server.host(), server.port(), "eve")) {
            eve.say("cordonbot", "\u0001VERSION\u0001");
            eve.say("cordonbot", "a real question");

            assertThat(next().text()).isEqualTo("a real question");
        }
    }
}
