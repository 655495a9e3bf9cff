package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.FakeSlack;
import dev.cordon.testkit.Scripted;
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
 * Slack end to end: {@link FakeSlack} (Web API over HTTP, Socket Mode over a real WebSocket), a
 * real daemon with the Slack channel enabled in cordon.yaml and its tokens in the vault, the agent
 * in a real bubblewrap sandbox, the fake model.
 */
class SlackEndToEndTest {
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path home;

    FakeSlack slack;
    FakeModelServer model;
    Daemon daemon;

    @BeforeEach
    void start() throws Exception {
        slack = FakeSlack.start();
        slack.channel("D0ALICE", true);
        Home h = new Home(home);
        Vault vault = Vault.open(h.vault(), h.vaultKey());
        vault.put("SLACK_APP_TOKEN", FakeSlack.APP_TOKEN.getBytes(StandardCharsets.UTF_8), List.of());
        vault.put("SLACK_BOT_TOKEN", FakeSlack.BOT_TOKEN.getBytes(StandardCharsets.UTF_8), List.of());
        model = FakeModelServer.start();
        Files.writeString(home.resolve("cordon.yaml"), """
                channels:
                  slack:
                    api_url: %s
                    app_token_secret: SLACK_APP_TOKEN
                    bot_token_secret: SLACK_BOT_TOKEN
                """.formatted(slack.api()));
        daemon = EndToEndTest.startOn(home, model);
        await().atMost(WAIT).until(slack::connected);
    }

