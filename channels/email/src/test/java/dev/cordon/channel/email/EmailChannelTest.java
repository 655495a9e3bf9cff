package dev.cordon.channel.email;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.Ports;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The adapter against GreenMail's real IMAP and SMTP servers, in process on loopback. */
class EmailChannelTest {
    static final Duration WAIT = Duration.ofSeconds(30);

    final MailServer server = new MailServer().start();
    final LinkedBlockingQueue<NewInbound> inbox = new LinkedBlockingQueue<>();
    final AtomicInteger failuresLeft = new AtomicInteger();
    final InboundSink sink = message -> {
        if (failuresLeft.getAndDecrement() > 0) {
            throw new IllegalStateException("the store is down");
        }
        inbox.add(message);
        return new InboundSink.InboundResult.Accepted(inbox.size(), false);
    };
    EmailChannel channel;

    EmailChannel start(EmailSettings settings) {
        EmailChannel c = new EmailChannel(
                settings, new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), new SplittableRandom(5)));
        c.start(sink);
        await().atMost(WAIT).until(c::isConnected);
        return c;
    }

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.close();
        }
        server.close();
    }

    NewInbound next() throws InterruptedException {
        NewInbound m = inbox.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(m).as("an inbound message within " + WAIT).isNotNull();
        return m;
    }

    static OutgoingMessage reply(String answering, String text, String key) {
        return new OutgoingMessage(1, MailServer.AGENT, 1, answering, text, false, key);
    }

    @Test
    void newMailIsPassedOnWithItsIdsAndOnlyThenMarkedSeen() throws Exception {
        channel = start(server.settings(true, Duration.ofMinutes(5)));

        server.send(
                "Alice <Alice@Example.org>",
                "Plans",
                "What is on today?",
                Map.of(
                        "Message-ID",
                        "<m2@example.org>",
                        "In-Reply-To",
                        "<m1@example.org>",
                        "References",
                        "<m0@example.org> <m1@example.org>"));

        NewInbound m = next();
        assertThat(m.channel()).isEqualTo("email");
        assertThat(m.platformChatId()).isEqualTo(MailServer.AGENT);
        assertThat(m.platformMessageId()).isEqualTo("<m2@example.org>");
        assertThat(m.senderId()).isEqualTo("alice@example.org");
        assertThat(m.text()).isEqualTo("What is on today?");
        assertThat(m.threadId()).isEqualTo("<m0@example.org>");
        assertThat(m.replyToPlatformMessageId()).isEqualTo("<m1@example.org>");
        assertThat(m.mentioned()).isTrue();
        await().atMost(WAIT).until(() -> server.unseen() == 0);
    }

    @Test
    void mailTheHostCouldNotStoreStaysUnseenAndIsOfferedAgain() throws Exception {
        failuresLeft.set(1);
        channel = start(server.settings(false, Duration.ofMillis(200)));

        server.send("alice@example.org", "Hi", "store me", Map.of("Message-ID", "<again@example.org>"));

        NewInbound m = next();
        assertThat(m.platformMessageId()).isEqualTo("<again@example.org>");
        assertThat(failuresLeft.get()).isNegative();
        await().atMost(WAIT).until(() -> server.unseen() == 0);
        assertThat(inbox.poll(1, TimeUnit.SECONDS)).isNull();
    }

    @Test
    void aReplyGoesToTheSenderInTheSameThreadWithAStableMessageId() throws Exception {
        channel = start(server.settings(true, Duration.ofMinutes(5)));
        server.send(
                "alice@example.org",
                "Plans",
                "What is on today?",
                Map.of("Message-ID", "<q1@example.org>", "References", "<root@example.org>"));
        next();

        DeliveryResult first = channel.deliver(reply("<q1@example.org>", "A walk, then lunch.", "turn:7"));

        assertThat(first).isInstanceOf(DeliveryResult.Delivered.class);
        await().atMost(WAIT).until(() -> server.mail.getReceivedMessagesForDomain("example.org").length == 1);
        MimeMessage sent = server.mail.getReceivedMessagesForDomain("example.org")[0];
        assertThat(sent.getSubject()).isEqualTo("Re: Plans");
        assertThat(sent.getHeader("In-Reply-To", null)).isEqualTo("<q1@example.org>");
        assertThat(sent.getHeader("References", null)).isEqualTo("<root@example.org> <q1@example.org>");
        assertThat(sent.getFrom()[0].toString()).isEqualTo(MailServer.AGENT);
        assertThat(sent.getContent().toString().strip()).isEqualTo("A walk, then lunch.");
        assertThat(sent.getMessageID()).isEqualTo(((DeliveryResult.Delivered) first).platformMessageId());
        // A resend of the same reply carries the same Message-ID, which mail clients show once.
        assertThat(channel.deliver(reply("<q1@example.org>", "A walk, then lunch.", "turn:7")))
                .isEqualTo(first);
    }

    @Test
    void afterARestartTheAdapterFindsTheMessageItAnswersInTheMailbox() throws Exception {
        channel = start(server.settings(true, Duration.ofMinutes(5)));
        server.send("bob@example.org", "Question", "Still there?", Map.of("Message-ID", "<old@example.org>"));
        next();
        channel.close();

        channel = start(server.settings(true, Duration.ofMinutes(5)));
        DeliveryResult result = channel.deliver(reply("<old@example.org>", "Yes.", "turn:9"));

        assertThat(result).isInstanceOf(DeliveryResult.Delivered.class);
        await().atMost(WAIT).until(() -> server.mail.getReceivedMessagesForDomain("example.org").length == 1);
        assertThat(server.mail.getReceivedMessagesForDomain("example.org")[0].getSubject())
                .isEqualTo("Re: Question");
    }

    @Test
    void aReplyToAMessageThatIsNotInTheMailboxFailsPermanently() {
        channel = start(server.settings(true, Duration.ofMinutes(5)));

        DeliveryResult result = channel.deliver(reply("<never@example.org>", "Hello?", "turn:1"));

        assertThat(result).isInstanceOf(DeliveryResult.Failed.class);
        assertThat(((DeliveryResult.Failed) result).reason()).contains("<never@example.org>");
    }

    @Test
    void autoRepliesAreMarkedSeenButNeverPassedOn() throws Exception {
        channel = start(server.settings(true, Duration.ofMinutes(5)));

        server.send("robot@example.org", "Out of office", "Away", Map.of("Auto-Submitted", "auto-replied"));
        server.send("alice@example.org", "Real", "a person", Map.of());

        assertThat(next().senderId()).isEqualTo("alice@example.org");
        await().atMost(WAIT).until(() -> server.unseen() == 0);
        assertThat(inbox).isEmpty();
    }

    @Test
    void whenTheMailServerRestartsTheAdapterReconnectsAndReadsNewMailOnce() throws Exception {
        channel = start(server.settings(true, Duration.ofMinutes(5)));
        server.send("alice@example.org", "one", "before", Map.of("Message-ID", "<before@example.org>"));
        assertThat(next().text()).isEqualTo("before");

        server.stop();
        await().atMost(WAIT).until(() -> !channel.isConnected());
        server.start();
        await().atMost(WAIT).until(channel::isConnected);
        server.send("alice@example.org", "two", "after", Map.of("Message-ID", "<after@example.org>"));

        assertThat(next().text()).isEqualTo("after");
        assertThat(inbox.poll(1, TimeUnit.SECONDS)).isNull();
    }

    @Test
    void anSmtpRefusalFailsTheDeliveryAndADeferralIsRetried() throws Exception {
        channel = start(server.settings(true, Duration.ofMinutes(5)));
        server.send("alice@example.org", "Hi", "hello", Map.of("Message-ID", "<s1@example.org>"));
        next();
        EmailSettings live = server.settings(true, Duration.ofMinutes(5));
        try (ScriptedSmtp refusing = new ScriptedSmtp("550 5.1.1 <alice@example.org>: Recipient address rejected");
                ScriptedSmtp deferring = new ScriptedSmtp("451 4.3.0 Temporary lookup failure")) {
            EmailChannel viaRefusing = withSmtp(live, refusing.port());
            EmailChannel viaDeferring = withSmtp(live, deferring.port());
            try {
                DeliveryResult refused = viaRefusing.deliver(reply("<s1@example.org>", "x", "k1"));
                DeliveryResult deferred = viaDeferring.deliver(reply("<s1@example.org>", "x", "k2"));

                assertThat(refused).isInstanceOf(DeliveryResult.Failed.class);
                assertThat(((DeliveryResult.Failed) refused).reason()).contains("550");
                assertThat(deferred).isInstanceOf(DeliveryResult.RetryLater.class);
                assertThat(((DeliveryResult.RetryLater) deferred).reason()).contains("451");
            } finally {
                viaRefusing.close();
                viaDeferring.close();
            }
        }
        int closedPort = Ports.free();
        EmailChannel nowhere = withSmtp(live, closedPort);
        try {
            assertThat(nowhere.deliver(reply("<s1@example.org>", "x", "k3")))
                    .isInstanceOf(DeliveryResult.RetryLater.class);
        } finally {
            nowhere.close();
        }
    }

    /** A second adapter on the same mailbox that sends through another SMTP server. */
    private EmailChannel withSmtp(EmailSettings s, int smtpPort) {
        return start(new EmailSettings(
                s.imap(),
                new EmailSettings.Server("127.0.0.1", smtpPort, EmailSettings.Security.NONE),
                s.address(),
                s.username(),
                s.password(),
                s.folder(),
                s.idle(),
                s.poll()));
    }

    @Test
    void settingsNeverShowThePassword() {
        assertThat(server.settings(true, Duration.ofMinutes(1)).toString())
                .doesNotContain(MailServer.PASSWORD)
                .contains("password set", MailServer.AGENT);
    }

    @Test
    void htmlOnlyMailIsReadAsTextAndAnEmptyBodyFallsBackToTheSubject() throws Exception {
        assertThat(MailText.ids("<a@x> junk <b@y>")).isEqualTo(List.of("<a@x>", "<b@y>"));
        assertThat(MailText.replySubject("RE: hi")).isEqualTo("RE: hi");
        channel = start(server.settings(true, Duration.ofMinutes(5)));

        server.send("alice@example.org", "ABCD2345", "", Map.of());

        assertThat(next().text()).isEqualTo("ABCD2345");
    }
}
