package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.channel.ChannelAdapter;
import dev.cordon.core.channel.Delivery;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.LiveEvent;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.core.dlp.DlpAction;
import dev.cordon.core.dlp.SecretScanner;
import dev.cordon.core.store.Store;
import dev.cordon.store.Stores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Delivery against a real SQLite store and a scripted channel (the platform is what is faked). */
class DeliveryTest {
    @TempDir
    Path dir;

    Store store;
    AuditLog audit;
    ScheduledExecutorService timer;
    Chat chat;
    Session session;
    final List<String> attempts = new CopyOnWriteArrayList<>();
    final Map<String, Integer> tries = new ConcurrentHashMap<>();
    Function<OutgoingMessage, DeliveryResult> behaviour;

    @BeforeEach
    void open() {
        store = Stores.sqlite(dir.resolve("cordon.db"));
        audit = AuditLogs.open(store.audit(), dir.resolve("keys/audit-ed25519"));
        timer = Executors.newSingleThreadScheduledExecutor();
        Agent agent = store.ensureAgent(new AgentName("ada"));
        chat = store.ensureChat("fake", "c1");
        session = store.ensureSession(agent.id(), chat.id(), "");
    }

    @AfterEach
    void close() {
        timer.shutdownNow();
        audit.close();
        store.close();
    }

    DlpAction replies = DlpAction.REDACT;
    boolean takesNotices = true;
    final List<String> streamed = new java.util.concurrent.CopyOnWriteArrayList<>();

    Delivery delivery() {
        ChannelAdapter adapter = new ChannelAdapter() {
            @Override
            public String name() {
                return "fake";
            }

            @Override
            public boolean takesNotices() {
                return takesNotices;
            }

            @Override
            public void live(String platformChatId, LiveEvent event) {
                if (event instanceof LiveEvent.Text t) {
                    streamed.add(t.text());
                }
            }

            @Override
            public DeliveryResult deliver(OutgoingMessage message) {
                attempts.add(message.text());
                tries.merge(message.text(), 1, Integer::sum);
                return behaviour.apply(message);
            }
        };
        return new Delivery(
                store,
                List.of(adapter),
                audit,
                java.time.Clock.systemUTC(),
                timer,
                false,
                new SecretScanner(() -> Map.of("DB_PASSWORD", VAULT_VALUE.getBytes(StandardCharsets.UTF_8))),
                o -> replies);
    }

    static final String VAULT_VALUE = "correct-horse-battery-staple";

