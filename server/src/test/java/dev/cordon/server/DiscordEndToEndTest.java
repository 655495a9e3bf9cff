package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeDiscord;
import dev.cordon.testkit.Scripted;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Discord end to end: {@link FakeDiscord} (the gateway over a real WebSocket, REST over HTTP), a
 * real daemon with the Discord channel enabled in cordon.yaml and its token in the vault, the agent
 * in a real bubblewrap sandbox, the fake model.
 */
class DiscordEndToEndTest extends DaemonTestBase {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final String MENTION = "<@" + FakeDiscord.BOT_ID + "> ";

    FakeDiscord discord;
    FakeDiscord.User alice;

    @BeforeEach
    void start() throws Exception {
        discord = FakeDiscord.start();
        alice = discord.user("alice");
        Home h = new Home(home);
        Vault.open(h.vault(), h.vaultKey())
                .put("DISCORD_BOT_TOKEN", FakeDiscord.TOKEN.getBytes(StandardCharsets.UTF_8), List.of());
        Files.writeString(home.resolve("cordon.yaml"), """
                channels:
                  discord:
                    token_secret: DISCORD_BOT_TOKEN
                    api_url: %s
                """.formatted(discord.api()));
        startDaemon();
        await().atMost(WAIT).until(discord::connected);
    }

    @AfterEach
    void stopDiscord() {
        if (daemon != null) {
            daemon.close();
            daemon = null;
        }
        discord.close();
    }

    /** Wires {@code channel} to agent main the way a person does: the pairing code said there. */
    void pair(String channel, String prefix) throws Exception {
        String code = ((ControlEvent.PairingCode) ChannelTests.control(daemon, new ControlRequest.Pair("main"))).code();
        int before = discord.posted().size();
        discord.say(alice, channel, prefix + code);
        await().atMost(WAIT).until(() -> discord.posted().size() > before);
        assertThat(discord.posted().getLast().content()).containsIgnoringCase("main");
    }

    FakeDiscord.Posted awaitPost(String text) {
        return awaitPost(text, WAIT);
    }

    FakeDiscord.Posted awaitPost(String text, Duration wait) {
        await().atMost(wait)
                .until(() -> discord.posted().stream().anyMatch(p -> p.content().equals(text)));
        return discord.posted().stream()
                .filter(p -> p.content().equals(text))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void aDirectMessageIsAnsweredByTheSandboxedAgentAsADiscordReply() throws Exception {
        String dm = discord.dm(alice);
        pair(dm, "");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo uid=$(id -u) host=$(cat /etc/hostname)\"}"),
                Scripted.text("Hello from the sandbox."));

        String question = discord.say(alice, dm, "hello agent");

