package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.budget.Budget;
import dev.cordon.core.dlp.DlpAction;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.session.Batching;
import dev.cordon.protocol.ToolRules;
import dev.cordon.protocol.ToolRules.Action;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The strict policy parser: what it puts in force, and errors that say file:line:column, field and reason. */
class AgentPolicyTest {
    private static final AgentPolicy.Defaults DEFAULTS =
            new AgentPolicy.Defaults(new Limits(256L << 20, 128, 1000), 0, Duration.ofMinutes(15));

    private static final String FULL = """
            sandbox:
              memory_mb: 512
              tool_timeout_seconds: 60
            tools:
              "*": {default: ask}
              bash:
                default: allow
                deny:
                  - "rm -rf *"
                  - "*sudo*"
              write: deny
            models: [claude-a, claude-b]
            capabilities:
              schedule_tasks: true
            budget:
              daily_usd: 2.5
              monthly_usd: 40
              chat_daily_usd: 0.000001
              daily_tokens: 1000000
              warn_percent: 90
            dlp:
              replies: block
            turns:
              max_batch: 1
              gather_ms: 250
              compact_at_tokens: 50000
            """;

    @Test
    void anIdleTimeoutInThePolicyOverridesTheHostsAndZeroIsRefusedWithWhere() {
        assertThat(AgentPolicy.parse("policy.yaml", "sandbox:\n  idle_timeout_seconds: 30\n", DEFAULTS)
                        .sandbox()
                        .idleTimeout())
                .isEqualTo(Duration.ofSeconds(30));
        assertThatThrownBy(() -> AgentPolicy.parse("policy.yaml", "sandbox:\n  idle_timeout_seconds: 0\n", DEFAULTS))
                .hasMessageContaining("policy.yaml:2")
                .hasMessageContaining("sandbox.idle_timeout_seconds")
                .hasMessageContaining("must be at least 1");
    }

