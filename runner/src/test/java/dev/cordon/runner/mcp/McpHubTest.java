package dev.cordon.runner.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.McpServer;
import dev.cordon.protocol.Wire;
import dev.cordon.runner.tools.Tool;
import dev.cordon.runner.tools.ToolOutput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real MCP reference server, {@code @modelcontextprotocol/server-everything} from npm (.ci/run
 * installs it), spoken to over stdio.
 */
class McpHubTest {
    static final String EVERYTHING = "mcp-server-everything";
    static final McpServer SERVER = new McpServer("everything", List.of(EVERYTHING, "stdio"), Map.of());

    private final McpHub hub = new McpHub(null);

    @BeforeAll
    static void serverIsInstalled() {
        boolean found = Stream.of(System.getenv("PATH").split(":"))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, EVERYTHING)));
        assertThat(found)
                .as("the MCP reference server is not installed: npm install -g @modelcontextprotocol/server-everything"
                        + " (.ci/run does)")
                .isTrue();
    }

    @AfterEach
    void close() {
        hub.close();
    }

    /** The server processes this JVM started and that still run (waits a little for one to go). */
    private static List<ProcessHandle> servers() throws InterruptedException {
        List<ProcessHandle> alive = List.of();
        for (int i = 0; i < 100; i++) {
            alive = ProcessHandle.current()
                    .descendants()
                    .filter(p ->
                            p.isAlive() && p.info().commandLine().orElse("").contains("server-everything"))
                    .toList();
            if (alive.isEmpty()) {
                break;
            }
            Thread.sleep(50);
        }
        return alive;
    }

    private static Tool named(List<Tool> tools, String name) {
        return tools.stream()
                .filter(t -> t.spec().name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void theServersToolsAreOfferedUnderItsNameAndCallable() {
        McpHub.Turn turn = hub.tools(List.of(SERVER));

        assertThat(turn.note()).isEmpty();
        assertThat(turn.tools())
                .extracting(t -> t.spec().name())
                .contains("mcp__everything__echo", "mcp__everything__get-sum");
        Tool echo = named(turn.tools(), "mcp__everything__echo");
        assertThat(echo.spec().inputSchema().path("properties").has("message")).isTrue();
        ToolOutput out = echo.run(Wire.mapper().readTree("{\"message\":\"hello from the sandbox\"}"));
        assertThat(out.isError()).isFalse();
        assertThat(out.content()).contains("hello from the sandbox");
        ToolOutput sum = named(turn.tools(), "mcp__everything__get-sum")
                .run(Wire.mapper().readTree("{\"a\":2,\"b\":40}"));
        assertThat(sum.content()).contains("42");
    }

    @Test
    void aServerKeepsRunningAcrossTurnsAndGoesWhenThePolicyDropsIt() throws Exception {
        List<Tool> first = hub.tools(List.of(SERVER)).tools();
        List<Tool> second = hub.tools(List.of(SERVER)).tools();
        assertThat(second).isEqualTo(first);

        assertThat(servers()).hasSize(1);

        assertThat(hub.tools(List.of()).tools()).isEmpty();
        assertThat(servers()).as("its process was stopped").isEmpty();
    }

    @Test
    void aServerThatCannotStartIsLeftOutAndTheModelIsToldWhy() {
        McpHub.Turn turn =
                hub.tools(List.of(new McpServer("broken", List.of("/nonexistent/mcp-server"), Map.of()), SERVER));

        assertThat(turn.tools()).extracting(t -> t.spec().name()).allMatch(n -> n.startsWith("mcp__everything__"));
        assertThat(turn.note())
                .contains(
                        "MCP server broken is unavailable: command not found in the sandbox: /nonexistent/mcp-server");
    }

    @Test
    void badArgumentsComeBackAsAnError() {
        Tool sum = named(hub.tools(List.of(SERVER)).tools(), "mcp__everything__get-sum");

        assertThat(sum.run(Wire.mapper().readTree("\"not an object\"")).isError())
                .isTrue();
        assertThat(sum.run(Wire.mapper().readTree("{\"a\":\"two\"}")).isError()).isTrue();
    }
}
