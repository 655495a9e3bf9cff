package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditActions;
import dev.cordon.testkit.Ports;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A Streamable HTTP MCP server (the real {@code @modelcontextprotocol/server-everything} in its
 * {@code streamableHttp} mode, started by this test on the host's loopback) reached by the runner
 * from inside a real sandbox, only through the egress proxy: with an egress rule its tools work and
 * every connection is audited; with a deny rule the agent gets a clear "unavailable", no tools and
 * no hang.
 */
class McpHttpEndToEndTest extends DaemonTestBase {
    private Process server;
    private int port;

    @BeforeEach
    void startServer() throws Exception {
        port = Ports.free();
        ProcessBuilder builder = new ProcessBuilder("mcp-server-everything", "streamableHttp")
                .directory(home.toFile())
                .redirectErrorStream(true);
        builder.environment().put("PORT", Integer.toString(port));
        server = builder.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> listening = CompletableFuture.supplyAsync(() -> {
            StringBuilder seen = new StringBuilder();
            try {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    seen.append(line).append('\n');
                    if (line.contains("listening on port " + port)) {
                        return seen.toString();
                    }
                }
            } catch (IOException e) {
                seen.append(e);
            }
            throw new IllegalStateException("the MCP server did not start:\n" + seen);
        });
        listening.get(60, TimeUnit.SECONDS);
        // Keep draining its output so that it never blocks on a full pipe.
        Thread.ofVirtual().start(() -> {
            try {
                out.transferTo(java.io.Writer.nullWriter());
            } catch (IOException e) {
                // it stopped
            }
        });
    }

    @AfterEach
    void stopServer() throws InterruptedException {
        server.destroy();
        server.waitFor(10, TimeUnit.SECONDS);
    }

    private String sandboxLogs() throws IOException {
        try (var logs = Files.list(home.resolve("logs/sandboxes"))) {
            StringBuilder all = new StringBuilder();
            for (var log : logs.toList()) {
                all.append(Files.readString(log));
            }
            return all.toString();
        }
    }

    private String policy(String egress) {
        return "mcp:\n  docs: {url: \"http://127.0.0.1:" + port + "/mcp\"}\negress:\n" + egress;
    }

    @Test
    void anHttpServersToolsAreCalledThroughTheEgressProxyWhichAuditsEveryConnection() throws Exception {
        Files.writeString(
                home.resolve("agents/main/policy.yaml"), policy("  allow: [{host: 127.0.0.1, port: " + port + "}]\n"));
        startDaemon();
        model.enqueue(
                Scripted.toolCall("mcp__docs__echo", "{\"message\":\"over HTTP\"}"),
                Scripted.toolCall("mcp__docs__get-sum", "{\"a\":19,\"b\":23}"),
                Scripted.text("Done."));

        assertThat(ask("use the tools")).isEqualTo("Done.");

        List<RecordedRequest> requests = model.requests();
        assertThat(McpEndToEndTest.toolNames(requests.getFirst()))
                .as(requests.getFirst().body().path("system") + "\nsandbox log:\n" + sandboxLogs())
                .contains("mcp__docs__echo", "mcp__docs__get-sum");
        assertThat(EndToEndTest.toolResults(requests.get(1)).getLast())
                .as(
                        "egress: %s %s\nsandbox log: %s",
                        audited(AuditActions.EGRESS_ALLOW), audited(AuditActions.EGRESS_DENY), sandboxLogs())
                .contains("over HTTP");
        assertThat(EndToEndTest.toolResults(requests.get(2)).getLast()).contains("42");
        assertThat(audited(AuditActions.EGRESS_ALLOW))
                .isNotEmpty()
                .allSatisfy(e -> assertThat(e.details().toString()).contains("127.0.0.1"));
    }

    @Test
    void anHttpServerTheEgressPolicyDeniesIsUnavailableWithTheReasonAndOffersNoTools() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), policy("  deny: [{host: 127.0.0.1, port: '*'}]\n"));
        startDaemon();
        model.enqueue(Scripted.text("No docs."));

        assertThat(ask("use the tools")).isEqualTo("No docs.");

        RecordedRequest first = model.requests().getFirst();
        assertThat(McpEndToEndTest.toolNames(first)).noneMatch(n -> n.startsWith("mcp__"));
        assertThat(first.body().path("system").toString()).contains("MCP server docs is unavailable");
        assertThat(audited(AuditActions.EGRESS_DENY)).isNotEmpty();
    }
}
