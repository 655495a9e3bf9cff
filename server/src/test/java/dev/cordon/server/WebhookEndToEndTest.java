package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.channel.HookSignature;
import dev.cordon.egress.vault.Vault;
import dev.cordon.testkit.FakeReplyTarget;
import dev.cordon.testkit.Scripted;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Signed webhooks end to end: a real daemon with an endpoint in cordon.yaml and its secret in the
 * vault, its own hook listener on loopback, the agent in a real bubblewrap sandbox, the fake model,
 * and {@link FakeReplyTarget} as the endpoint's {@code reply_url}.
 */
class WebhookEndToEndTest extends DaemonTestBase {
    /** An upper bound only: on a loaded machine the first sandbox waited 94 s for the runner's AOT training. */
    static final Duration WAIT = Duration.ofSeconds(180);

    static final String SECRET = "ci-secret-0123456789abcdef0123456789";

    FakeReplyTarget target;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        target = FakeReplyTarget.start();
        Home h = new Home(home);
        Vault.open(h.vault(), h.vaultKey()).put("CI_HOOK_SECRET", SECRET.getBytes(StandardCharsets.UTF_8), List.of());
        Files.writeString(home.resolve("cordon.yaml"), """
                hooks:
                  port: 0
                  max_body_kb: 4
                channels:
                  webhook:
                    endpoints:
                      ci:
                        agent: main
                        secret: CI_HOOK_SECRET
                        reply_url: %s
                """.formatted(target.url()));
        startDaemon();
    }

    @AfterEach
    void stopTarget() {
        target.close();
    }

    HttpResponse<String> post(String event, long timestamp, String signedBody, String sentBody) throws Exception {
        String signature = "sha256="
                + HookSignature.hmacSha256Hex(
                        SECRET.getBytes(StandardCharsets.UTF_8),
                        (timestamp + "." + signedBody).getBytes(StandardCharsets.UTF_8));
        return http.send(
                HttpRequest.newBuilder(URI.create(daemon.hooksUrl() + "/hooks/webhook/ci"))
                        .header("Content-Type", "application/json")
                        .header("X-Cordon-Timestamp", Long.toString(timestamp))
                        .header("X-Cordon-Signature", signature)
                        .header("X-Cordon-Event-Id", event)
                        .POST(HttpRequest.BodyPublishers.ofString(sentBody))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String event, long timestamp, String body) throws Exception {
        return post(event, timestamp, body, body);
    }

    @Test
    void aSignedEventReachesTheSandboxedAgentAndItsReplyIsPostedToTheReplyUrl() throws Exception {
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo host=$(cat /etc/hostname)\"}"),
                Scripted.text("Build 41 failed in the test stage."));
        long now = Instant.now().getEpochSecond();

        HttpResponse<String> r = post("build-41", now, "{\"text\":\"why did build 41 fail?\"}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        FakeReplyTarget.Received reply = target.nextReceived(WAIT);
        assertThat(reply.body().path("text").asString()).isEqualTo("Build 41 failed in the test stage.");
        assertThat(reply.body().path("in_reply_to").asString()).isEqualTo("build-41");
        assertThat(reply.header("Idempotency-Key")).isNotBlank();
        assertThat(reply.header("X-Cordon-Signature"))
                .isEqualTo("sha256="
                        + HookSignature.hmacSha256Hex(
                                SECRET.getBytes(StandardCharsets.UTF_8),
                                (reply.header("X-Cordon-Timestamp") + "." + reply.rawBody())
                                        .getBytes(StandardCharsets.UTF_8)));
        assertThat(EndToEndTest.toolResults(model.requests().get(1)).getFirst()).contains("host=cordon");
        assertThat(audited("inbound.accepted"))
                .singleElement()
                .satisfies(e -> assertThat(e.actor().id()).isEqualTo("webhook:ci"));
        // The delivery is audited once the receiver confirmed it, a moment after the POST arrived.
        await().atMost(WAIT)
                .until(() -> audited("delivery").stream()
                        .anyMatch(e -> "webhook".equals(e.details().get("channel"))));

        // The same event again (a sender that lost the 202) is acknowledged and not answered twice.
        HttpResponse<String> again = post("build-41", now, "{\"text\":\"why did build 41 fail?\"}");
        assertThat(again.statusCode()).isEqualTo(202);
        assertThat(again.body()).contains("\"duplicate\":true");
        assertThat(model.requests()).hasSize(2);
    }

    @Test
    void aBadSignatureAReplayedTimestampAndAnOversizedBodyAreRefusedAndNothingIsStored() throws Exception {
        long now = Instant.now().getEpochSecond();

        HttpResponse<String> tampered = post("e1", now, "{\"text\":\"hello\"}", "{\"text\":\"rm -rf /\"}");
        HttpResponse<String> replayed = post("e2", now - 3600, "{\"text\":\"an old request\"}");
        HttpResponse<String> huge = post("e3", now, "{\"text\":\"" + "x".repeat(5000) + "\"}");

        assertThat(tampered.statusCode()).isEqualTo(401);
        assertThat(tampered.body()).contains("X-Cordon-Signature does not match");
        assertThat(replayed.statusCode()).isEqualTo(401);
        assertThat(replayed.body()).contains("away from this server's clock");
        assertThat(huge.statusCode()).isEqualTo(413);
        assertThat(huge.body()).contains("hooks.max_body_kb");
        // A good one afterwards goes through, and is the only message the host ever stored.
        assertThat(post("e4", now, "{\"text\":\"ping\"}").statusCode()).isEqualTo(202);
        assertThat(target.nextReceived(WAIT).body().path("text").asString()).isEqualTo("You said: ping");
        assertThat(audited("inbound.accepted")).hasSize(1);
        assertThat(audited("inbound.dropped")).isEmpty();
        assertThat(model.requests()).hasSize(1);
    }

    @Test
    void anAgentCannotReachTheHookListenerNorFindTheEndpointSecretFromInsideItsSandbox() throws Exception {
        int port = URI.create(daemon.hooksUrl()).getPort();
        // Its own network namespace: the sandbox's 127.0.0.1 is not the host's, so an agent cannot
        // post events to itself or to another agent's endpoint, signed or not.
        String connect = "(exec 3<>/dev/tcp/127.0.0.1/" + port
                + " && printf 'POST /hooks/webhook/ci HTTP/1.0\\r\\nContent-Length: 2\\r\\n\\r\\n{}' >&3 && cat <&3) 2>&1"
                + " || echo listener unreachable";
        Process host = new ProcessBuilder("bash", "-c", connect)
                .redirectErrorStream(true)
                .start();
        assertThat(new String(host.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .as("the same command on the host reaches the listener: only the sandbox's walls stop it")
                .contains("X-Cordon-Timestamp must be");
        String canary = "canary-" + java.util.UUID.randomUUID();
        Files.writeString(home.resolve("agents/main/workspace/canary.txt"), canary);
        model.enqueue(
                Scripted.toolCall("bash", EndToEndTest.json(connect + "; " + EndToEndTest.scan(SECRET, canary))),
                Scripted.text("Tried."));

        assertThat(post("probe-1", Instant.now().getEpochSecond(), "{\"text\":\"look around\"}")
                        .statusCode())
                .isEqualTo(202);

        assertThat(target.nextReceived(WAIT).body().path("text").asString()).isEqualTo("Tried.");
        String result = EndToEndTest.toolResults(model.requests().get(1)).getFirst();
        assertThat(result).contains("listener unreachable").doesNotContain("X-Cordon-Timestamp");
        assertThat(result).contains("SCAN-DONE").contains("env-and-proc-hits: 0");
        String found = result.substring(result.indexOf("env-and-proc-hits"));
        assertThat(found.lines().filter(l -> l.startsWith("/"))).containsExactly("/workspace/canary.txt");
    }

    @Test
    void theListenerServesOnlyHooksAndNotTheDashboardApi() throws Exception {
        HttpResponse<String> api = http.send(
                HttpRequest.newBuilder(URI.create(daemon.hooksUrl() + "/api/v1/agents"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> unknown = http.send(
                HttpRequest.newBuilder(URI.create(daemon.hooksUrl() + "/hooks/slack"))
                        .POST(HttpRequest.BodyPublishers.ofString("{}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(api.statusCode()).isEqualTo(404);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("no webhook channel 'slack'");
        await().atMost(WAIT)
                .until(() -> audited("role.grant").stream()
                        .anyMatch(e -> e.details().toString().contains("webhook:ci")));
    }
}
