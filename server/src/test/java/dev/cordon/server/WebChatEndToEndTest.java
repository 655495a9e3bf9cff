package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditActions;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The web chat through the HTTP API, a real daemon, a real bubblewrap sandbox and the real runner
 * on the scripted fake model: a member talks, the agent's bash call (policy: ask) shows up live
 * and waits for an admin's answer on the API, then runs in the sandbox and the reply streams back.
 */
class WebChatEndToEndTest extends DaemonTestBase {

    @Test
    void aMemberChatsTheToolCallShowsLiveAndAnAdminsApprovalLetsTheAgentContinue() throws Exception {
        WebApiTest.dashboardWithAskingBash(home);
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo hello from the web > web.txt && echo done\"}"),
                Scripted.text("Wrote web.txt."));
        startDaemon();
        String url = daemon.webUrl();
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.UsersGrant("web:alice", "member", "main"));
            client.await(ControlEvent.Done.class);
        }
        WebClient alice = WebClient.bearer(
                url, WebClient.link(daemon.controlSocket(), "web:alice", true).token());
        WebClient owner = WebClient.bearer(
                url, WebClient.link(daemon.controlSocket(), null, true).token());
        BlockingQueue<String> aliceSees = alice.events();
        BlockingQueue<String> ownerSees = owner.events();

        JsonNode accepted = alice.json(
                "POST", "/api/v1/agents/main/messages", Map.of("text", "write the file", "clientMessageId", "m1"));
        assertThat(accepted.get("inboundId").asLong()).isPositive();

        assertThat(next(aliceSees, "tool_call")).contains("\"tool\":\"bash\"").contains("hello from the web");
        assertThat(next(ownerSees, "audit", "approval.request")).contains("tool.bash");
        JsonNode pending = owner.json("GET", "/api/v1/approvals", null).get("approvals");
        assertThat(pending).hasSize(1);
        long id = pending.get(0).get("id").asLong();
        assertThat(alice.status("POST", "/api/v1/approvals/" + id + "/decision"))
                .isEqualTo(403);
        assertThat(Files.exists(home.resolve("agents/main/workspace/web.txt")))
                .as("nothing runs before the answer")
                .isFalse();
        JsonNode waiting = alice.json("GET", "/api/v1/agents/main/messages", null);
        assertThat(waiting.get("messages").toString())
                .as("a message whose turn waits for an approval is in the history")
                .contains("write the file");
        assertThat(waiting.get("through").asLong()).isZero();

        owner.json("POST", "/api/v1/approvals/" + id + "/decision", Map.of("decision", "once"));

        String reply = next(aliceSees, "reply");
        assertThat(reply).contains("Wrote web.txt.");
        assertThat(home.resolve("agents/main/workspace/web.txt")).hasContent("hello from the web");
        JsonNode messages =
                alice.json("GET", "/api/v1/agents/main/messages", null).get("messages");
        assertThat(messages.toString())
                .contains("write the file")
                .contains("Wrote web.txt.")
                .contains("\"tool\":\"bash\"");
        assertThat(alice.json("GET", "/api/v1/agents/main/messages", null)
                        .get("through")
                        .asLong())
                .as("the history holds the reply the live event carried")
                .isEqualTo(WebJson.MAPPER
                        .readTree(reply.substring(reply.indexOf('{')))
                        .get("outbound")
                        .asLong());

        long session = owner.json("GET", "/api/v1/sessions", null)
                .get("sessions")
                .get(0)
                .get("session")
                .asLong();
        assertThat(owner.json("GET", "/api/v1/sessions/" + session + "/transcript", null)
                        .toString())
                .contains("hello from the web");
        assertThat(alice.status("POST", "/api/v1/sessions/" + session + "/stop"))
                .isEqualTo(403);
        owner.json("POST", "/api/v1/sessions/" + session + "/stop", Map.of());
        assertThat(audited(AuditActions.SANDBOX_KILL))
                .singleElement()
                .satisfies(e -> assertThat(e.reason()).isEqualTo("stopped by web:owner"));
        assertThat(audited(AuditActions.INBOUND_ACCEPTED))
                .anySatisfy(e -> assertThat(e.actor().id()).isEqualTo("web:alice"));
        assertThat(owner.send("GET", "/metrics", null).body())
                .contains("cordon_sandbox_starts_total{agent=\"main\",outcome=\"ok\"} 1.0")
                .contains("cordon_turns_total{agent=\"main\",outcome=\"ok\"} 1.0")
                .contains("cordon_model_tokens_total{agent=\"main\",kind=\"input\"}");
    }

    @Test
    void anAgentCannotReachTheDashboardOrReadItsTokensFromInsideItsSandbox() throws Exception {
        Files.writeString(home.resolve("cordon.yaml"), WebApiTest.HTTP_ON);
        startDaemon();
        java.net.URI url = java.net.URI.create(daemon.webUrl());
        String token = WebClient.link(daemon.controlSocket(), null, true).token();
        // The sandbox has its own network namespace: its 127.0.0.1 is not the host's. The home,
        // with the token hashes, is not mounted.
        String command = "(exec 3<>/dev/tcp/127.0.0.1/" + url.getPort()
                + " && printf 'GET /api/v1/me HTTP/1.0\\r\\nHost: 127.0.0.1:" + url.getPort()
                + "\\r\\nAuthorization: Bearer " + token + "\\r\\n\\r\\n' >&3 && cat <&3) 2>&1"
                + " || echo dashboard unreachable; cat " + home.resolve("data/web-tokens")
                + " 2>&1 || echo tokens unreadable";
        // The same command on the host does reach it: only the sandbox's walls stop it.
        Process host = new ProcessBuilder("bash", "-c", command)
                .redirectErrorStream(true)
                .start();
        assertThat(new String(host.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
                .contains("web:owner")
                .contains(WebAuth.sha256(token));
        model.enqueue(Scripted.toolCall("bash", WebJson.write(Map.of("command", command))), Scripted.text("Tried."));

        ask("look around");

        String result = EndToEndTest.toolResults(model.requests().getLast()).getLast();
        assertThat(result).contains("dashboard unreachable").contains("tokens unreadable");
        assertThat(result).doesNotContain("web:owner").doesNotContain(WebAuth.sha256(token));
        assertThat(new WebClient(daemon.webUrl())
                        .send("GET", "/api/v1/me", null)
                        .statusCode())
                .as("the dashboard itself is up")
                .isEqualTo(401);
    }

    /** The next event of {@code type} (containing {@code text}), waiting up to two minutes. */
    static String next(BlockingQueue<String> events, String type, String... text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            String e = events.poll(1, TimeUnit.SECONDS);
            if (e != null && e.startsWith(type + " ") && (text.length == 0 || e.contains(text[0]))) {
                return e;
            }
        }
        throw new AssertionError("no " + type + " event within 2 minutes");
    }
}