    @Test
    void aFullPolicyPutsEverySectionInForceAndDefaultsFillTheGaps() {
        AgentPolicy.Policy p = AgentPolicy.parse("policy.yaml", FULL, DEFAULTS);

        assertThat(p.sandbox().limits()).isEqualTo(new Limits(512L << 20, 128, 1000));
        assertThat(p.sandbox().toolTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(p.sandbox().idleTimeout()).isEqualTo(Duration.ofMinutes(10)); // cordon.yaml's
        assertThat(p.tools().tools())
                .containsEntry(ToolRules.ANY, new ToolRules.Tool(Action.ASK, null, null, null))
                .containsEntry("bash", new ToolRules.Tool(Action.ALLOW, null, null, List.of("rm -rf *", "*sudo*")))
                .containsEntry("write", new ToolRules.Tool(Action.DENY, null, null, null));
        assertThat(p.models()).containsExactly("claude-a", "claude-b");
        assertThat(p.capabilities()).isEqualTo(new AgentPolicy.Capabilities(true, false, false));
        assertThat(p.budget()).isEqualTo(new Budget(2_500_000, 40_000_000, 1, 1_000_000, 90));
        assertThat(p.dlp()).isEqualTo(new AgentPolicy.Dlp(DlpAction.BLOCK, DlpAction.BLOCK));
        assertThat(p.turns()).isEqualTo(new AgentPolicy.Turns(new Batching(1, Duration.ofMillis(250)), 50_000));
        assertThat(p.sources().lines())
                .containsEntry("sandbox.memory_mb", 2)
                .containsEntry("tools.bash.deny[1]", 10)
                .containsEntry("models", 12);
    }

    @Test
    void destinationsNameChatsAndAgentsAndTheOldSendToSaysWhatReplacedIt() {
        AgentPolicy.Policy p = AgentPolicy.parse(
                "policy.yaml",
                "destinations:\n  ops: {channel: irc, chat: \"#ops\"}\n  sales: {agent: sales}\n",
                DEFAULTS);
        assertThat(p.destinations())
                .containsExactly(
                        java.util.Map.entry("ops", new dev.cordon.core.message.Destination.Chat("irc", "#ops")),
                        java.util.Map.entry(
                                "sales",
                                new dev.cordon.core.message.Destination.Agent(new dev.cordon.core.AgentName("sales"))));
        assertThat(AgentPolicy.none(DEFAULTS).destinations()).isEmpty();

        assertThatThrownBy(() -> AgentPolicy.parse("policy.yaml", "capabilities:\n  send_to: [ops]\n", DEFAULTS))
                .hasMessageStartingWith("policy.yaml:2:3: capabilities.send_to: replaced by the destinations section");
        assertThatThrownBy(() -> AgentPolicy.parse("policy.yaml", "destinations:\n  ops: {channel: irc}\n", DEFAULTS))
                .hasMessage("policy.yaml:2:3: destinations.ops: needs {agent: NAME} or both channel and chat");
        assertThatThrownBy(() -> AgentPolicy.parse("policy.yaml", "destinations:\n  ops: {agent: Sales}\n", DEFAULTS))
                .hasMessageStartingWith("policy.yaml:2:9: destinations.ops.agent: invalid agent name 'Sales'");
    }

    @Test
    void noFileOrAnEmptyOneMeansTheDefaultsAndNothingElse() {
        AgentPolicy.Policy p = AgentPolicy.parse("policy.yaml", "# nothing yet\n", DEFAULTS);

        assertThat(p).isEqualTo(AgentPolicy.none(DEFAULTS));
        assertThat(p.tools().allowsEverything()).isTrue();
        assertThat(p.capabilities()).isEqualTo(AgentPolicy.Capabilities.NONE);
        assertThat(p.budget()).isEqualTo(Budget.NONE);
        assertThat(p.dlp()).isEqualTo(new AgentPolicy.Dlp(DlpAction.BLOCK, DlpAction.REDACT));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            sandbox:\\n  pids: 10\\n  memory_mb: lots\\n               | p.yaml:3:3: sandbox.memory_mb: must be a whole number from 0 to 1048576, got 'lots'
            sandbox:\\n  memory_mb: 2\\n                               | p.yaml:2:3: sandbox.memory_mb: must be 0 (unlimited) or at least 4, got 2
            tools:\\n  bash:\\n    deny: [a, b, 7]\\n                  | p.yaml:3:18: tools.bash.deny[2]: must be a non-empty pattern string, got 7
            tools:\\n  bash:\\n    deny:\\n      - a\\n      - ''\\n | p.yaml:5:9: tools.bash.deny[1]: must be a non-empty pattern string, got ''
            tools:\\n  python: allow\\n                              | p.yaml:2:3: tools.python: unknown field (known here: \"*\", ask_user, bash, cancel_task, create_agent, edit, glob, grep, list_tasks, read, remember, schedule_task, send_file, send_message, skill, web_fetch, write)
            tools:\\n  '*': {deny: [x]}\\n                           | p.yaml:2:9: tools.\"*\".deny: unknown field (known here: default)
            tools:\\n  remember: {allow: [x]}\\n                     | p.yaml:2:14: tools.remember.allow: unknown field (known here: default)
            tools:\\n  read: {default: sometimes}\\n                    | p.yaml:2:10: tools.read.default: must be allow, ask or deny, got 'sometimes'
            sandbox:\\n  mounts:\\n    - {host: /a}\\n                  | p.yaml:3:7: sandbox.mounts[0]: needs both host and target
            models: [a, b, a]\\n                                       | p.yaml:1:16: models[2]: 'a' is listed twice
            capabilities:\\n  create_agents: maybe\\n               | p.yaml:2:3: capabilities.create_agents: must be true or false, got 'maybe'
            sandbox:\\n  pids: 1\\n  pids: 2\\n                         | p.yaml:3:3: sandbox.pids: duplicate key (first at line 2)
            tool: {}\\n                                                | p.yaml:1:1: tool: unknown field (known here: budget, capabilities, destinations, dlp, egress, mcp, models, sandbox, tools, turns)
            budget:\\n  daily_usd: five\\n                          | p.yaml:2:3: budget.daily_usd: must be an amount of US dollars from 0 (no limit) to 1000000, got 'five'
            budget:\\n  daily_tokens: 2.5\\n                        | p.yaml:2:3: budget.daily_tokens: must be a whole number from 0 to 1125899906842624, got 2.5
            budget:\\n  warn_percent: 0\\n                          | p.yaml:2:3: budget.warn_percent: must be from 1 to 100, got 0
            dlp:\\n  requests: allow\\n                             | p.yaml:2:3: dlp.requests: must be block or redact, got 'allow'
            turns:\\n  max_batch: 0\\n                          | p.yaml:2:3: turns.max_batch: must be from 1 to 500, got 0
            turns:\\n  gather_ms: 90000\\n                      | p.yaml:2:3: turns.gather_ms: must be a whole number from 0 to 60000, got 90000
            turns:\\n  compact_at_tokens: 10\\n                 | p.yaml:2:3: turns.compact_at_tokens: must be 0 (never) or at least 1000, got 10
            mcp:\\n  Files: {command: [x]}\\n                       | p.yaml:2:3: mcp.Files: 'Files' is not a server name (lower case letters, digits and dashes, at most 32)
            mcp:\\n  files: {env: {A: b}}\\n                       | p.yaml:2:3: mcp.files: needs a command (a list: the program, then its arguments) or a url (an HTTP server)
            mcp:\\n  files: {command: [x, '']}\\n                  | p.yaml:2:24: mcp.files.command[1]: must be a non-empty string, got ''
            mcp:\\n  files: {command: [x], env: {A: 1}}\\n          | p.yaml:2:31: mcp.files.env.A: must be a string, got 1
            budget:\\n  weekly_usd: 1\\n                            | p.yaml:2:3: budget.weekly_usd: unknown field (known here: chat_daily_usd, daily_tokens, daily_usd, monthly_usd, warn_percent)
            egress:\\n  allow:\\n    - {host: 'exa mple.com'}\\n     | p.yaml:3:8: egress.allow[0].host: 'exa mple.com' is not a host name, '*.' followed by a domain, an IP address or a CIDR range
            egress:\\n  deny:\\n    - {host: a.com, port: 0}\\n      | p.yaml:3:21: egress.deny[0].port: must be a port from 1 to 65535 or '*', got 0
            egress:\\n  allow: [{port: 443}]\\n                    | p.yaml:2:11: egress.allow[0]: needs a host
            egress:\\n  secrets: [github_token]\\n                 | p.yaml:2:13: egress.secrets[0]: 'github_token' is not a secret name (upper case letters, digits and underscores, like GITHUB_TOKEN)
            """)
    void everyErrorNamesFileLineColumnFieldPathAndReason(String yaml, String expected) {
        assertThatThrownBy(() -> AgentPolicy.parse("p.yaml", yaml.replace("\\n", "\n"), DEFAULTS))
                .isInstanceOf(SandboxException.class)
                .hasMessage(expected.replace("\\\"", "\""));
    }

    @Test
    void everyWrongSectionIsNamedAtOnceInTheFilesOrderEachByItsFirstError() {
        String yaml = """
                tools:
                  bash: maybe
                sandbox:
                  memory_mb: lots
                  pids: -1
                colour: blue
                egress:
                  allow:
                    - {host: 'exa mple.com', port: 99999}
                """;
        assertThatThrownBy(() -> AgentPolicy.parse("p.yaml", yaml, DEFAULTS))
                .isInstanceOf(SandboxException.class)
                .hasMessage(String.join(
                        "\n",
                        "p.yaml:2:3: tools.bash: must be allow, ask or deny, got 'maybe'",
                        "p.yaml:4:3: sandbox.memory_mb: must be a whole number from 0 to 1048576, got 'lots'",
                        "p.yaml:6:1: colour: unknown field (known here: budget, capabilities, destinations, dlp,"
                                + " egress, mcp, models, sandbox, tools, turns)",
                        // Its bad host is not named: the section stopped at its first error.
                        "p.yaml:9:30: egress.allow[0].port: must be a port from 1 to 65535 or '*', got 99999"));
    }

    @Test
    void aYamlSyntaxErrorNamesItsLine() {
        assertThatThrownBy(() -> AgentPolicy.parse("p.yaml", "sandbox:\n  pids: 1\n   - broken: [\n", DEFAULTS))
                .isInstanceOf(SandboxException.class)
                .hasMessageStartingWith("p.yaml:3:")
                .hasMessageContaining("not valid YAML");
    }
}
