package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The real MCP reference server ({@code @modelcontextprotocol/server-everything}, installed from npm
 * by .ci/run) started by the runner inside a real sandbox from the agent's policy, its tools called
 * by the (fake) model, and refused when the policy's tool rules deny them.
 */
class McpEndToEndTest extends DaemonTestBase {
    static final String SERVER = "mcp:\n  everything: {command: [mcp-server-everything, stdio]}\n";

    static List<String> toolNames(RecordedRequest request) {
        return request.body()
                .path("tools")
                .valueStream()
                .map(t -> t.path("name").asString())
                .toList();
    }

    @Test
    void theAgentCallsAnMcpServersToolsInsideItsSandbox() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), SERVER);
        startDaemon();
        model.enqueue(
                Scripted.toolCall("mcp__everything__echo", "{\"message\":\"through MCP\"}"),
                Scripted.toolCall("mcp__everything__get-sum", "{\"a\":19,\"b\":23}"),
                Scripted.text("Done."));

        assertThat(ask("use the tools")).isEqualTo("Done.");

        List<RecordedRequest> requests = model.requests();
        assertThat(toolNames(requests.getFirst()))
                // An MCP server that did not start is named, with why, in the system prompt.
                .as(requests.getFirst().body().path("system").toString())
                .contains("bash", "mcp__everything__echo", "mcp__everything__get-sum");
        assertThat(EndToEndTest.toolResults(requests.get(1)).getLast()).contains("through MCP");
        assertThat(EndToEndTest.toolResults(requests.get(2)).getLast()).contains("42");
    }

    @Test
    void aToolTheAgentsPolicyDeniesDoesNotRunAndAnAgentWithoutTheServerHasNoneOfItsTools() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), SERVER + "tools:\n  mcp__everything__echo: deny\n");
        Files.createDirectories(home.resolve("agents/other"));
        startDaemon();
        model.enqueue(
                Scripted.toolCall("mcp__everything__echo", "{\"message\":\"should not run\"}"),
                Scripted.text("Refused."),
                Scripted.text("No MCP here."));

        assertThat(ask("echo something")).isEqualTo("Refused.");
        assertThat(ask("other", "and you?")).isEqualTo("No MCP here.");

        List<RecordedRequest> requests = model.requests();
        assertThat(EndToEndTest.toolResults(requests.get(1)).getLast())
                .contains("Denied by the agent's policy: rule tools.mcp__everything__echo")
                .doesNotContain("should not run");
        assertThat(toolNames(requests.get(2))).noneMatch(n -> n.startsWith("mcp__"));
    }
}
