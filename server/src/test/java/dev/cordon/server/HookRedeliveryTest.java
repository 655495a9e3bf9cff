package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.channel.github.GitHub;
import dev.cordon.channel.github.GitHubSettings;
import dev.cordon.channel.slack.Slack;
import dev.cordon.channel.slack.SlackSettings;
import dev.cordon.channel.telegram.Telegram;
import dev.cordon.channel.telegram.TelegramSettings;
import dev.cordon.channel.whatsapp.WhatsApp;
import dev.cordon.channel.whatsapp.WhatsAppSettings;
import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.Outbound;
import dev.cordon.core.Ids.OutboundId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.access.Access;
import dev.cordon.core.access.Role;
import dev.cordon.core.access.UserId;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.channel.Delivery;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HookChannel;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.core.channel.Router;
import dev.cordon.core.store.Store;
import dev.cordon.store.Stores;
import dev.cordon.testkit.FakeGitHub;
import dev.cordon.testkit.FakeGraph;
import dev.cordon.testkit.FakeSlack;
import dev.cordon.testkit.FakeSlackEvents;
import dev.cordon.testkit.FakeTelegram;
import dev.cordon.testkit.Ports;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Redelivered webhooks across a daemon restart, for every channel the platforms call over HTTP
 * (GitHub, WhatsApp, Slack's Events API, Telegram's webhook): the real hook listener, the real
 * adapters, the router and a real SQLite store; the platforms are the testkit's fakes. What the
 * adapters remember of recent deliveries is gone after the restart, so this is the host's durable
 * dedup on (chat, platform message id) at work.
 */
class HookRedeliveryTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final String GITHUB_TOKEN = "ghp_redelivery0123456789abcdefghijklmno";
    static final String GITHUB_SECRET = "github-redelivery-secret-0123456789";
    static final String GRAPH_TOKEN = "EAAGredeliverytoken0123456789";
    static final String NUMBER_ID = "106540352242922";
    static final String APP_SECRET = "redelivery-app-secret-0123456789";
    static final String VERIFY = "redelivery-verify-token-0123";
    static final String SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
    static final String TELEGRAM_TOKEN = "123456789:AAHfake-token-for-tests_0123456789";
    static final String ALICE_WA = "16505551234";

    @TempDir
    Path dir;

    final List<SessionId> woken = new CopyOnWriteArrayList<>();
    final HttpClient client = HttpClient.newHttpClient();
    FakeGitHub github;
    FakeGraph graph;
    FakeSlack slack;
    FakeSlackEvents slackEvents;
    FakeTelegram telegram;
    FakeGitHub.User alice;
    FakeTelegram.User aliceTg;
    int port;

    Store store;
    AuditLog audit;
    List<HookChannel> channels;
    HookServer hooks;

    @BeforeEach
    void start() throws Exception {
        port = Ports.free(); // the same port after the restart, as a configured one would be
        github = FakeGitHub.start(GITHUB_TOKEN, "cordon-bot");
        github.repo("acme/rocket");
        github.issue("acme/rocket", 7);
        alice = github.user("alice");
        graph = FakeGraph.start(GRAPH_TOKEN, NUMBER_ID);
        slack = FakeSlack.start();
        slackEvents = slack.eventsTo(hook("slack"), SIGNING_SECRET);
        telegram = FakeTelegram.start(TELEGRAM_TOKEN, "cordon_bot");
        aliceTg = telegram.user("alice");
        up();
        Agent main = store.ensureAgent(new AgentName("main"));
        Access access = access();
        for (String[] chat : List.of(
                new String[] {"github", "acme/rocket", Long.toString(alice.id())},
                new String[] {"whatsapp", ALICE_WA, ALICE_WA},
                new String[] {"slack", "C0GENERAL", "U0ALICE"},
                new String[] {"telegram", Long.toString(aliceTg.id()), Long.toString(aliceTg.id())})) {
            store.wire(store.ensureChat(chat[0], chat[1]).id(), main.id());
            access.grant(UserId.TERMINAL_OWNER, new UserId(chat[0], chat[2]), Role.MEMBER, main.name());
        }
    }

    @AfterEach
    void stop() {
        down();
        github.close();
        graph.close();
        slack.close();
        telegram.close();
    }

    URI hook(String channel) {
        return URI.create("http://127.0.0.1:" + port + "/hooks/" + channel);
    }

    Access access() {
        return Access.create(store, audit, Clock.systemUTC(), new Random(7), woken::add, c -> {});
    }

    /** The daemon's part: store, router, adapters and hook listener, as Daemon wires them. */
    void up() {
        store = Stores.sqlite(dir.resolve("cordon.db"), Clock.systemUTC());
        audit = AuditLogs.open(store.audit(), dir.resolve("keys/audit-ed25519"));
        Router router = new Router(store, audit, Clock.systemUTC(), woken::add, access());
        channels = List.of(
                GitHub.channel(new GitHubSettings(
                        github.url(), "cordon-bot", GITHUB_SECRET.getBytes(StandardCharsets.UTF_8), GITHUB_TOKEN)),
                WhatsApp.channel(new WhatsAppSettings(
                        graph.url(), NUMBER_ID, GRAPH_TOKEN, APP_SECRET.getBytes(StandardCharsets.UTF_8), VERIFY)),
                Slack.events(
                        new SlackSettings(slack.api(), null, FakeSlack.BOT_TOKEN),
                        SIGNING_SECRET.getBytes(StandardCharsets.UTF_8)),
                Telegram.webhook(
                        new TelegramSettings(telegram.url(), TELEGRAM_TOKEN, Duration.ofSeconds(2)), hook("telegram")));
        hooks = new HookServer(new HookSettings("127.0.0.1", port, 64 * 1024), channels);
        hooks.start();
        long registered = setWebhookCalls();
        channels.forEach(c -> c.start(router));
        await().atMost(WAIT).until(() -> setWebhookCalls() > registered);
    }

    void down() {
        channels.forEach(HookChannel::close);
        hooks.close();
        audit.close();
        store.close();
    }

    long setWebhookCalls() {
        return telegram.calls().stream().filter("setWebhook"::equals).count();
    }

    /** {@code deliver} is taken, the daemon restarts, {@code redeliver} is taken too: one message reaches an agent. */
    void onceAcrossARestart(IntSupplier deliver, IntSupplier redeliver) {
        assertThat(deliver.getAsInt()).isBetween(200, 299);
        assertThat(woken).hasSize(1);

        down();
        up();

        assertThat(redeliver.getAsInt()).isBetween(200, 299);
        assertThat(woken).as("the redelivery reached no agent").hasSize(1);
        assertThat(audit.read(0, 10_000))
                .anySatisfy(e -> assertThat(e.event().reason()).isEqualTo("a redelivery of a message already stored"));
    }

    @Test
    void aGitHubDeliveryRedeliveredAfterARestartReachesTheAgentOnce() {
        FakeGitHub.Delivery d = github.comment("acme/rocket", 7, alice, "@cordon-bot why is CI red?");

        onceAcrossARestart(
                () -> github.deliver(d, hook("github"), GITHUB_SECRET).statusCode(),
                () -> github.deliver(d, hook("github"), GITHUB_SECRET).statusCode());
    }

    /**
     * GitHub has no idempotency key: a comment whose answer was lost (a 502 after GitHub wrote it),
     * then a restart, and the next daemon's delivery finds the comment by its marker instead of
     * posting it again. Nothing of the first attempt survives but the store's outbox row.
     */
    @Test
    void aGitHubReplyWhoseAnswerWasLostBeforeARestartIsCommentedOnce() {
        FakeGitHub.Delivery d = github.comment("acme/rocket", 7, alice, "@cordon-bot why is CI red?");
        assertThat(github.deliver(d, hook("github"), GITHUB_SECRET).statusCode())
                .isBetween(200, 299);
        Inbound question = store.claimPending(woken.getFirst(), 1).getFirst();
        OutboundId id = store.completeTurn(
                        question.sessionId(),
                        List.of(question.id()),
                        List.of(),
                        new Store.NewOutbound(question.chatId(), question.id(), "A flaky test.", false, "reply-ci"))
                .orElseThrow();
        Outbound reply = store.outbound(id).orElseThrow();
        github.writeThenFailNext(502);
        // The first attempt, as Delivery makes it; its answer is lost, the comment is written.
        assertThat(channels.getFirst()
                        .deliver(new OutgoingMessage(
                                id.value(),
                                "acme/rocket",
                                question.id().value(),
                                question.platformMessageId(),
                                reply.text(),
                                false,
                                reply.idempotencyKey(),
                                List.of(),
                                null,
                                reply.createdAt())))
                .isInstanceOf(DeliveryResult.RetryLater.class);

        down();
        up();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try {
            new Delivery(store, List.copyOf(channels), audit, Clock.systemUTC(), timer).wakeAll();
            await().atMost(WAIT).until(() -> store.undelivered().isEmpty());
        } finally {
            timer.shutdownNow();
        }

        assertThat(github.comments()).extracting(FakeGitHub.Comment::body).containsExactly("A flaky test.");
        assertThat(store.outbound(id).orElseThrow().platformMessageId())
                .isEqualTo(Long.toString(github.comments().getFirst().id()));
    }

    @Test
    void aWhatsAppBatchRedeliveredAfterARestartReachesTheAgentOnce() {
        String batch = graph.says(ALICE_WA, "Alice", "are you there?");

        onceAcrossARestart(
                () -> graph.post(hook("whatsapp"), batch, APP_SECRET).statusCode(),
                () -> graph.post(hook("whatsapp"), batch, APP_SECRET).statusCode());
    }

    @Test
    void aSlackEventRedeliveredAfterARestartReachesTheAgentOnce() {
        onceAcrossARestart(
                () -> {
                    slack.say("U0ALICE", "C0GENERAL", "<@" + FakeSlack.BOT_USER + "> deploy status?");
                    await().atMost(WAIT)
                            .until(() -> slackEvents.eventIds().size() == 2
                                    && slackEvents.eventIds().stream()
                                            .allMatch(id ->
                                                    !slackEvents.answers(id).isEmpty()));
                    return slackEvents
                            .answers(slackEvents.eventIds().getFirst())
                            .getFirst();
                },
                () -> slackEvents.eventIds().stream()
                        .mapToInt(id -> slackEvents.redeliver(id, 1, "http_timeout"))
                        .max()
                        .orElseThrow());
    }

    @Test
    void aTelegramUpdateRedeliveredAfterARestartReachesTheAgentOnce() {
        onceAcrossARestart(
                () -> {
                    telegram.say(telegram.privateChat(aliceTg), aliceTg, "hello");
                    await().atMost(WAIT).until(() -> telegram.pushedIds().size() == 1);
                    return telegram.webhookAnswers().getLast();
                },
                () -> telegram.pushAgain(telegram.pushedIds().getFirst()));
    }

    @Test
    void aBodyOverTheListenersLimitIsRefusedBeforeAnyAdapterReadsIt() throws Exception {
        // Just over the limit, well over it, and sent chunked (no Content-Length), several times:
        // the caller must read the 413 every time, not a connection reset while still sending.
        byte[] justOver = ("{\"pad\":\"" + "x".repeat(64 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
        byte[] wellOver = new byte[512 * 1024];
        for (int round = 0; round < 5; round++) {
            for (String channel : List.of("github", "whatsapp", "slack", "telegram")) {
                for (HttpRequest.BodyPublisher body : List.of(
                        HttpRequest.BodyPublishers.ofByteArray(justOver),
                        HttpRequest.BodyPublishers.ofByteArray(wellOver),
                        HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(wellOver)))) {
                    HttpResponse<String> r = client.send(
                            HttpRequest.newBuilder(hook(channel))
                                    .header("Content-Type", "application/json")
                                    .POST(body)
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(r.statusCode()).as(channel).isEqualTo(413);
                    assertThat(r.body()).contains("hooks.max_body_kb");
                }
            }
        }
        assertThat(woken).isEmpty();
    }
}
