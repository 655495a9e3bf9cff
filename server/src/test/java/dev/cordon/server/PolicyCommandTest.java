package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.store.Store;
import dev.cordon.store.Stores;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cordon policy check | schema | explain} against a real home: versions are kept by a real
 * {@link Policies} (with a real SQLite audit log), exactly as the daemon keeps them.
 */
class PolicyCommandTest {
    private static final String EMPTY_SHA256_PREFIX = "e3b0c44298fc1c14";
    private static final Map<String, String> NO_ENV = Map.of("CORDON_MODEL", "claude-test", "ANTHROPIC_API_KEY", "k");

    @TempDir
    Path homeDir;

    private Home home;
    private Store store;
    private AuditLog audit;
    private Policies policies;
    private Agent main;
    private Path policy;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void open() throws Exception {
        home = new Home(homeDir);
        home.create();
        Files.writeString(homeDir.resolve("cordon.yaml"), "sandbox:\n  pids: 300\n");
        store = Stores.sqlite(home.database());
        audit = AuditLogs.open(store.audit(), home.auditKey());
        Config config = Config.load(homeDir, NO_ENV);
        policies = new Policies(home, () -> AgentPolicy.Defaults.of(config), audit, Clock.systemUTC());
        main = store.ensureAgent(new AgentName("main"));
        Files.createDirectories(home.agent(main.name()));
        policy = home.agent(main.name()).resolve("policy.yaml");
    }

    @AfterEach
    void close() {
        audit.close();
        store.close();
    }

    @Test
    void checkNamesLineColumnAndFieldOfAnError() throws Exception {
        Path bad = Files.writeString(homeDir.resolve("bad.yaml"), "tools:\n  bash:\n    deny: [\"rm *\", 3]\n");

        assertThat(run("check", bad.toString())).isEqualTo(1);

        assertThat(stdout()).isEqualTo(bad + ":3:20: tools.bash.deny[1]: must be a non-empty pattern string, got 3\n");
        assertThat(homeDir.resolve("policies")).doesNotExist();
    }

    @Test
    void checkSummarisesEverySectionOfAValidFile() throws Exception {
        Path good = Files.writeString(
                homeDir.resolve("good.yaml"),
                "tools: {bash: ask}\nmodels: [claude-test]\nbudget: {daily_usd: 5, daily_tokens: 100000}\n"
                        + "capabilities: {schedule_tasks: true}\n");

        assertThat(run("check", good.toString())).isZero();

        assertThat(stdout())
                .contains("valid")
                .contains("pids 300")
                .contains("tool rules for bash")
                .contains("models: claude-test")
                .contains("budget: $5.00 a day, 100,000 tokens a day")
                .contains("capabilities granted: schedule_tasks");
    }

    @Test
    void schemaPrintsThePublishedSchema() {
        assertThat(run("schema")).isZero();

        assertThat(stdout())
                .isEqualTo(PolicyCommand.schemaText())
                .contains("\"$schema\": \"https://json-schema.org/draft/2020-12/schema\"");
    }

    @Test
    void explainWithoutAFileShowsTheDefaultsAndWhereEachCameFrom() {
        assertThat(run("explain", "main")).isZero();

        assertThat(stdout())
                .contains("No policy file")
                .containsPattern("sandbox.pids +300 +cordon.yaml")
                .containsPattern("sandbox.tool_timeout_seconds +900 +built-in default")
                .containsPattern("sandbox.idle_timeout_seconds +600 +built-in default")
                .containsPattern("tools +every tool call allowed")
                .containsPattern("models +claude-test +cordon.yaml")
                .containsPattern("budget.daily_usd +no limit +built-in default")
                .containsPattern("dlp.requests +block +built-in default")
                .containsPattern("dlp.replies +redact +built-in default")
                .containsPattern("capabilities.create_agents +false +built-in default")
                .containsPattern("destinations +none \\(only the current chat\\) +built-in default")
                .containsPattern("shares +none +data/shares.json");
    }

