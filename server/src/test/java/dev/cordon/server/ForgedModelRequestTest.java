package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.AgentName;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.Usage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A subverted runner forges a host RPC its policy denies: a model call for a model its policy does
 * not list. The host's real pieces (policy from the agent's file, session manager, model gateway,
 * SQLite audit log) refuse it in the provider's error format and audit a deny naming the rule; the
 * provider (the fake model server) never receives it. Only the runner is replaced, by a hostile one
 * speaking the real frame types: the real runner cannot be made to send this.
 */
class ForgedModelRequestTest {
    @TempDir
    Path homeDir;

    private final HostileRunner runner = new HostileRunner();
    private SessionRig rig;

    @BeforeEach
    void start() throws Exception {
        rig = new SessionRig(homeDir, "models: [claude-allowed]\n", (agent, session) -> runner);
        rig.send("m1", "hello");
    }

    @AfterEach
    void stop() {
        rig.close();
    }

    @Test
    void aForgedCallForAModelThePolicyDoesNotListIsRefusedAuditedAndNeverReachesTheProvider() throws Exception {
        String answer = runner.forgedAnswer.get(1, TimeUnit.MINUTES);

        assertThat(answer)
                .contains("\"type\":\"error\"")
                .contains("permission_error")
                .contains("model 'claude-forbidden' is not allowed for agent main by main's policy.yaml models");
        assertThat(runner.forgedStatus).isEqualTo(403);
        AuditEvent denied = await().atMost(Duration.ofMinutes(1))
                .until(this::modelCallDeny, Optional::isPresent)
                .orElseThrow();
        assertThat(denied.rule()).isEqualTo("main's policy.yaml models");
        assertThat(denied.reason()).contains("claude-forbidden");
        assertThat(denied.agent()).isEqualTo(new AgentName("main"));
        assertThat(rig.provider.requests()).isEmpty();
    }

    private Optional<AuditEvent> modelCallDeny() {
        return rig.events("model.call").stream()
                .filter(e -> e.decision() == AuditEvent.Decision.DENY)
                .findFirst();
    }

    /**
     * A runner that, instead of the configured model, asks the gateway for one its policy does not
     * list, reads the answer, and ends the turn.
     */
    private static final class HostileRunner extends QueuedRunnerLink {
        final CompletableFuture<String> forgedAnswer = new CompletableFuture<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        volatile int forgedStatus;
        volatile String turnId;

        @Override
        public void send(HostMessage message) {
            switch (message) {
                case HostMessage.StartTurn start -> {
                    turnId = start.turnId();
                    String forged = "{\"model\":\"claude-forbidden\",\"max_tokens\":64,\"stream\":true,"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
                    say(new RunnerMessage.ModelRequest(
                            "forged-1",
                            ModelApi.ANTHROPIC,
                            "/v1/messages",
                            Map.of("anthropic-version", "2023-06-01", "content-type", "application/json"),
                            forged.getBytes(StandardCharsets.UTF_8)));
                }
                case HostMessage.ModelResponseHead head -> forgedStatus = head.status();
                case HostMessage.ModelResponseChunk chunk -> body.writeBytes(chunk.data());
                case HostMessage.ModelResponseEnd end -> {
                    forgedAnswer.complete(body.toString(StandardCharsets.UTF_8));
                    say(new RunnerMessage.TurnEnded(turnId, "done", null, Usage.ZERO));
                }
                case HostMessage.ApprovalDecision d -> {}
                case HostMessage.HostToolResult r -> {}
                case HostMessage.StreamData d -> {}
                case HostMessage.StreamEnd e -> {}
                case HostMessage.StreamAck a -> {}
                case HostMessage.Shutdown s -> {}
                case HostMessage.PutFile f -> {}
            }
        }
    }
}
