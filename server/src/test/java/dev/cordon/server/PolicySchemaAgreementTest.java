package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * The published JSON Schema and the strict parser agree: every policy of a corpus gets the same
 * verdict from a real JSON Schema validator (networknt, draft 2020-12) and from {@link AgentPolicy}.
 * When you add a field to one, add it to the other and a valid and an invalid case here.
 */
class PolicySchemaAgreementTest {
    private static final AgentPolicy.Defaults DEFAULTS =
            new AgentPolicy.Defaults(Limits.DEFAULTS, 0, Duration.ofMinutes(15));
    private static Schema schema;

    @BeforeAll
    static void loadSchema() throws IOException {
        try (InputStream in = Main.class.getResourceAsStream("policy.schema.json")) {
            schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                    .getSchema(in);
        }
    }

    static Stream<String> valid() {
        return Stream.of(
                "",
                "# only a comment\n",
                "sandbox:\n",
                "sandbox: ~\ntools: ~\nmodels: ~\ncapabilities: ~\n",
                "sandbox:\n  memory_mb: 512\n  pids: 256\n  cpu_millicores: 500\n  disk_mb: 2048\n"
                        + "  tool_timeout_seconds: 900\n  write_mounts: true\n"
                        + "  mounts:\n    - {host: /srv/data, target: /mnt/data, mode: rw}\n"
                        + "    - {host: /srv/docs, target: /mnt/docs}\n",
                "sandbox: {memory_mb: 0, pids: 0, cpu_millicores: 0, disk_mb: 0}\n",
                "sandbox: {memory_mb: 4, cpu_millicores: 10, disk_mb: 16, tool_timeout_seconds: 1}\n",
                "sandbox: {memory_mb: 1048576, pids: 4194304, disk_mb: 16777216, tool_timeout_seconds: 86400}\n",
                "sandbox: {idle_timeout_seconds: 1}\n",
                "sandbox: {idle_timeout_seconds: 604800}\n",
                "sandbox: {memory_mb: null, mounts: null, write_mounts: null}\n",
                "sandbox: {backend: runsc}\n",
                "sandbox: {backend: runc, isolation: container}\n",
                "sandbox: {backend: runsc, isolation: gvisor}\n",
                "sandbox: {backend: vm, isolation: vm}\n",
                "sandbox: {backend: podman, image: localhost/agent:1}\n",
                "sandbox: {isolation: vm}\n",
                "sandbox: {backend: null, isolation: null}\n",
                "sandbox:\n  mounts:\n    - {host: /a, target: /b, mode: null}\n",
                "tools:\n  \"*\": {default: deny}\n  bash: {default: ask, allow: [\"git *\", \"ls*\"], ask: [], deny: [\"*rm -rf*\"]}\n"
                        + "  read: allow\n  write: {deny: [\"/etc/**\", \".git/**\"]}\n  edit: ~\n"
                        + "  glob: {default: ~}\n  grep: {allow: ~}\n",
                "tools:\n  \"*\": ask\n",
                "tools: {}\n",
                "models: [claude-sonnet-4-5, gpt-4.1]\n",
                "models: []\n",
                "budget:\n  daily_usd: 5\n  monthly_usd: 50.5\n  chat_daily_usd: 0.25\n  daily_tokens: 2000000\n"
                        + "  warn_percent: 80\n",
                "budget: {daily_usd: 0, warn_percent: 100}\n",
                "budget: {daily_usd: ~, daily_tokens: ~}\n",
                "budget: {}\n",
                "budget: ~\n",
                "dlp: {requests: redact, replies: block}\n",
                "turns: {max_batch: 1, gather_ms: 1500, compact_at_tokens: 0}\n",
                "turns: {compact_at_tokens: 1000}\n",
                "tools: {remember: deny, skill: ask, web_fetch: {default: allow}}\n",
                "tools: {schedule_task: ask, list_tasks: allow, cancel_task: {default: deny}}\n",
                "mcp:\n  everything: {command: [mcp-server-everything, stdio], env: {LOG: warn}}\n",
                "mcp: {files: {command: [node, /usr/lib/x.js]}}\ntools: {mcp__files__read-file: deny}\n",
                "mcp: {}\n",
                "mcp: {docs: {url: \"http://127.0.0.1:3001/mcp\"}, web: {url: \"https://mcp.example.com/v1\"}}\n",
                "dlp: {requests: ~}\n",
                "dlp: {}\n",
                "capabilities:\n  schedule_tasks: true\n  create_agents: false\n  install_mcp: ~\n",
                "destinations:\n  ops: {channel: irc, chat: \"#ops\"}\n  sales: {agent: sales}\n  t1: {channel: terminal,"
                        + " chat: main, agent: ~}\n",
                "destinations: {}\n",
                "destinations: ~\n",
                "tools: {send_message: ask, ask_user: deny}\n",
                "capabilities: {}\n",
                "egress: ~\n",
                "egress:\n  allow:\n    - {host: api.github.com}\n    - {host: \"*.pypi.org\", port: 443}\n"
                        + "    - {host: 10.0.0.0/8, port: \"*\"}\n    - {host: api.example.com, methods: [GET, post],"
                        + " paths: [\"/v1/**\"]}\n  deny:\n    - {host: uploads.github.com}\n  secrets: [GITHUB_TOKEN]\n",
                "egress: {allow: [], deny: ~, secrets: []}\n");
    }

