package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.protocol.control.ApprovalView;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.Scripted;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The policy's tool rules and model list through a real daemon, a real bubblewrap sandbox and the
 * real runner; the model is the scripted fake. Each test writes the agent's policy.yaml as an
 * operator would, and edits it between turns to show the change applies from the next turn.
 */
class ToolRulesEndToEndTest {
    @TempDir
    Path home;

    FakeModelServer model;
    Daemon daemon;
    Path policy;
    Path workspace;

    @BeforeEach
    void start() throws IOException {
        model = FakeModelServer.start();
        Files.createDirectories(home.resolve("agents/main"));
        policy = home.resolve("agents/main/policy.yaml");
        workspace = home.resolve("agents/main/workspace");
    }

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
        }
        model.close();
    }

    void startDaemon(String mainPolicy) throws IOException {
        Files.writeString(policy, mainPolicy);
        daemon = Daemon.start(
                home,
                Map.of(
                        "ANTHROPIC_API_KEY", "sk-ant-test",
                        "ANTHROPIC_BASE_URL", model.baseUrl().toString(),
                        "CORDON_MODEL", "claude-test"),
                EndToEndTest.RUNNER_LIB);
    }

    ControlEvent.Reply ask(String text) throws Exception {
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            return client.ask("main", text);
        }
    }

    String lastToolResult() {
        return EndToEndTest.toolResults(model.requests().getLast()).getLast();
    }

    @Test
    void anAskRuleWaitsForAPersonOverTheControlSocketAndTheToolRunsOnlyAfterTheApproval() throws Exception {
        startDaemon("tools:\n  bash:\n    default: ask\n");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo approved > asked.txt && echo done\"}"),
                Scripted.text("Ran it."),
                Scripted.toolCall("bash", "{\"command\":\"echo again > again.txt\"}"),
                Scripted.text("Refused."));
        CompletableFuture<ControlEvent.Reply> reply = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                reply.complete(ask("write the file"));
            } catch (Exception e) {
                reply.completeExceptionally(e);
            }
        });

        ApprovalView pending = awaitPendingApproval();
        assertThat(pending.kind()).isEqualTo("tool.bash");
        assertThat(pending.payload()).containsEntry("command", "echo approved > asked.txt && echo done");
        assertThat(Files.exists(workspace.resolve("asked.txt")))
                .as("nothing runs before the answer")
                .isFalse();
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.ApprovalApprove(pending.id(), "once", 0, 0, "fine"));
            client.await(ControlEvent.ApprovalDecided.class);
        }

        assertThat(reply.get(2, TimeUnit.MINUTES).text()).isEqualTo("Ran it.");
        assertThat(workspace.resolve("asked.txt")).hasContent("approved");

        // A "once" grant is spent: the next call asks again, and a denial is what the model sees.
        CompletableFuture<ControlEvent.Reply> second = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                second.complete(ask("again"));
            } catch (Exception e) {
                second.completeExceptionally(e);
            }
        });
        ApprovalView next = awaitPendingApproval();
        assertThat(next.id()).isNotEqualTo(pending.id());
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.ApprovalDeny(next.id(), "not now"));
            client.await(ControlEvent.ApprovalDecided.class);
        }
        assertThat(second.get(2, TimeUnit.MINUTES).text()).isEqualTo("Refused.");
        assertThat(lastToolResult()).contains("not now");
        assertThat(Files.exists(workspace.resolve("again.txt"))).isFalse();
    }

    ApprovalView awaitPendingApproval() throws Exception {
        for (int i = 0; i < 1_200; i++) {
            try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                client.send(new ControlRequest.ApprovalList(false));
                List<ApprovalView> pending =
                        client.await(ControlEvent.ApprovalListing.class).approvals();
                if (!pending.isEmpty()) {
                    return pending.getFirst();
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no approval request within 2 minutes");
    }

    @Test
    void underDlpRepliesBlockAReplyCarryingACredentialTheAgentReadInItsSandboxIsWithheld() throws Exception {
        startDaemon("dlp:\n  replies: block\n");
        String key = "AKIAIOSFODNN7EXAMPLE";
        Files.createDirectories(workspace);
        Files.writeString(workspace.resolve("old.env"), "AWS_ACCESS_KEY_ID=" + key + "\n");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"cat old.env\"}"),
                Scripted.text("The file says AWS_ACCESS_KEY_ID=" + key + ", shall I use it?")
                        .splitInto(4));

        ControlEvent.Reply reply;
        String streamed;
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            reply = client.ask("main", "what is in old.env?");
            streamed = client.seen.stream()
                    .filter(ControlEvent.Delta.class::isInstance)
                    .map(e -> ((ControlEvent.Delta) e).text())
                    .collect(java.util.stream.Collectors.joining());
        }

        assertThat(lastToolResult()).contains(key); // inside the sandbox the agent may read it
        assertThat(reply.text())
                .startsWith("[Cordon withheld this reply: it contained what looks like an AWS access key id.")
                .doesNotContain(key);
        assertThat(streamed).doesNotContain(key);
        // The delivery is audited once the terminal has acknowledged the reply: wait for it.
        List<dev.cordon.core.audit.AuditEvent> deliveries = List.of();
        for (int i = 0; i < 100 && deliveries.isEmpty(); i++) {
            Thread.sleep(50);
            deliveries = daemon.audit().read(0, 1_000).stream()
                    .map(AuditEntry::event)
                    .filter(e -> e.action().equals("delivery"))
                    .toList();
        }
        assertThat(deliveries)
                .singleElement()
                .satisfies(e -> assertThat(e.details()).containsEntry("withheld", "an AWS access key id"));
    }

    @Test
    void aDeniedBashCommandNeverRunsAndTheResultNamesTheRuleUntilThePolicyChanges() throws Exception {
        startDaemon("tools:\n  bash:\n    deny: [\"*touch pwned*\"]\n");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"touch pwned && echo made it\"}"),
                Scripted.text("It was refused."),
                Scripted.toolCall("bash", "{\"command\":\"touch pwned && echo made it\"}"),
                Scripted.text("Now it ran."));

        ControlEvent.Reply refused = ask("make the file");

        assertThat(refused.failed()).as(refused.text()).isFalse();
        assertThat(refused.text()).isEqualTo("It was refused.");
        assertThat(workspace.resolve("pwned")).doesNotExist();
        assertThat(lastToolResult())
                .contains("tools.bash.deny[0] \"*touch pwned*\"")
                .contains("policy.yaml")
                .doesNotContain("made it");

        // The operator lifts the rule: the next turn runs the same command.
        Files.writeString(policy, "tools:\n  bash: {default: allow}\n");
        ControlEvent.Reply allowed = ask("try again");

        assertThat(allowed.text()).isEqualTo("Now it ran.");
        assertThat(workspace.resolve("pwned")).exists();
        assertThat(lastToolResult()).contains("made it");
    }

    @Test
    void anInvalidEditOfTheToolRulesKeepsTheLastValidRulesInForce() throws Exception {
        startDaemon("tools:\n  write: {deny: [\"*.secret\"]}\n");
        model.enqueue(
                Scripted.text("first"),
                Scripted.toolCall("write", "{\"path\":\"a.secret\",\"content\":\"x\"}"),
                Scripted.text("second"));
        assertThat(ask("one").text()).isEqualTo("first");

        Files.writeString(policy, "tools:\n  write: {deny: \"*.secret\"}\n"); // a string, not a list
        ControlEvent.Reply reply = ask("two");

        assertThat(reply.failed()).as(reply.text()).isFalse();
        assertThat(reply.text()).isEqualTo("second");
        assertThat(workspace.resolve("a.secret")).doesNotExist();
        assertThat(lastToolResult()).contains("tools.write.deny[0] \"*.secret\"");
        assertThat(daemon.audit().read(0, 1_000).stream()
                        .map(AuditEntry::event)
                        .filter(e -> e.action().equals("policy.change"))
                        .map(e -> e.decision().label() + " " + e.reason()))
                .containsExactly(
                        "allow null",
                        "deny " + policy + ":2:11: tools.write.deny: must be a list of patterns, got '*.secret'");
    }

    @Test
    void anAskNobodyAnswersExpiresAsADenialAndTheToolDoesNotRun() throws Exception {
        Files.writeString(home.resolve("cordon.yaml"), "approvals:\n  timeout_seconds: 2\n");
        startDaemon("tools:\n  \"*\": ask\n");
        model.enqueue(
                Scripted.toolCall("write", "{\"path\":\"asked.txt\",\"content\":\"x\"}"),
                Scripted.text("Not approved, so I stopped."));

        ControlEvent.Reply reply = ask("write the file");

        assertThat(reply.text()).isEqualTo("Not approved, so I stopped.");
        assertThat(workspace.resolve("asked.txt")).doesNotExist();
        assertThat(lastToolResult())
                .contains("Not approved")
                .contains("tools.\"*\".default")
                .contains("expired");
    }

    @Test
    void aConfiguredModelThePolicyDoesNotListFailsTheTurnBeforeAnySandboxStarts() throws Exception {
        startDaemon("models: [claude-other]\n");

        ControlEvent.Reply reply = ask("hello");

        assertThat(reply.failed()).isTrue();
        assertThat(reply.text())
                .contains("The configured model 'claude-test' is not in agent main's policy (models: claude-other)");
        assertThat(model.requests()).isEmpty();
        List<String> actions = daemon.audit().read(0, 1_000).stream()
                .map(AuditEntry::event)
                .map(e -> e.action())
                .toList();
        assertThat(actions).doesNotContain("sandbox.start");
    }
}
