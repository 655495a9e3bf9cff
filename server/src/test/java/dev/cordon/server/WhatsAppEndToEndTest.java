package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.audit.AuditEvent;
import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeGraph;
import dev.cordon.testkit.Scripted;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * WhatsApp end to end: a real daemon with the WhatsApp channel in cordon.yaml and its secrets in
 * the vault, {@link FakeGraph} making the handshake and signed webhooks against the daemon's hook
 * listener and taking its Graph API calls, the agent in a real bubblewrap sandbox.
 */
class WhatsAppEndToEndTest extends DaemonTestBase {
    /** An upper bound only: on a loaded machine the first sandbox waited 94 s for the runner's AOT training. */
    static final Duration WAIT = Duration.ofSeconds(180);

    static final String TOKEN = "EAAGe2eaccesstoken0123456789";
    static final String APP_SECRET = "e2e-app-secret-0123456789abcdef";
    static final String VERIFY = "e2e-verify-token-0123456789";
    static final String NUMBER_ID = "106540352242922";
    static final String ALICE = "4915112345678";

    FakeGraph graph;
    URI hook;

    @BeforeEach
    void start() throws Exception {
        graph = FakeGraph.start(TOKEN, NUMBER_ID);
        Home h = new Home(home);
        Vault vault = Vault.open(h.vault(), h.vaultKey());
        vault.put("WHATSAPP_TOKEN", TOKEN.getBytes(StandardCharsets.UTF_8), List.of());
        vault.put("WHATSAPP_APP_SECRET", APP_SECRET.getBytes(StandardCharsets.UTF_8), List.of());
        vault.put("WHATSAPP_VERIFY_TOKEN", VERIFY.getBytes(StandardCharsets.UTF_8), List.of());
        Files.writeString(home.resolve("cordon.yaml"), """
                hooks:
                  port: 0
                files:
                  public_url: https://cordon.example.org
                channels:
                  whatsapp:
                    phone_number_id: "%s"
                    token_secret: WHATSAPP_TOKEN
                    app_secret: WHATSAPP_APP_SECRET
                    verify_token_secret: WHATSAPP_VERIFY_TOKEN
                    api_url: %s
                """.formatted(NUMBER_ID, graph.url()));
        startDaemon();
        hook = URI.create(daemon.hooksUrl() + "/hooks/whatsapp");
    }

    @AfterEach
    void stopGraph() {
        graph.close();
    }

    @Test
    void aPairedPersonGetsTheSandboxedAgentsAnswerAndAForgedWebhookIsRefused() throws Exception {
        assertThat(graph.subscribe(hook, VERIFY, "challenge-42").body()).isEqualTo("challenge-42");
        String code = ((ControlEvent.PairingCode) ChannelTests.control(daemon, new ControlRequest.Pair("main"))).code();
        assertThat(graph.post(hook, graph.says(ALICE, "Alice", code), APP_SECRET)
                        .statusCode())
                .isEqualTo(200);
        assertThat(graph.nextSent(WAIT).text()).contains("Paired", "main");

        assertThat(graph.post(hook, graph.says(ALICE, "Alice", "transfer all money"), "forged-app-secret-0123456789")
                        .statusCode())
                .isEqualTo(401);
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo host=$(cat /etc/hostname)\"}"),
                Scripted.text("Hello Alice, from the sandbox."));
        String question = graph.says(ALICE, "Alice", "hello agent");
        assertThat(graph.post(hook, question, APP_SECRET).statusCode()).isEqualTo(200);

        FakeGraph.Sent reply = graph.nextSent(WAIT);
        assertThat(reply.to()).isEqualTo(ALICE);
        assertThat(reply.text()).isEqualTo("Hello Alice, from the sandbox.");
        assertThat(EndToEndTest.toolResults(model.requests().get(1)).getFirst()).contains("host=cordon");

        // Meta sends the batch again: no second turn, and the forged message never reached the agent.
        assertThat(graph.post(hook, question, APP_SECRET).statusCode()).isEqualTo(200);
        await().atMost(WAIT).until(() -> audited("delivery").size() >= 2);
        assertThat(model.requests()).hasSize(2);
        assertThat(model.requests().toString()).doesNotContain("transfer all money");
    }

    /** Alice pairs her chat with main by sending the code. */
    void pairAlice() throws Exception {
        String code = ((ControlEvent.PairingCode) ChannelTests.control(daemon, new ControlRequest.Pair("main"))).code();
        graph.post(hook, graph.says(ALICE, "Alice", code), APP_SECRET);
        assertThat(graph.nextSent(WAIT).text()).contains("Paired", "main");
    }

    @Test
    void aFileTheSandboxedAgentSendsArrivesAsAnUploadedDocument() throws Exception {
        pairAlice();
        model.enqueue(
                Scripted.toolCall("bash", EndToEndTest.json("printf 'line one\\nline two\\n' > /workspace/notes.txt")),
                Scripted.toolCall("send_file", "{\"path\":\"notes.txt\",\"caption\":\"The notes.\"}"),
                Scripted.text("There you go."));

        graph.post(hook, graph.says(ALICE, "Alice", "send me the notes"), APP_SECRET);

        FakeGraph.Sent file = graph.nextSent(WAIT);
        assertThat(file.type()).isEqualTo("document");
        assertThat(file.text()).isEqualTo("The notes.");
        assertThat(file.document().fileName()).isEqualTo("notes.txt");
        assertThat(file.document().mediaType()).isEqualTo("text/plain");
        assertThat(new String(file.document().bytes(), StandardCharsets.UTF_8)).isEqualTo("line one\nline two\n");
        assertThat(graph.nextSent(WAIT).text()).isEqualTo("There you go.");
    }

    @Test
    void aFileOfATypeWhatsAppRefusesArrivesAsAnExpiringLinkInstead() throws Exception {
        pairAlice();
        model.enqueue(
                Scripted.toolCall(
                        "bash",
                        EndToEndTest.json("cd /workspace && echo log > build.log && tar -cf build.tar build.log")),
                Scripted.toolCall("send_file", "{\"path\":\"build.tar\",\"caption\":\"The build.\"}"),
                Scripted.text("There you go."));

        graph.post(hook, graph.says(ALICE, "Alice", "send me the build"), APP_SECRET);

        // Meta's upload answers (#100) for application/x-tar; the host sends the link a channel
        // without uploads gets, rather than giving the message up.
        FakeGraph.Sent file = graph.nextSent(WAIT);
        assertThat(file.type()).isEqualTo("text");
        assertThat(file.text())
                .startsWith("The build.\n\nFile build.tar (")
                .contains("https://cordon.example.org/files/")
                .endsWith("/build.tar");
        assertThat(graph.media()).isEmpty();
        assertThat(graph.nextSent(WAIT).text()).isEqualTo("There you go.");
        AuditEvent delivery = audited("delivery").stream()
                .filter(e -> e.details().containsKey("file"))
                .findFirst()
                .orElseThrow();
        assertThat(delivery.details()).containsEntry("file_as", "text");
        assertThat(String.valueOf(delivery.details().get("file_refused"))).contains("(#100)", "application/x-tar");
    }
}
