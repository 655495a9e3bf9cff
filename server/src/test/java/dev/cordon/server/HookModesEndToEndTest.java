package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.FakeSlack;
import dev.cordon.testkit.FakeSlackEvents;
import dev.cordon.testkit.FakeTelegram;
import dev.cordon.testkit.Ports;
import dev.cordon.testkit.Scripted;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP modes end to end: a real daemon with Slack in {@code mode: events} and Telegram in
 * {@code mode: webhook}, both served by its hook listener; {@link FakeSlack} POSTs signed events and
 * {@link FakeTelegram} pushes updates to it; the agent answers from a real bubblewrap sandbox.
 */
class HookModesEndToEndTest {
    static final Duration WAIT = Duration.ofSeconds(120);
    static final String SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
    static final String TELEGRAM_TOKEN = "123456789:AAHfake-token-for-tests_0123456789";

    @TempDir
    Path home;

    FakeSlack slack;
    FakeSlackEvents slackEvents;
    FakeTelegram telegram;
    FakeModelServer model;
    Daemon daemon;

    @BeforeEach
    void start() throws Exception {
        int port = Ports.free(); // Telegram must be told the URL before the daemon listens on it
        URI hooks = URI.create("http://127.0.0.1:" + port + "/hooks/");
        slack = FakeSlack.start();
        slack.channel("D0ALICE", true);
        slackEvents = slack.eventsTo(hooks.resolve("slack"), SIGNING_SECRET)
                .interactivity(hooks.resolve("slack/interactions"));
        telegram = FakeTelegram.start(TELEGRAM_TOKEN, "cordon_bot");
        telegram.webhookRetry(Duration.ofMillis(200));
        Home h = new Home(home);
        Vault vault = Vault.open(h.vault(), h.vaultKey());
        vault.put("SLACK_BOT_TOKEN", FakeSlack.BOT_TOKEN.getBytes(StandardCharsets.UTF_8), List.of());
        vault.put("SLACK_SIGNING_SECRET", SIGNING_SECRET.getBytes(StandardCharsets.UTF_8), List.of());
        vault.put("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN.getBytes(StandardCharsets.UTF_8), List.of());
        model = FakeModelServer.start();
        Files.writeString(home.resolve("cordon.yaml"), """
                hooks:
                  port: %d
                channels:
                  slack:
                    mode: events
                    api_url: %s
                    bot_token_secret: SLACK_BOT_TOKEN
                    signing_secret: SLACK_SIGNING_SECRET
                  telegram:
                    mode: webhook
                    api_url: %s
                    token_secret: TELEGRAM_BOT_TOKEN
                    webhook_url: %s
                """.formatted(
                        port, slack.api(), telegram.url(), hooks.resolve("telegram")));
        daemon = EndToEndTest.startOn(home, model);
        await().atMost(WAIT).until(() -> hooks.resolve("telegram").equals(telegram.webhookUrl()));
    }

    @AfterEach
    void stop() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        model.close();
        slack.close();
        telegram.close();
    }

    String pairingCode() throws Exception {
        return ((ControlEvent.PairingCode) ChannelTests.control(daemon, new ControlRequest.Pair("main"))).code();
    }

    @Test
    void aSlackDirectMessageOverTheEventsApiIsAnsweredByTheSandboxedAgent() throws Exception {
        slack.say("U0ALICE", "D0ALICE", pairingCode());
        await().atMost(WAIT).until(() -> !slack.posted().isEmpty());
        assertThat(slack.posted().getLast().text()).containsIgnoringCase("main");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo host=$(cat /etc/hostname)\"}"),
                Scripted.text("Hello over HTTP."));

        slack.say("U0ALICE", "D0ALICE", "are you there?");

        await().atMost(WAIT)
                .until(() -> slack.posted().stream().anyMatch(p -> p.text().equals("Hello over HTTP.")));
        assertThat(EndToEndTest.toolResults(model.requests().get(1)).getFirst()).contains("host=cordon");
    }

    @Test
    void askUserOptionsAreSlackButtonsInEventsModeAndAClickOnTheInteractivityUrlAnswersTheTurn() throws Exception {
        slack.say("U0ALICE", "D0ALICE", pairingCode());
        await().atMost(WAIT).until(() -> !slack.posted().isEmpty());
        model.enqueue(
                Scripted.toolCall("ask_user", "{\"question\":\"Which plan?\",\"options\":\"Blue\\nRed\"}"),
                Scripted.text("Red it is."));

        slack.say("U0ALICE", "D0ALICE", "Pick a plan for me.");
        await().atMost(WAIT)
                .until(() -> slack.posted().stream().anyMatch(p -> p.text().equals("Which plan?")));
        FakeSlack.Posted question = slack.posted().getLast();
        assertThat(question.blocks().toString()).contains("\"text\":\"Blue\"", "\"text\":\"Red\"");
        // Larger than the hook listener takes: refused before it is read, and no answer.
        String huge = FakeSlackEvents.form("{\"type\":\"block_actions\",\"pad\":\"" + "x".repeat(300 * 1024) + "\"}");
        long now = System.currentTimeMillis() / 1000;
        assertThat(slackEvents
                        .sendClick(huge, Long.toString(now), slackEvents.signature(now, huge))
                        .statusCode())
                .isEqualTo(413);

        String click = slack.press("U0ALICE", "D0ALICE", question.ts(), "Red");

        await().atMost(WAIT)
                .until(() -> slack.posted().stream().anyMatch(p -> p.text().equals("Red it is.")));
        assertThat(slackEvents.answers(click)).containsExactly(200);
        assertThat(model.requests()).hasSize(2);
        assertThat(model.requests().get(1).body().toString()).contains("The user chose option 2: Red");
    }

    @Test
    void aTelegramMessageOverTheWebhookIsAnsweredByTheSandboxedAgent() throws Exception {
        FakeTelegram.User alice = telegram.user("alice");
        FakeTelegram.Chat dm = telegram.privateChat(alice);
        telegram.say(dm, alice, pairingCode());
        assertThat(telegram.nextSent(WAIT).text()).containsIgnoringCase("main");
        model.enqueue(Scripted.text("Hello from the webhook."));

        long asked = telegram.say(dm, alice, "are you there?");

        FakeTelegram.Sent reply = telegram.nextSent(WAIT);
        assertThat(reply.text()).isEqualTo("Hello from the webhook.");
        assertThat(reply.replyTo()).isEqualTo(asked);
        assertThat(telegram.calls()).doesNotContain("getUpdates");
    }
}