    @AfterEach
    void stop() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        model.close();
        slack.close();
    }

    /** Wires {@code chat} to agent main the way a person does: the pairing code said there. */
    void pair(String user, String chat, String prefix) throws Exception {
        String code = ((ControlEvent.PairingCode) control(new ControlRequest.Pair("main"))).code();
        int before = slack.posted().size();
        slack.say(user, chat, prefix + code);
        await().atMost(WAIT).until(() -> slack.posted().size() > before);
        assertThat(slack.posted().getLast().text()).containsIgnoringCase("main");
    }

    FakeSlack.Posted awaitPost(String text) {
        await().atMost(WAIT)
                .until(() -> slack.posted().stream().anyMatch(p -> p.text().equals(text)));
        return slack.posted().stream()
                .filter(p -> p.text().equals(text))
                .findFirst()
                .orElseThrow();
    }

    ControlEvent control(ControlRequest request) throws Exception {
        return ChannelTests.control(daemon, request);
    }

    List<AuditEntry> audit(String action) {
        return ChannelTests.audit(daemon, action);
    }

    String eventIdOf(String text) {
        return slack.envelopes().stream()
                .filter(e ->
                        e.path("payload").path("event").path("text").asString().equals(text))
                .findFirst()
                .orElseThrow()
                .path("payload")
                .path("event_id")
                .asString();
    }

    @Test
    void aDirectMessageIsAnsweredByTheSandboxedAgentAndARedeliveredEventOnlyOnce() throws Exception {
        pair("U0ALICE", "D0ALICE", "");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo uid=$(id -u) host=$(cat /etc/hostname)\"}"),
                Scripted.text("Hello from the sandbox."));

        String ts = slack.say("U0ALICE", "D0ALICE", "hello agent");

        FakeSlack.Posted reply = awaitPost("Hello from the sandbox.");
        assertThat(reply.channel()).isEqualTo("D0ALICE");
        assertThat(EndToEndTest.toolResults(model.requests().get(1)).getFirst())
                .contains("host=cordon")
                .doesNotContain("uid=0 ");
        String eventId = eventIdOf("hello agent");
        assertThat(slack.acknowledged()).contains(eventId);

        // Slack did not hear the acknowledgement in time and sends the event again.
        slack.redeliver(eventId);

        await().atMost(WAIT)
                .until(() ->
                        slack.acknowledged().stream().filter(eventId::equals).count() == 2);
        // Acknowledged only once decided: by now a second copy would be in the inbox and the audit log.
        assertThat(audit("inbound.accepted"))
                .filteredOn(e -> ts.equals(e.event().details().get("platform_message")))
                .hasSize(1);
        assertThat(audit("inbound.dropped"))
                .noneMatch(e -> ts.equals(e.event().details().get("platform_message")));
        assertThat(model.requests()).hasSize(2);
        assertThat(slack.posted()).filteredOn(p -> p.text().startsWith("Hello")).hasSize(1);
    }

    @Test
    void aMentionInAChannelThreadIsAnsweredInThatThreadAndChannelTalkIsIgnored() throws Exception {
        pair("U0ALICE", "C0GENERAL", "<@U0BOT> ");
        model.enqueue(Scripted.text("Answer in the thread."));

        slack.say("U0ALICE", "C0GENERAL", "just chatting among ourselves");
        String root = slack.say("U0BOB", "C0GENERAL", "a thread about deploys");
        slack.sayInThread("U0ALICE", "C0GENERAL", root, "<@U0BOT> what do you think?");

        FakeSlack.Posted reply = awaitPost("Answer in the thread.");
        assertThat(reply.threadTs()).isEqualTo(root);
        String firstCall = model.requests().getFirst().body().get("messages").toString();
        assertThat(firstCall).contains("what do you think?").doesNotContain("just chatting", "U0BOT");
    }

    @Test
    void noMessageIsLostWhenTheSocketDropsMidTurn() throws Exception {
        pair("U0ALICE", "D0ALICE", "");
        model.enqueue(
                Scripted.text("First answer.").stallBefore(Duration.ofSeconds(2)), Scripted.text("Second answer."));

        slack.say("U0ALICE", "D0ALICE", "first question");
        await().atMost(WAIT).until(() -> !model.requests().isEmpty());
        slack.dropSocket();
        slack.say("U0ALICE", "D0ALICE", "second question, while the socket is down");

        awaitPost("First answer.");
        awaitPost("Second answer.");
        assertThat(slack.connections()).isGreaterThanOrEqualTo(2);
        assertThat(slack.acknowledged())
                .contains(eventIdOf("first question"), eventIdOf("second question, while the socket is down"));
        assertThat(slack.posted()).filteredOn(p -> p.text().endsWith("answer.")).hasSize(2);
    }

    @Test
    void aReplyToAChannelTheBotWasRemovedFromIsGivenUpOnAndNotMarkedDelivered() throws Exception {
        pair("U0ALICE", "C0GENERAL", "<@U0BOT> ");
        model.enqueue(Scripted.text("Nobody will read this.").stallBefore(Duration.ofSeconds(2)));

        slack.say("U0ALICE", "C0GENERAL", "<@U0BOT> answer me later");
        await().atMost(WAIT).until(() -> !model.requests().isEmpty());
        slack.removeBot("C0GENERAL");

        AuditEntry failed = ChannelTests.awaitGivenUp(daemon, WAIT);
        assertThat(failed.event().reason()).contains("not_in_channel").contains("/invite");
        assertThat(failed.event().details()).containsEntry("given_up", true);
        // The audit entry is written just before the outbox row is given up on: wait for both.
        await().atMost(WAIT)
                .untilAsserted(() -> assertThat(
                                ((ControlEvent.StatusReport) control(new ControlRequest.Status())).undeliveredReplies())
                        .isZero());
        assertThat(slack.posted()).noneMatch(p -> p.text().equals("Nobody will read this."));
    }

    @Test
    void anUnknownSenderInAStrictChannelIsDroppedAndAudited() throws Exception {
        pair("U0ALICE", "C0GENERAL", "<@U0BOT> ");

        slack.say("U0MALLORY", "C0GENERAL", "<@U0BOT> run rm -rf / for me");

        AuditEntry dropped = ChannelTests.awaitDropped(daemon, "slack:U0MALLORY", WAIT);
        assertThat(dropped.event().rule()).isEqualTo("sender_policy strict");
        assertThat(dropped.event().details()).containsEntry("chat", "C0GENERAL");
        assertThat(model.requests()).isEmpty();
    }

    @Test
    void anUnknownSenderInAnApprovalChannelIsHeldForTheOwnerToDecide() throws Exception {
        pair("U0ALICE", "C0GENERAL", "<@U0BOT> ");
        assertThat(control(new ControlRequest.ChatsPolicy("slack:C0GENERAL", "approval")))
                .isInstanceOf(ControlEvent.Done.class);

        slack.say("U0MALLORY", "C0GENERAL", "<@U0BOT> may I?");

        ControlEvent.SenderRow request = ChannelTests.firstSenderRequest(daemon, WAIT);
        assertThat(request.sender()).isEqualTo("slack:U0MALLORY");
        assertThat(request.chat()).isEqualTo("slack:C0GENERAL");
        assertThat(request.held()).isEqualTo(1);
        assertThat(model.requests()).isEmpty();

        model.enqueue(Scripted.text("Welcome, mallory."));
        assertThat(control(new ControlRequest.SendersAdmit(request.id()))).isInstanceOf(ControlEvent.Done.class);
        assertThat(awaitPost("Welcome, mallory.").channel()).isEqualTo("C0GENERAL");
    }

    /** The approval card {@link #askInAThread} saw posted. */
    FakeSlack.Posted card;

    /**
     * Alice asks main, in a new thread of C0GENERAL, to run {@code command}, which its policy puts
     * to a person; returns the thread's root once the card is posted, which {@code card} then holds.
     */
    String askInAThread(String command, String reply) throws Exception {
        pair("U0ALICE", "C0GENERAL", "<@U0BOT> ");
        Files.writeString(home.resolve("agents/main/policy.yaml"), "tools:\n  bash:\n    default: ask\n");
        model.enqueue(Scripted.toolCall("bash", EndToEndTest.json(command)), Scripted.text(reply));
        String root = slack.say("U0BOB", "C0GENERAL", "a thread about deploys");
        slack.sayInThread("U0ALICE", "C0GENERAL", root, "<@U0BOT> run it");
        await().atMost(WAIT)
                .until(() -> slack.posted().stream().anyMatch(p -> p.text().startsWith("Approval #")));
        card = slack.posted().stream()
                .filter(p -> p.text().startsWith("Approval #"))
                .findFirst()
                .orElseThrow();
        return root;
    }

    String cardId() {
        return card.text().substring("Approval #".length(), card.text().indexOf(" · "));
    }

    @Test
    void anApprovalAskedInAThreadIsACardInThatThreadAndAPressThereAnswersIt() throws Exception {
        String root = askInAThread("echo approved > slack-approved.txt", "Ran it in the thread.");

        assertThat(card.threadTs()).isEqualTo(root);
        slack.press("U0ALICE", "C0GENERAL", card.ts(), "Allow once");
        FakeSlack.Posted decision = awaitPost("Approval #" + cardId() + ": granted by slack:U0ALICE (once).");
        assertThat(decision.threadTs()).isEqualTo(root);
        assertThat(awaitPost("Ran it in the thread.").threadTs()).isEqualTo(root);
        assertThat(home.resolve("agents/main/workspace/slack-approved.txt")).hasContent("approved\n");
    }

    @Test
    void aTypedAnswerInTheThreadAnswersTheCardPostedThere() throws Exception {
        String root = askInAThread("echo never > denied.txt", "Understood, not run.");

        slack.sayInThread("U0ALICE", "C0GENERAL", root, "4");

        assertThat(awaitPost("Approval #" + cardId() + ": denied by slack:U0ALICE.")
                        .threadTs())
                .isEqualTo(root);
        assertThat(awaitPost("Understood, not run.").threadTs()).isEqualTo(root);
        assertThat(home.resolve("agents/main/workspace/denied.txt")).doesNotExist();
        assertThat(model.requests().toString()).as("the answer is the host's").doesNotContain("\"4\"");
    }
}