    static Stream<String> invalid() {
        return Stream.of(
                "just a string\n",
                "- a list\n",
                "42\n",
                "sandboxes: {}\n",
                "turns: {max_batch: 0}\n",
                "turns: {compact_at_tokens: 999}\n",
                "turns: {gather_ms: 60001}\n",
                "tools: {remember: {allow: [x]}}\n",
                "tools: {schedule_task: {deny: [x]}}\n",
                "tools: {mcp__x: deny}\n",
                "mcp: {Bad_Name: {command: [x]}}\n",
                "mcp: {s: {command: []}}\n",
                "mcp: {s: {env: {A: b}}}\n",
                "mcp: {s: {command: [x], env: {A: 1}}}\n",
                "mcp: {s: {command: [x], args: [y]}}\n",
                "mcp: {s: {url: \"ftp://example.com/mcp\"}}\n",
                "mcp: {s: {url: \"http://user@example.com/mcp\"}}\n",
                "mcp: {s: {url: \"http://example.com/mcp\", command: [x]}}\n",
                "mcp: {s: {url: \"http://example.com/mcp\", env: {A: b}}}\n",
                "mcp: {s: {url: 3}}\n",
                "mcp: [a]\n",
                "sandbox: []\n",
                "sandbox: {memory: 5}\n",
                "sandbox: {memory_mb: lots}\n",
                "sandbox: {memory_mb: \"512\"}\n",
                "sandbox: {memory_mb: -1}\n",
                "sandbox: {memory_mb: 3}\n",
                "sandbox: {memory_mb: 1048577}\n",
                "sandbox: {memory_mb: 512.5}\n",
                "sandbox: {pids: 4194305}\n",
                "sandbox: {cpu_millicores: 9}\n",
                "sandbox: {disk_mb: 15}\n",
                "sandbox: {tool_timeout_seconds: 0}\n",
                "sandbox: {tool_timeout_seconds: 86401}\n",
                "sandbox: {idle_timeout_seconds: 0}\n",
                "sandbox: {idle_timeout_seconds: 604801}\n",
                "sandbox: {idle_timeout_seconds: \"10m\"}\n",
                "sandbox: {write_mounts: yes}\n",
                "sandbox: {backend: docker}\n",
                "sandbox: {backend: \"\"}\n",
                "sandbox: {isolation: strong}\n",
                "sandbox: {backend: runc, isolation: gvisor}\n",
                "sandbox: {backend: runsc, isolation: vm}\n",
                "sandbox: {image: localhost/agent:1}\n",
                "sandbox: {backend: runc, image: localhost/agent:1}\n",
                "sandbox: {backend: podman, image: --privileged}\n",
                "sandbox: {write_mounts: 1}\n",
                "sandbox: {mounts: {host: /a, target: /b}}\n",
                "sandbox: {mounts: [{host: /a}]}\n",
                "sandbox: {mounts: [{target: /b}]}\n",
                "sandbox: {mounts: [{host: \"\", target: /b}]}\n",
                "sandbox: {mounts: [{host: /a, target: /b, mode: rx}]}\n",
                "sandbox: {mounts: [{host: /a, target: /b, options: x}]}\n",
                "sandbox: {mounts: [~]}\n",
                "sandbox: {mounts: [/a]}\n",
                "tools: []\n",
                "egress: []\n",
                "egress: {allow: {host: a.com}}\n",
                "egress: {allow: [{port: 443}]}\n",
                "egress: {allow: [{host: a.com, port: 0}]}\n",
                "egress: {allow: [{host: a.com, port: \"443\"}]}\n",
                "egress: {allow: [{host: a.com, proto: tcp}]}\n",
                "egress: {allow: [{host: \"exa mple.com\"}]}\n",
                "egress: {deny: [{host: a.com, paths: [admin]}]}\n",
                "egress: {deny: [{host: a.com, methods: [GET, GET]}]}\n",
                "egress: {secrets: [github_token]}\n",
                "egress: {secrets: [A, A]}\n",
                "egress: {proxy: x}\n",
                "tools: {python: allow}\n",
                "tools: {bash: maybe}\n",
                "tools: {bash: [\"ls\"]}\n",
                "tools: {bash: {default: yes}}\n",
                "tools: {bash: {deny: \"rm *\"}}\n",
                "tools: {bash: {deny: [\"\"]}}\n",
                "tools: {bash: {deny: [1]}}\n",
                "tools: {bash: {deny: [~]}}\n",
                "tools: {bash: {block: [\"rm *\"]}}\n",
                "tools: {\"*\": {deny: [\"rm *\"]}}\n",
                "tools: {\"*\": {default: sometimes}}\n",
                "tools: {\"*\": 3}\n",
                "models: claude\n",
                "models: [\"\"]\n",
                "models: [\"  \"]\n",
                "models: [a, a]\n",
                "models: [1]\n",
                "budget: 5\n",
                "budget: {daily_usd: -1}\n",
                "budget: {daily_usd: \"5\"}\n",
                "budget: {daily_usd: 1000001}\n",
                "budget: {daily_tokens: 1.5}\n",
                "budget: {daily_tokens: -3}\n",
                "budget: {warn_percent: 0}\n",
                "budget: {warn_percent: 101}\n",
                "budget: {weekly_usd: 3}\n",
                "dlp: block\n",
                "dlp: {requests: allow}\n",
                "dlp: {replies: true}\n",
                "dlp: {bodies: block}\n",
                "capabilities: {send_to: ops}\n",
                "capabilities: {send_to: [ops]}\n",
                "destinations: [ops]\n",
                "destinations: {Ops: {agent: sales}}\n",
                "destinations: {ops: {agent: Sales}}\n",
                "destinations: {ops: {agent: sales, channel: irc, chat: \"#x\"}}\n",
                "destinations: {ops: {channel: irc}}\n",
                "destinations: {ops: {chat: \"#ops\"}}\n",
                "destinations: {ops: {channel: agent, chat: sales}}\n",
                "destinations: {ops: {channel: irc, chat: \"\"}}\n",
                "destinations: {ops: {channel: irc, chat: \"#ops\", thread: 3}}\n",
                "destinations: {ops: ~}\n",
                "destinations: {ops: {}}\n",
                "tools: {send_message: {default: allow, allow: [\"x\"]}}\n",
                "capabilities: {schedule_tasks: \"true\"}\n",
                "capabilities: {spend: true}\n",
                "capabilities: []\n");
    }

