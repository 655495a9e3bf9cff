package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.audit.AuditEvent;
import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeMatrix;
import dev.cordon.testkit.Scripted;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Matrix end to end: a real daemon with the Matrix channel enabled in cordon.yaml and its access
 * token in the vault, the agent in a real bubblewrap sandbox, the fake model, and {@link
 * FakeMatrix} in place of a homeserver (none installs here).
 */
class MatrixEndToEndTest extends DaemonTestBase {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final String TOKEN = "syt_ZTJl_daemonAccessToken_9f8e7d";
    static final String ALICE = FakeMatrix.user("alice");
    static final String BOB = FakeMatrix.user("bob");
    static final String MALLORY = FakeMatrix.user("mallory");

    FakeMatrix matrix;
    String room;

    @BeforeEach
    void start() throws Exception {
        matrix = FakeMatrix.start(TOKEN, "cordon");
        Home h = new Home(home);
        Vault.open(h.vault(), h.vaultKey()).put("MATRIX_TOKEN", TOKEN.getBytes(StandardCharsets.UTF_8), List.of());
        Files.writeString(home.resolve("cordon.yaml"), """
                channels:
                  matrix:
                    homeserver: %s
                    token_secret: MATRIX_TOKEN
                    poll_seconds: 5
                """.formatted(matrix.url()));
        startDaemon();
        // The bot is invited to the team's room and joins it on its own.
        room = matrix.roomInviting(ALICE, BOB, MALLORY);
        await().atMost(WAIT).until(() -> matrix.joined(room));
        String code = ((ControlEvent.PairingCode) ChannelTests.control(daemon, new ControlRequest.Pair("main"))).code();
        matrix.say(room, ALICE, code);
        assertThat(matrix.nextSent(WAIT).body()).containsIgnoringCase("main");
    }

    @AfterEach
    void stopMatrix() {
        if (daemon != null) {
            daemon.close();
            daemon = null;
        }
        matrix.close();
    }

    @Test
    void aMentionInAThreadIsAnsweredInThatThreadByTheSandboxedAgent() throws Exception {
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo host=$(cat /etc/hostname)\"}"),
                Scripted.text("The disk filled up."));
        String root = matrix.say(room, BOB, "incident 42");

        matrix.say(room, ALICE, "just chatting among ourselves");
        String asked = matrix.inThread(room, ALICE, root, "what happened?");

        FakeMatrix.Sent reply = matrix.nextSent(WAIT);
        assertThat(reply.body()).isEqualTo("The disk filled up.");
        assertThat(reply.content().path("m.relates_to").path("rel_type").asString())
                .isEqualTo("m.thread");
        assertThat(reply.content().path("m.relates_to").path("event_id").asString())
                .isEqualTo(root);
        assertThat(reply.content()
                        .path("m.relates_to")
                        .path("m.in_reply_to")
                        .path("event_id")
                        .asString())
                .isEqualTo(asked);
        assertThat(reply.txnId()).isNotBlank();
        assertThat(EndToEndTest.toolResults(model.requests().get(1)).getFirst()).contains("host=cordon");
        assertThat(model.requests().getFirst().body().toString()).doesNotContain("just chatting");
    }

    @Test
    void anApprovalAskedInAThreadIsANumberedCardInThatThreadAndATypedNumberThereAnswersIt() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), "tools:\n  bash:\n    default: ask\n");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo approved > matrix-approved.txt\"}"),
                Scripted.text("Ran it."));
        String root = matrix.say(room, BOB, "incident 43");

        String asked = matrix.inThread(room, ALICE, root, "clean up the disk");

        FakeMatrix.Sent card = matrix.nextSent(WAIT);
        assertThat(card.body()).startsWith("Approval #").contains("1. Allow once", "4. Deny");
        assertThat(card.content().path("m.relates_to").path("event_id").asString())
                .isEqualTo(root);
        assertThat(card.content()
                        .path("m.relates_to")
                        .path("m.in_reply_to")
                        .path("event_id")
                        .asString())
                .isEqualTo(asked);
        String id = card.body().substring("Approval #".length(), card.body().indexOf(" · "));
        matrix.inThread(room, ALICE, root, "1");

        FakeMatrix.Sent decision = matrix.nextSent(WAIT);
        assertThat(decision.body()).isEqualTo("Approval #" + id + ": granted by matrix:" + ALICE + " (once).");
        assertThat(decision.content().path("m.relates_to").path("event_id").asString())
                .isEqualTo(root);
        assertThat(matrix.nextSent(WAIT).body()).isEqualTo("Ran it.");
        assertThat(home.resolve("agents/main/workspace/matrix-approved.txt")).hasContent("approved\n");
    }

    @Test
    void aStrangerInAnApprovalRoomIsHeldUntilTheOwnerAdmitsThem() throws Exception {
        assertThat(ChannelTests.control(daemon, new ControlRequest.ChatsPolicy("matrix:" + room, "approval")))
                .isInstanceOf(ControlEvent.Done.class);

        matrix.mention(room, MALLORY, "may I?");

        ControlEvent.SenderRow request = ChannelTests.firstSenderRequest(daemon, WAIT);
        assertThat(request.sender()).isEqualTo("matrix:" + MALLORY);
        assertThat(request.chat()).isEqualTo("matrix:" + room);
        assertThat(model.requests()).isEmpty();
        model.enqueue(Scripted.text("Welcome, mallory."));
        assertThat(ChannelTests.control(daemon, new ControlRequest.SendersAdmit(request.id())))
                .isInstanceOf(ControlEvent.Done.class);
        assertThat(matrix.nextSent(WAIT).body()).isEqualTo("Welcome, mallory.");
    }

    @Test
    void aStrangerIsDroppedAndAuditedAndAMessageSentWhileTheDaemonIsDownIsAnsweredOnce() throws Exception {
        matrix.mention(room, MALLORY, "run rm -rf / for me");
        await().atMost(WAIT)
                .until(() -> audited("inbound.dropped").stream()
                        .anyMatch(e -> e.actor().id().equals("matrix:" + MALLORY)));
        AuditEvent dropped = audited("inbound.dropped").stream()
                .filter(e -> e.actor().id().equals("matrix:" + MALLORY))
                .findFirst()
                .orElseThrow();
        assertThat(dropped.rule()).isEqualTo("sender_policy strict");
        assertThat(dropped.details()).containsEntry("chat", room);
        assertThat(model.requests()).isEmpty();

        daemon.close();
        daemon = null;
        matrix.mention(room, ALICE, "said while the daemon was down");
        startDaemon();

        assertThat(matrix.nextSent(WAIT).body()).isEqualTo("You said: said while the daemon was down");
        Thread.sleep(2_000); // room for a duplicate to show, if there were one
        assertThat(matrix.sent()).hasSize(2); // the pairing confirmation and this reply
        assertThat(model.requests()).hasSize(1);
    }
}
