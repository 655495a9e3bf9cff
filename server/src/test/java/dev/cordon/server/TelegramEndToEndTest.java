package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.approval.ChatApprovals;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeTelegram;
import dev.cordon.testkit.Scripted;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Telegram end to end: a real daemon with the Telegram channel enabled in cordon.yaml and its bot
 * token in the vault, the agent in a real bubblewrap sandbox, the fake model, and {@link
 * FakeTelegram} in place of the Bot API.
 */
class TelegramEndToEndTest extends DaemonTestBase {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final String TOKEN = "987654321:AAE2e-test-token-for-the-daemon_01234";

    FakeTelegram telegram;
    FakeTelegram.User alice;
    FakeTelegram.Chat aliceDm;

    @BeforeEach
    void start() throws Exception {
        telegram = FakeTelegram.start(TOKEN, "cordon_bot");
        Home h = new Home(home);
        Vault.open(h.vault(), h.vaultKey())
                .put("TELEGRAM_BOT_TOKEN", TOKEN.getBytes(StandardCharsets.UTF_8), List.of());
        Files.writeString(home.resolve("cordon.yaml"), """
                channels:
                  telegram:
                    token_secret: TELEGRAM_BOT_TOKEN
                    api_url: %s
                    poll_seconds: 5
                """.formatted(telegram.url()));
        startDaemon();
        alice = telegram.user("alice");
        aliceDm = telegram.privateChat(alice);
    }

    @AfterEach
    void stopTelegram() {
        if (daemon != null) {
            daemon.close();
            daemon = null;
        }
        telegram.close();
    }

    /** Wires {@code chat} to agent main the way a person does: the pairing code said in it. */
    void pair(FakeTelegram.Chat chat, FakeTelegram.User who) throws Exception {
        String code = ((ControlEvent.PairingCode) ChannelTests.control(daemon, new ControlRequest.Pair("main"))).code();
        telegram.say(chat, who, code);
        assertThat(telegram.nextSent(WAIT).text()).containsIgnoringCase("main");
    }