    @ParameterizedTest
    @MethodSource("valid")
    void validPoliciesPassBothTheSchemaAndTheParser(String yaml) {
        assertThat(parserErrors(yaml)).as("parser").isNull();
        assertThat(schemaErrors(yaml)).as("schema").isEmpty();
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void invalidPoliciesFailBothTheSchemaAndTheParser(String yaml) {
        assertThat(parserErrors(yaml)).as("parser").isNotNull();
        assertThat(schemaErrors(yaml)).as("schema").isNotEmpty();
    }

    @Test
    void theSchemaIsAValidDraft202012Schema() throws IOException {
        Schema meta = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(SchemaLocation.of("https://json-schema.org/draft/2020-12/schema"));
        try (InputStream in = Main.class.getResourceAsStream("policy.schema.json")) {
            JsonNode published = new tools.jackson.databind.json.JsonMapper().readTree(in);
            assertThat(meta.validate(published)).isEmpty();
            assertThat(published.get("$schema").asString()).isEqualTo("https://json-schema.org/draft/2020-12/schema");
        }
    }

    @Test
    void theDocumentedExampleIsValid() throws IOException {
        String doc = java.nio.file.Files.readString(java.nio.file.Path.of("../docs/policy.md"), StandardCharsets.UTF_8);
        String example = doc.substring(doc.indexOf("```yaml\n") + 8, doc.indexOf("```", doc.indexOf("```yaml\n") + 8));

        assertThat(parserErrors(example)).isNull();
        assertThat(schemaErrors(example)).isEmpty();
    }

    private static String parserErrors(String yaml) {
        try {
            AgentPolicy.parse("policy.yaml", yaml, DEFAULTS);
            return null;
        } catch (SandboxException e) {
            return e.getMessage();
        }
    }

    private static List<Error> schemaErrors(String yaml) {
        JsonNode root = PolicyYaml.parse("policy.yaml", yaml).root();
        return schema.validate(root == null ? JsonNodeFactory.instance.nullNode() : root);
    }
}