        FakeDiscord.Posted reply = awaitPost("Hello from the sandbox.");
        assertThat(reply.channelId()).isEqualTo(dm);
        assertThat(reply.replyTo()).isEqualTo(question);
        assertThat(reply.nonce()).hasSize(25);
        assertThat(EndToEndTest.toolResults(model.requests().get(1)).getFirst())
                .contains("host=cordon")
                .doesNotContain("uid=0 ");
        assertThat(audited("delivery")).anySatisfy(e -> assertThat(e.details()).containsEntry("channel", "discord"));
    }

    @Test
    void theBotTokenIsVisibleNowhereInsideTheSandboxOfTheAgentItServes() throws Exception {
        String dm = discord.dm(alice);
        pair(dm, "");
        // A canary planted in the workspace proves the scan finds what is there.
        String canary = "canary-" + UUID.randomUUID();
        Files.writeString(home.resolve("agents/main/workspace/canary.txt"), canary);
        model.enqueue(
                Scripted.toolCall("bash", EndToEndTest.json(EndToEndTest.scan(FakeDiscord.TOKEN, canary))),
                Scripted.text("Scanned."));

        discord.say(alice, dm, "scan yourself for secrets");

        // The scan reads the sandbox's whole file system: on a busy machine that takes a while.
        awaitPost("Scanned.", Duration.ofMinutes(3));
        String scan = EndToEndTest.toolResults(model.requests().get(1)).getFirst();
        assertThat(scan).contains("SCAN-DONE").contains("env-and-proc-hits: 0");
        assertThat(scan.lines().filter(l -> l.startsWith("/"))).containsExactly("/workspace/canary.txt");
    }

    @Test
    void aMentionInAThreadIsAnsweredInThatThreadAndChannelTalkIsIgnored() throws Exception {
        pair(FakeDiscord.GENERAL, MENTION);
        String thread = discord.thread(FakeDiscord.GENERAL);
        model.enqueue(Scripted.text("Answer in the thread."));

        discord.say(alice, FakeDiscord.GENERAL, "just chatting among ourselves");
        discord.say(alice, thread, MENTION + "what do you think?");

        FakeDiscord.Posted reply = awaitPost("Answer in the thread.");
        assertThat(reply.channelId()).isEqualTo(thread);
        String firstCall = model.requests().getFirst().body().get("messages").toString();
        assertThat(firstCall).contains("what do you think?").doesNotContain("just chatting", FakeDiscord.BOT_ID);
    }

    @Test
    void anApprovalAskedInAThreadIsACardInThatThreadAndAPressThereAnswersIt() throws Exception {
        pair(FakeDiscord.GENERAL, MENTION);
        String thread = discord.thread(FakeDiscord.GENERAL);
        Files.writeString(home.resolve("agents/main/policy.yaml"), "tools:\n  bash:\n    default: ask\n");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo approved > discord-approved.txt\"}"),
                Scripted.text("Ran it in the thread."));

        String asked = discord.say(alice, thread, MENTION + "run it");

        await().atMost(WAIT)
                .until(() -> discord.posted().stream().anyMatch(p -> p.content().startsWith("Approval #")));
        FakeDiscord.Posted card = discord.posted().stream()
                .filter(p -> p.content().startsWith("Approval #"))
                .findFirst()
                .orElseThrow();
        assertThat(card.channelId()).isEqualTo(thread);
        assertThat(card.replyTo()).isEqualTo(asked);
        String id =
                card.content().substring("Approval #".length(), card.content().indexOf(" · "));
        discord.press(alice, card.id(), "Allow once");
        assertThat(awaitPost("Approval #" + id + ": granted by discord:" + alice.id() + " (once).")
                        .channelId())
                .isEqualTo(thread);
        assertThat(awaitPost("Ran it in the thread.").channelId()).isEqualTo(thread);
        assertThat(home.resolve("agents/main/workspace/discord-approved.txt")).hasContent("approved\n");
    }

    @Test
    void aLongReplyArrivesInPiecesWithinDiscordsLimitAndCannotPingTheServer() throws Exception {
        String dm = discord.dm(alice);
        pair(dm, "");
        String answer =
                "@everyone look at https://evil.example now ".repeat(100).strip();
        model.enqueue(Scripted.text(answer));

        discord.say(alice, dm, "tell me a lot");

        await().atMost(WAIT).until(() -> discord.posted().size() == 4);
        List<FakeDiscord.Posted> pieces = discord.posted().subList(1, 4);
        assertThat(pieces).allSatisfy(p -> {
            assertThat(p.content().length()).isLessThanOrEqualTo(2000);
            assertThat(p.request().path("allowed_mentions").path("parse")).isEmpty();
        });
        assertThat(pieces.stream().map(FakeDiscord.Posted::nonce).distinct()).hasSize(3);
        assertThat(String.join(
                        " ", pieces.stream().map(FakeDiscord.Posted::content).toList()))
                .isEqualTo(answer);
    }

    @Test
    void noMessageIsLostOrAnsweredTwiceAcrossARestart() throws Exception {
        String dm = discord.dm(alice);
        pair(dm, "");
        discord.say(alice, dm, "first");
        awaitPost("You said: first");
        // The daemon stops while the agent works on the second message; the third comes while it is down.
        model.enqueue(Scripted.text("never delivered").stallBefore(Duration.ofSeconds(30)));
        discord.say(alice, dm, "second");
        await().atMost(WAIT).until(() -> model.requests().size() == 2);
        daemon.close();
        daemon = null;
        discord.say(alice, dm, "third");

        startDaemon();

        awaitPost("You said: second");
        awaitPost("You said: third");
        Thread.sleep(2_000); // room for a duplicate to show, if there were one
        List<String> texts =
                discord.posted().stream().map(FakeDiscord.Posted::content).toList();
        assertThat(texts).doesNotHaveDuplicates().doesNotContain("never delivered");
        // The gateway session was resumed, not started anew: the third message came by replay.
        assertThat(discord.identifies()).isEqualTo(1);
        assertThat(discord.resumes()).isPositive();
    }

    @Test
    void whatWasWrittenWhileTheDaemonWasDownLongerThanDiscordKeepsSessionsIsReadFromHistoryAndAnswered()
            throws Exception {
        String dm = discord.dm(alice);
        pair(dm, "");
        discord.say(alice, dm, "first");
        awaitPost("You said: first");
        daemon.close();
        daemon = null;
        discord.expireSessions();
        discord.say(alice, dm, "written while the daemon was away");

        startDaemon();

        awaitPost("You said: written while the daemon was away");
        assertThat(discord.identifies()).isEqualTo(2);
        assertThat(discord.posted().stream().map(FakeDiscord.Posted::content)).doesNotHaveDuplicates();
    }

    @Test
    void aReplyToAChannelTheBotCannotSeeAnyMoreIsGivenUpOnAndNotMarkedDelivered() throws Exception {
        pair(FakeDiscord.GENERAL, MENTION);
        model.enqueue(Scripted.text("Nobody will read this.").stallBefore(Duration.ofSeconds(2)));

        discord.say(alice, FakeDiscord.GENERAL, MENTION + "answer me later");
        await().atMost(WAIT).until(() -> !model.requests().isEmpty());
        discord.revokeAccess(FakeDiscord.GENERAL);

        AuditEntry failed = ChannelTests.awaitGivenUp(daemon, WAIT);
        assertThat(failed.event().reason()).contains("403", "Missing Access", "View Channel");
        assertThat(failed.event().details()).containsEntry("given_up", true);
        // The audit entry is written just before the outbox row is given up on: wait for both.
        await().atMost(WAIT)
                .untilAsserted(() -> assertThat(
                                ((ControlEvent.StatusReport) ChannelTests.control(daemon, new ControlRequest.Status()))
                                        .undeliveredReplies())
                        .isZero());
        assertThat(discord.posted()).noneMatch(p -> p.content().equals("Nobody will read this."));
    }

    @Test
    void aStrangerInAStrictChannelIsDroppedAndAuditedThenHeldForApprovalInAnApprovalChannel() throws Exception {
        pair(FakeDiscord.GENERAL, MENTION);
        FakeDiscord.User mallory = discord.user("mallory");

        discord.say(mallory, FakeDiscord.GENERAL, MENTION + "run rm -rf / for me");

        AuditEntry dropped = ChannelTests.awaitDropped(daemon, "discord:" + mallory.id(), WAIT);
        assertThat(dropped.event().rule()).isEqualTo("sender_policy strict");
        assertThat(dropped.event().details()).containsEntry("chat", FakeDiscord.GENERAL);
        assertThat(model.requests()).isEmpty();

        String chat = "discord:" + FakeDiscord.GENERAL;
        assertThat(ChannelTests.control(daemon, new ControlRequest.ChatsPolicy(chat, "approval")))
                .isInstanceOf(ControlEvent.Done.class);
        discord.say(mallory, FakeDiscord.GENERAL, MENTION + "may I?");
        ControlEvent.SenderRow request = ChannelTests.firstSenderRequest(daemon, WAIT);
        assertThat(request.sender()).isEqualTo("discord:" + mallory.id());
        assertThat(request.chat()).isEqualTo(chat);
        assertThat(model.requests()).isEmpty();

        model.enqueue(Scripted.text("Welcome, mallory."));
        assertThat(ChannelTests.control(daemon, new ControlRequest.SendersAdmit(request.id())))
                .isInstanceOf(ControlEvent.Done.class);
        assertThat(awaitPost("Welcome, mallory.").channelId()).isEqualTo(FakeDiscord.GENERAL);
    }
}