    @Test
    void aReplyCarryingASecretIsDeliveredRedactedAndTheAuditEntryNamesWhatWasRedacted() throws Exception {
        behaviour = m -> new DeliveryResult.Delivered("p-" + m.deliveryId());
        reply("the password is " + VAULT_VALUE + " and the key AKIAIOSFODNN7EXAMPLE");

        delivery().wake(chat.id());
        awaitUndelivered(0);

        assertThat(attempts)
                .containsExactly("the password is [redacted: the vault secret DB_PASSWORD] and the key"
                        + " [redacted: an AWS access key id]");
        assertThat(audit.read(0, 100))
                .filteredOn(e -> e.event().action().equals("delivery"))
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.event().details())
                            .containsEntry("redacted", "the vault secret DB_PASSWORD, an AWS access key id");
                    assertThat(e.event().toString()).doesNotContain(VAULT_VALUE);
                });
    }

    @Test
    void underDlpRepliesBlockAReplyCarryingASecretIsWithheldAndANoticeSentInItsPlace() throws Exception {
        replies = DlpAction.BLOCK;
        behaviour = m -> new DeliveryResult.Delivered("p-" + m.deliveryId());
        reply("here it is: " + VAULT_VALUE);
        reply("a clean one");

        delivery().wake(chat.id());
        awaitUndelivered(0);

        assertThat(attempts).hasSize(2);
        assertThat(attempts.getFirst())
                .startsWith("[Cordon withheld this reply: it contained what looks like the vault secret DB_PASSWORD.")
                .doesNotContain(VAULT_VALUE)
                .doesNotContain("here it is");
        assertThat(attempts.get(1)).isEqualTo("a clean one");
        assertThat(audit.read(0, 100))
                .filteredOn(e -> e.event().action().equals("delivery"))
                .first()
                .satisfies(e -> {
                    assertThat(e.event().details()).containsEntry("withheld", "the vault secret DB_PASSWORD");
                    assertThat(e.event().reason()).contains("withheld the reply");
                    assertThat(e.event().toString()).doesNotContain(VAULT_VALUE);
                });
    }

    @Test
    void aSecretSplitAcrossStreamedPiecesNeverShowsInTheLiveStream() {
        Delivery delivery = delivery();
        Chat fake = new Chat(chat.id(), "fake", chat.platformChatId());
        String text = "the password is " + VAULT_VALUE + " and the key AKIAIOSFODNN7EXAMPLE, nothing else.";
        for (int i = 0; i < text.length(); i += 3) {
            delivery.live(fake, new LiveEvent.Text(text.substring(i, Math.min(text.length(), i + 3))));
        }

        String shown = String.join("", streamed);
        // Only the last word waits: it arrives with the reply.
        assertThat(shown)
                .isEqualTo("the password is [redacted: the vault secret DB_PASSWORD] and the key"
                        + " [redacted: an AWS access key id], nothing ");
    }

    @Test
    void aChatPlatformGetsTheQueuedNoticeAsAMessageAheadOfTheReply() throws Exception {
        behaviour = m -> new DeliveryResult.Delivered("p-" + m.idempotencyKey());
        Delivery delivery = delivery();
        Chat fake = new Chat(chat.id(), "fake", chat.platformChatId());

        delivery.live(fake, new LiveEvent.Notice("queued: 2 in line"));
        for (int i = 0; i < 1_000 && attempts.isEmpty(); i++) {
            Thread.sleep(10);
        }
        reply("the answer");
        delivery.wake(chat.id());
        awaitUndelivered(0);

        assertThat(attempts).containsExactly("queued: 2 in line", "the answer");
        assertThat(streamed).isEmpty(); // shown once, as a message, not through the live view
        // Not a stored reply: nothing of it is left to deliver, and it is not in the audit log.
        assertThat(audit.read(0, 100))
                .filteredOn(e -> e.event().action().equals("delivery"))
                .hasSize(1);
    }

    @Test
    void aReplyToATaskRunNamesNoPlatformMessageToAnswer() throws Exception {
        List<String> replyTo = new CopyOnWriteArrayList<>();
        behaviour = m -> {
            replyTo.add(String.valueOf(m.replyToPlatformMessageId()));
            return new DeliveryResult.Delivered("p-" + m.deliveryId());
        };
        for (String sender : List.of("bob", "scheduler:task-7", "agent:sales")) {
            var in = store.storeInbound(
                    session.id(), chat.id(), new NewInbound("fake", "c1", "m-" + sender, sender, "hi"));
            store.completeTurn(
                    session.id(),
                    List.of(),
                    List.of(),
                    new Store.NewOutbound(chat.id(), in.id(), "to " + sender, false, "k-" + sender));
        }
        delivery().wake(chat.id());
        awaitUndelivered(0);

        // Another agent's message keeps its id: the agent channel routes the reply back by it.
        assertThat(replyTo).containsExactly("m-bob", "null", "m-agent:sales");
    }

    @Test
    void aChannelThatTakesNoNoticesGetsOnlyTheReply() throws Exception {
        behaviour = m -> new DeliveryResult.Delivered("p-" + m.deliveryId());
        takesNotices = false;
        Delivery delivery = delivery();
        delivery.live(new Chat(chat.id(), "fake", chat.platformChatId()), new LiveEvent.Notice("queued: 1 in line"));
        reply("the answer");
        delivery.wake(chat.id());
        awaitUndelivered(0);

        assertThat(attempts).containsExactly("the answer");
    }

    @Test
    void aNoticeThePlatformRefusesIsDroppedAndDoesNotHoldUpTheReply() throws Exception {
        behaviour = m -> m.text().startsWith("queued")
                ? new DeliveryResult.RetryLater(Duration.ofHours(1), "rate limited")
                : new DeliveryResult.Delivered("p-" + m.deliveryId());
        Delivery delivery = delivery();
        delivery.live(new Chat(chat.id(), "fake", chat.platformChatId()), new LiveEvent.Notice("queued: 1 in line"));
        reply("the answer");
        delivery.wake(chat.id());
        awaitUndelivered(0);

        assertThat(attempts).containsExactly("queued: 1 in line", "the answer");
    }

    void reply(String text) {
        store.completeTurn(
                session.id(), List.of(), List.of(), new Store.NewOutbound(chat.id(), null, text, false, "k-" + text));
    }

    void awaitUndelivered(int count) throws InterruptedException {
        for (int i = 0; i < 1_000 && store.undelivered(chat.id()).size() != count; i++) {
            Thread.sleep(10);
        }
        assertThat(store.undelivered(chat.id())).hasSize(count);
    }

    @Test
    void deliveredRepliesAreMarkedAndNotSentAgain() throws Exception {
        behaviour = m -> new DeliveryResult.Delivered("p-" + m.deliveryId());
        reply("one");
        reply("two");
        Delivery delivery = delivery();

        delivery.wake(chat.id());
        awaitUndelivered(0);
        delivery.wakeAll();
        delivery.wake(chat.id());
        Thread.sleep(100);

        assertThat(attempts).containsExactly("one", "two");
        assertThat(store.recentOutbound(chat.id(), 10))
                .allSatisfy(o -> assertThat(o.platformMessageId()).startsWith("p-"));
        assertThat(audit.read(0, 100))
                .filteredOn(e -> e.event().action().equals("delivery"))
                .hasSize(2)
                .allSatisfy(e -> {
                    assertThat(e.event().decision()).isEqualTo(AuditEvent.Decision.ALLOW);
                    assertThat((String) e.event().details().get("platform_message"))
                            .startsWith("p-");
                    assertThat(e.event().session()).as("whose reply it was").isNotNull();
                    assertThat(e.event().agent()).isEqualTo(new AgentName("ada"));
                });
    }

    @Test
    void aReplyWithNoRecipientWaitsWithoutHoldingUpTheNext() throws Exception {
        behaviour =
                m -> m.text().equals("first") ? new DeliveryResult.NoRecipient() : new DeliveryResult.Delivered("p");
        reply("first");
        reply("second");

        delivery().wake(chat.id());
        awaitUndelivered(1);

        assertThat(store.undelivered(chat.id())).extracting(o -> o.text()).containsExactly("first");
    }

    @Test
    void aTransientFailureIsRetriedAfterTheDelayThePlatformAsked() throws Exception {
        behaviour = m -> tries.get(m.text()) < 3
                ? new DeliveryResult.RetryLater(Duration.ofMillis(50), "429")
                : new DeliveryResult.Delivered("p");
        reply("flaky");

        delivery().wake(chat.id());
        awaitUndelivered(0);

        assertThat(tries.get("flaky")).isEqualTo(3);
    }

    @Test
    void aPermanentFailureIsNeverMarkedDeliveredIsReportedAndDoesNotHoldUpTheNextReply() throws Exception {
        behaviour = m -> m.text().equals("lost")
                ? new DeliveryResult.Failed("chat was deleted")
                : new DeliveryResult.Delivered("p-" + m.deliveryId());
        List<String> told = new CopyOnWriteArrayList<>();
        reply("lost");
        reply("next");
        Delivery delivery = delivery();
        delivery.onUndeliverable((o, why) -> told.add(o.text() + ": " + why));

        delivery.wake(chat.id());
        awaitUndelivered(0);
        delivery.wake(chat.id());
        delivery.wakeAll();
        Thread.sleep(100);

        assertThat(attempts).as("given up on, it is not tried again").containsExactly("lost", "next");
        assertThat(told).containsExactly("lost: chat was deleted");
        assertThat(store.recentOutbound(chat.id(), 10))
                .filteredOn(o -> o.text().equals("lost"))
                .singleElement()
                .satisfies(o -> assertThat(o.deliveredAt()).isNull());
        assertThat(audit.read(0, 100))
                .filteredOn(
                        e -> e.event().action().equals("delivery") && e.event().decision() == AuditEvent.Decision.DENY)
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.event().reason()).isEqualTo("chat was deleted");
                    assertThat(e.event().details()).containsEntry("given_up", true);
                });
    }
}
