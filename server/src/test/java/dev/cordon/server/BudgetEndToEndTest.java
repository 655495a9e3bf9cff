package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.Usage;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.Scripted;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Budgets through a real daemon, a real bubblewrap sandbox and the real runner: the model is the
 * scripted fake, which reports the token usage each answer cost. The model {@code claude-test} is
 * priced at $3 / $15 per million input / output tokens in cordon.yaml.
 */
class BudgetEndToEndTest {
    @TempDir
    Path home;

    FakeModelServer model;
    Daemon daemon;

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
        }
        if (model != null) {
            model.close();
        }
    }

    void start(String policy) throws Exception {
        model = FakeModelServer.start();
        Files.createDirectories(home.resolve("agents/main"));
        Files.writeString(home.resolve("agents/main/policy.yaml"), policy);
        Files.writeString(
                home.resolve("cordon.yaml"),
                "model:\n  max_tokens: 1000\nprices:\n  claude-test: {input: 3, output: 15}\n");
        daemon = Daemon.start(
                home,
                Map.of(
                        "ANTHROPIC_API_KEY", "sk-ant-test",
                        "ANTHROPIC_BASE_URL", model.baseUrl().toString(),
                        "CORDON_MODEL", "claude-test"),
                EndToEndTest.RUNNER_LIB);
    }

    @Test
    void anExhaustedBudgetStopsTheNextModelCallTellsTheUserAndTheOwnerAndARaisedOneLetsItThrough() throws Exception {
        start("budget:\n  daily_usd: 0.10\n");
        // 30,000 input and 1,000 output tokens: $0.09 + $0.015 = $0.105, past the whole budget.
        model.enqueue(Scripted.text("first answer").withUsage(new Usage(30_000, 1_000, 0, 0)));

        try (ControlClient owner = new ControlClient(daemon.controlSocket())) {
            ControlEvent.Reply first = owner.ask("main", "hello");
            assertThat(first.failed()).as(first.text()).isFalse();
            assertThat(first.text()).isEqualTo("first answer");

            ControlEvent.Reply second = owner.ask("main", "and again");

            assertThat(second.failed()).isTrue();
            assertThat(second.text())
                    .contains("agent main has used up its daily budget: $0.1050 of $0.10")
                    .contains("resets at 00:00 UTC");
            assertThat(model.requests())
                    .as("the refused call never reached the provider")
                    .hasSize(1);
            assertThat(owner.seen.stream()
                            .filter(ControlEvent.Notice.class::isInstance)
                            .map(e -> ((ControlEvent.Notice) e).message()))
                    .anySatisfy(n -> assertThat(n).contains("has used $0.1050 of its $0.10 daily_usd budget (105%)"))
                    .anySatisfy(n -> assertThat(n).contains("Model calls of agent main are being refused"));
        }

        List<AuditEvent> events =
                daemon.audit().read(0, 10_000).stream().map(AuditEntry::event).toList();
        assertThat(events)
                .filteredOn(e -> e.action().equals("model.call"))
                .extracting(e -> e.decision().label() + " " + e.rule() + " "
                        + e.details().get("cost_micros"))
                .containsExactly("allow null 105000", "deny budget.daily_usd null");
        assertThat(events)
                .filteredOn(e -> e.action().startsWith("budget."))
                .extracting(e -> e.action() + " " + e.rule())
                .containsExactly("budget.warning budget.daily_usd", "budget.exhausted budget.daily_usd");

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = UsageCommand.run(
                home,
                Map.of(),
                List.of(),
                Clock.systemUTC(),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                System.err);
        assertThat(exit).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8))
                .containsPattern("main +1 +30,000 +1,000 +0 +0 +\\$0\\.1050")
                .contains("main: daily_usd $0.1050 of $0.10 (105%, used up)");

        // The owner raises the limit: the next turn's call goes through (policy.yaml is re-read per turn).
        Files.writeString(home.resolve("agents/main/policy.yaml"), "budget:\n  daily_usd: 1\n");
        model.enqueue(Scripted.text("back again"));
        try (ControlClient owner = new ControlClient(daemon.controlSocket())) {
            assertThat(owner.ask("main", "once more").text()).isEqualTo("back again");
        }
    }
}