    @Test
    void explainShowsTheVersionInForceAndTheLineOfEveryValue() throws Exception {
        Files.writeString(policy, """
                sandbox:
                  memory_mb: 512
                  backend: podman
                  image: localhost/tools:1
                tools:
                  bash:
                    default: ask
                    deny: ["*rm -rf*"]
                  write: deny
                models: [claude-test, claude-small]
                budget:
                  monthly_usd: 12.5
                destinations:
                  ops: {channel: irc, chat: "#ops"}
                """);
        policies.current(main);
        new Shares(home)
                .add(
                        new AgentName("sales"),
                        "reports",
                        new AgentName("main"),
                        "terminal:owner",
                        java.time.Instant.EPOCH);

        assertThat(run("explain", "main")).isZero();

        assertThat(stdout())
                .contains("In force: version 1 (sha256 ")
                .containsPattern("sandbox.memory_mb +512 +policy.yaml:2")
                .containsPattern("sandbox.pids +300 +cordon.yaml")
                .containsPattern("sandbox.image +localhost/tools:1 \\(podman; never pulled\\) +policy.yaml:4")
                .containsPattern("tools.bash.default +ask +policy.yaml:7")
                .containsPattern("tools.bash.deny\\[0\\] +\"\\*rm -rf\\*\" +policy.yaml:8")
                .containsPattern("tools.write +deny +policy.yaml:9")
                .containsPattern("models +claude-test, claude-small +policy.yaml:10")
                .containsPattern("budget.monthly_usd +\\$12.50 +policy.yaml:12")
                .containsPattern("budget.warn_percent +80% +built-in default")
                .containsPattern("destinations.ops +chat irc:#ops +policy.yaml:14")
                .containsPattern("/shared/sales/reports +sales's reports +data/shares.json \\(by terminal:owner\\)");
    }

    @Test
    void explainSaysWhenTheFileIsInvalidAndAnOlderVersionIsInForce() throws Exception {
        Files.writeString(policy, "sandbox:\n  memory_mb: 512\n");
        policies.current(main);
        Files.writeString(policy, "sandbox:\n  memory_mb: 256\n");
        policies.current(main);
        Files.writeString(policy, "# edited\nsandbox:\n  memory_mb: lots\n");
        policies.current(main);

        assertThat(run("explain", "main")).isZero();

        assertThat(stdout())
                .contains("is invalid and NOT in force")
                .contains(policy + ":3:3: sandbox.memory_mb: must be a whole number")
                .contains("In force instead: the last valid version, version 2 (sha256 ")
                .containsPattern("sandbox.memory_mb +256 +2-[0-9a-f]{16}\\.yaml:2");
        List<String> changes = audit.read(0, 100).stream()
                .map(AuditEntry::event)
                .filter(e -> e.action().equals("policy.change"))
                .map(e -> e.decision().label())
                .toList();
        assertThat(changes).containsExactly("allow", "allow", "deny");
    }

    @Test
    void aFileCaughtHalfWrittenIsNotTakenForAVersion() throws Exception {
        Files.writeString(policy, "sandbox:\n  memory_mb: 512\n");
        policies.current(main);
        // An editor saving in place: the file is truncated, and written a moment later.
        Files.writeString(policy, "");
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(100);
                Files.writeString(policy, "sandbox:\n  memory_mb: 256\n");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        AgentPolicy.Policy inForce = policies.current(main);
        writer.join();

        assertThat(inForce.sandbox().limits().memoryBytes()).isEqualTo(256L << 20);
        try (var kept = Files.list(homeDir.resolve("policies/main"))) {
            assertThat(kept.map(p -> p.getFileName().toString()).sorted().toList())
                    .hasSize(2)
                    .noneMatch(name -> name.contains(EMPTY_SHA256_PREFIX));
        }
    }

    @Test
    void explainSaysTheAgentFailsClosedWhenNoVersionWasEverValid() throws Exception {
        Files.writeString(policy, "sandbox: {pids: many}\n");

        assertThat(run("explain", "main")).isEqualTo(1);

        assertThat(stdout()).contains("NOT in force").contains("fails closed").doesNotContain("sandbox.pids ");
    }

    @Test
    void explainOfAValidFileNotYetAppliedSaysSo() throws Exception {
        Files.writeString(policy, "sandbox:\n  pids: 50\n");

        assertThat(run("explain", "main")).isZero();

        assertThat(stdout())
                .contains("the daemon keeps it as a new version")
                .containsPattern("sandbox.pids +50 +policy.yaml:2");
    }

    @Test
    void explainOfAnUnknownAgentAndBadUsageFail() {
        assertThat(run("explain", "nobody")).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("no agent named 'nobody'");
        assertThat(run("explain")).isEqualTo(2);
        assertThat(run("frobnicate")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("cordon policy explain AGENT");
    }

    private int run(String... args) {
        return PolicyCommand.run(
                homeDir,
                NO_ENV,
                List.of(args),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }
}