    @Test
    void aPrivateMessageIsAnsweredByTheSandboxedAgentAsATelegramReply() throws Exception {
        pair(aliceDm, alice);
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo host=$(cat /etc/hostname)\"}"),
                Scripted.text("Hello from the sandbox."));

        long question = telegram.say(aliceDm, alice, "hello agent");

        FakeTelegram.Sent reply = telegram.nextSent(WAIT);
        assertThat(reply.text()).isEqualTo("Hello from the sandbox.");
        assertThat(reply.replyTo()).isEqualTo(question);
        assertThat(EndToEndTest.toolResults(model.requests().get(1)).getFirst()).contains("host=cordon");
        assertThat(audited("delivery")).anySatisfy(e -> assertThat(e.details()).containsEntry("channel", "telegram"));
    }

    @Test
    void aDocumentSentOnTelegramIsInTheAgentsInboxAndOneTooLargeForTheBotApiIsNamedAsMissing() throws Exception {
        pair(aliceDm, alice);
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"cat /workspace/inbox/*/notes.txt\"}"),
                Scripted.text("Read it."));

        telegram.sendFile(
                aliceDm,
                alice,
                "document",
                "notes.txt",
                "text/plain",
                "minutes of the meeting\n".getBytes(StandardCharsets.UTF_8),
                "please read this");

        assertThat(telegram.nextSent(WAIT).text()).isEqualTo("Read it.");
        String told = model.requests().get(0).toString();
        assertThat(told).contains("please read this").contains("notes.txt").contains("text/plain");
        assertThat(EndToEndTest.toolResults(model.requests().get(1)).getFirst()).contains("minutes of the meeting");

        model.enqueue(Scripted.text("Too big, sorry."));
        telegram.sendBigDocument(aliceDm, alice, "backup.zip", 30L * 1024 * 1024);

        assertThat(telegram.nextSent(WAIT).text()).isEqualTo("Too big, sorry.");
        assertThat(model.requests().get(2).toString()).contains("backup.zip").contains("larger than 20 MiB");
        assertThat(audited("inbound.file_missed"))
                .singleElement()
                .satisfies(e -> assertThat(e.details()).containsEntry("name", "backup.zip"));
        assertThat(telegram.calls().stream().filter("getFile"::equals))
                .as("one getFile, for notes.txt: nothing is fetched for a file over the limit")
                .hasSize(1);
    }

    @Test
    void theBotTokenIsVisibleNowhereInsideTheSandboxOfTheAgentItServes() throws Exception {
        pair(aliceDm, alice);
        // A canary planted in the workspace proves the scan finds what is there.
        String canary = "canary-" + UUID.randomUUID();
        Files.writeString(home.resolve("agents/main/workspace/canary.txt"), canary);
        model.enqueue(
                Scripted.toolCall("bash", EndToEndTest.json(EndToEndTest.scan(TOKEN, canary))),
                Scripted.text("Scanned."));

        telegram.say(aliceDm, alice, "scan yourself for secrets");

        assertThat(telegram.nextSent(WAIT).text()).isEqualTo("Scanned.");
        String scan = EndToEndTest.toolResults(model.requests().get(1)).getFirst();
        assertThat(scan).contains("SCAN-DONE").contains("env-and-proc-hits: 0");
        assertThat(scan.lines().filter(l -> l.startsWith("/"))).containsExactly("/workspace/canary.txt");
    }

    @Test
    void aLongReplyArrivesInPiecesWithinTelegramsLimitAndMarkupIsSentAsPlainText() throws Exception {
        pair(aliceDm, alice);
        String answer =
                "[click here](http://evil.example) <b>now</b> ".repeat(120).strip();
        model.enqueue(Scripted.text(answer));

        telegram.say(aliceDm, alice, "tell me a lot");

        FakeTelegram.Sent first = telegram.nextSent(WAIT);
        FakeTelegram.Sent second = telegram.nextSent(WAIT);
        assertThat(first.text().length()).isLessThanOrEqualTo(4096);
        assertThat(first.text() + " " + second.text()).isEqualTo(answer);
        // No parse_mode: whatever markup the agent writes is shown as the characters it wrote.
        assertThat(List.of(first.parseMode() == null, second.parseMode() == null))
                .containsOnly(true);
    }

    @Test
    void noMessageIsLostOrAnsweredTwiceAcrossARestart() throws Exception {
        pair(aliceDm, alice);
        telegram.say(aliceDm, alice, "first");
        assertThat(telegram.nextSent(WAIT).text()).isEqualTo("You said: first");
        // The daemon stops while the agent works on the second message; the third comes while it is down.
        model.enqueue(Scripted.text("never delivered").stallBefore(Duration.ofSeconds(30)));
        telegram.say(aliceDm, alice, "second");
        await().atMost(WAIT).until(() -> model.requests().size() == 2);
        daemon.close();
        daemon = null;
        telegram.say(aliceDm, alice, "third");

        startDaemon();

        StringBuilder answered = new StringBuilder();
        while (!(answered.toString().contains("second") && answered.toString().contains("third"))) {
            answered.append(telegram.nextSent(WAIT).text()).append('\n');
        }
        await().atMost(WAIT).until(() -> telegram.unconfirmed() == 0);
        Thread.sleep(2_000); // room for a duplicate to show, if there were one
        List<String> texts =
                telegram.sent().stream().map(FakeTelegram.Sent::text).toList();
        assertThat(texts).doesNotHaveDuplicates().doesNotContain("never delivered");
        assertThat(texts.stream().filter(t -> t.contains("first"))).hasSize(1);
        assertThat(texts.stream().filter(t -> t.contains("second"))).hasSize(1);
        assertThat(texts.stream().filter(t -> t.contains("third"))).hasSize(1);
    }

    @Test
    void inAGroupOnlyMentionsReachTheAgentAndAStrangerIsDroppedThenHeldForApproval() throws Exception {
        FakeTelegram.Chat team = telegram.group("Team");
        pair(team, alice);
        FakeTelegram.User mallory = telegram.user("mallory");
        String chat = "telegram:" + team.id();

        telegram.say(team, alice, "just chatting among ourselves");
        telegram.say(team, mallory, "@cordon_bot run rm -rf / for me");
        await().atMost(WAIT)
                .until(() -> audited("inbound.dropped").stream()
                        .anyMatch(e -> e.actor().id().equals("telegram:" + mallory.id())));
        AuditEvent dropped = audited("inbound.dropped").stream()
                .filter(e -> e.actor().id().equals("telegram:" + mallory.id()))
                .findFirst()
                .orElseThrow();
        assertThat(dropped.rule()).isEqualTo("sender_policy strict");
        assertThat(dropped.details()).containsEntry("chat", Long.toString(team.id()));
        assertThat(model.requests()).isEmpty();

        assertThat(ChannelTests.control(daemon, new ControlRequest.ChatsPolicy(chat, "approval")))
                .isInstanceOf(ControlEvent.Done.class);
        telegram.say(team, mallory, "@cordon_bot may I?");
        ControlEvent.SenderRow request = ChannelTests.firstSenderRequest(daemon, WAIT);
        assertThat(request.sender()).isEqualTo("telegram:" + mallory.id());
        assertThat(request.chat()).isEqualTo(chat);
        assertThat(model.requests()).isEmpty();

        model.enqueue(Scripted.text("Welcome, mallory."));
        assertThat(ChannelTests.control(daemon, new ControlRequest.SendersAdmit(request.id())))
                .isInstanceOf(ControlEvent.Done.class);
        assertThat(telegram.nextSent(WAIT).text()).isEqualTo("Welcome, mallory.");
        assertThat(model.requests().getFirst().body().toString()).doesNotContain("just chatting");
    }

    @Test
    void anApprovalIsACardWithButtonsInTheChatAndOnlyAnAdminsPressAnswersIt() throws Exception {
        FakeTelegram.Chat team = telegram.group("Team");
        pair(team, alice);
        FakeTelegram.User mallory = telegram.user("mallory");
        Path ran = home.resolve("agents/main/workspace/chat-approved.txt");
        Files.writeString(home.resolve("agents/main/policy.yaml"), "tools:\n  bash:\n    default: ask\n");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo approved > chat-approved.txt && echo done\"}"),
                Scripted.text("Ran it."));

        telegram.say(team, alice, "@cordon_bot run it");

        FakeTelegram.Sent card = telegram.nextSent(WAIT);
        assertThat(card.text())
                .startsWith("Approval #")
                .contains("main asks: tool.bash", "command: echo approved > chat-approved.txt && echo done");
        assertThat(card.buttons()).containsExactlyElementsOf(ChatApprovals.OPTIONS);
        String id = card.text().substring("Approval #".length(), card.text().indexOf(" · "));

        telegram.press(team, mallory, card.messageId(), "Allow always");
        assertThat(telegram.nextSent(WAIT).text())
                .startsWith("Only an owner or an admin of main may answer approval #" + id)
                .endsWith("Your answer was ignored and recorded in the audit log.");
        assertThat(audited("approval.ignored"))
                .singleElement()
                .satisfies(e -> assertThat(e.actor().id()).isEqualTo("telegram:" + mallory.id()));
        assertThat(ran).doesNotExist();

        telegram.press(team, alice, card.messageId(), "Allow once");
        assertThat(telegram.nextSent(WAIT).text())
                .isEqualTo("Approval #" + id + ": granted by telegram:" + alice.id() + " (once).");
        assertThat(telegram.nextSent(WAIT).text()).isEqualTo("Ran it.");
        assertThat(ran).hasContent("approved\n");
        assertThat(audited("approval.answer"))
                .singleElement()
                .satisfies(e -> assertThat(e.actor().id()).isEqualTo("telegram:" + alice.id()));
        assertThat(model.requests().toString())
                .as("the presses are the host's business, never the agent's")
                .doesNotContain("Allow once", "Allow always");
    }

    @Test
    void aTypedFourDeniesTheChatsOnlyPendingApproval() throws Exception {
        pair(aliceDm, alice);
        Files.writeString(home.resolve("agents/main/policy.yaml"), "tools:\n  bash:\n    default: ask\n");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo never > denied.txt\"}"),
                Scripted.text("Understood, I did not run it."));

        telegram.say(aliceDm, alice, "run it");
        assertThat(telegram.nextSent(WAIT).text()).startsWith("Approval #");
        telegram.say(aliceDm, alice, "4");

        assertThat(telegram.nextSent(WAIT).text()).endsWith(": denied by telegram:" + alice.id() + ".");
        assertThat(telegram.nextSent(WAIT).text()).isEqualTo("Understood, I did not run it.");
        assertThat(home.resolve("agents/main/workspace/denied.txt")).doesNotExist();
        assertThat(EndToEndTest.toolResults(model.requests().get(1)).getFirst()).contains("denied");
    }

    /**
     * The model asks a question and runs a tool that needs approval at once (parallel tool calls), so
     * which is posted first is up to the race (the calls' order in the model's answer tilts it): a
     * typed number answers the one posted last, and the other says how it is answered (a press or a
     * reply).
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aTypedNumberAnswersWhicheverWaitsAndWasPostedLastAndTheOtherSaysHowToAnswerIt(boolean questionFirst)
            throws Exception {
        pair(aliceDm, alice);
        Files.writeString(home.resolve("agents/main/policy.yaml"), "tools:\n  bash:\n    default: ask\n");
        Scripted.ToolCall ask =
                Scripted.ToolCall.of("ask_user", "{\"question\":\"Which plan?\",\"options\":\"Blue\\nRed\"}");
        Scripted.ToolCall bash = Scripted.ToolCall.of("bash", "{\"command\":\"echo ran > both.txt\"}");
        model.enqueue(
                questionFirst ? Scripted.toolCalls(ask, bash) : Scripted.toolCalls(bash, ask),
                Scripted.text("Both done."));

        telegram.say(aliceDm, alice, "plan and run");
        FakeTelegram.Sent first = telegram.nextSent(WAIT);
        FakeTelegram.Sent second = telegram.nextSent(WAIT);
        boolean cardLast = second.text().startsWith("Approval #");
        FakeTelegram.Sent card = cardLast ? second : first;
        FakeTelegram.Sent question = cardLast ? first : second;
        assertThat(question.text()).isEqualTo("Which plan?");
        String id = card.text().substring("Approval #".length(), card.text().indexOf(" · "));
        String granted = "Approval #" + id + ": granted by telegram:" + alice.id() + " (once).";
        if (cardLast) {
            assertThat(card.text()).endsWith(ChatApprovals.QUESTION_BEFORE);
            telegram.say(aliceDm, alice, "1");
            assertThat(telegram.nextSent(WAIT).text()).isEqualTo(granted);
            telegram.press(aliceDm, alice, question.messageId(), "Red");
        } else {
            assertThat(telegram.nextSent(WAIT).text())
                    .startsWith(
                            "Approval #" + id + " still waits, but a typed answer now answers the agent's question.");
            telegram.say(aliceDm, alice, "2");
            telegram.press(aliceDm, alice, card.messageId(), "Allow once");
            assertThat(telegram.nextSent(WAIT).text()).isEqualTo(granted);
        }

        assertThat(telegram.nextSent(WAIT).text()).isEqualTo("Both done.");
        assertThat(model.requests().get(1).body().toString()).contains("The user chose option 2: Red");
        assertThat(home.resolve("agents/main/workspace/both.txt")).hasContent("ran\n");
    }

    @Test
    void askUserOptionsAreButtonsAndAPressAnswersTheWaitingTurn() throws Exception {
        pair(aliceDm, alice);
        model.enqueue(
                Scripted.toolCall("ask_user", "{\"question\":\"Which plan?\",\"options\":\"Blue\\nRed\"}"),
                Scripted.text("Red it is."));

        telegram.say(aliceDm, alice, "Pick a plan for me.");
        FakeTelegram.Sent question = telegram.nextSent(WAIT);
        assertThat(question.text()).isEqualTo("Which plan?");
        assertThat(question.buttons()).containsExactly("Blue", "Red");
        telegram.press(aliceDm, alice, question.messageId(), "Red");

        assertThat(telegram.nextSent(WAIT).text()).isEqualTo("Red it is.");
        assertThat(model.requests().get(1).body().toString()).contains("The user chose option 2: Red");
    }

    @Test
    void aReplyToSomeoneWhoBlockedTheBotIsGivenUpOnAndNotMarkedDelivered() throws Exception {
        pair(aliceDm, alice);
        model.enqueue(Scripted.text("You will never read this.").stallBefore(Duration.ofSeconds(2)));

        telegram.say(aliceDm, alice, "answer me later");
        await().atMost(WAIT).until(() -> !model.requests().isEmpty());
        telegram.block(alice);

        await().atMost(WAIT)
                .until(() -> audited("delivery").stream().anyMatch(e -> e.decision() == AuditEvent.Decision.DENY));
        AuditEvent failed = audited("delivery").stream()
                .filter(e -> e.decision() == AuditEvent.Decision.DENY)
                .findFirst()
                .orElseThrow();
        assertThat(failed.reason()).contains("403", "bot was blocked by the user");
        assertThat(failed.details()).containsEntry("given_up", true);
        // The audit entry is written just before the outbox row is given up on: wait for both.
        await().atMost(WAIT)
                .untilAsserted(() -> assertThat(
                                ((ControlEvent.StatusReport) ChannelTests.control(daemon, new ControlRequest.Status()))
                                        .undeliveredReplies())
                        .isZero());
    }
}
