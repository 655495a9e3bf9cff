package dev.cordon.runner.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** web_fetch against a real HTTP server on loopback (no proxy here; the end-to-end test goes through one). */
class WebFetchToolTest {
    private HttpServer server;
    private String base;
    /** No proxy: this test talks to its own server directly. */
    private final Tool tool = new WebFetchTool(ProxySelector.of(null), 30_000);

    private void serve(String path, int status, String type, byte[] body) {
        server.createContext(path, exchange -> {
            if (type != null) {
                exchange.getResponseHeaders().add("Content-Type", type);
            }
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
    }

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private ToolOutput fetch(String json) {
        JsonNode input = JsonMapper.shared().readTree(json);
        return tool.run(input);
    }

    @Test
    void htmlBecomesReadableTextWithoutScriptsAndWithLinks() {
        serve("/page", 200, "text/html; charset=utf-8", """
                <html><head><title>Release notes</title><style>p{}</style><script>var secret=1</script></head>
                <body><nav>Home | About</nav><h1>Version 2</h1><p>It is <b>faster</b>.</p>
                <ul><li>One</li><li>Two, see <a href="/docs">the docs</a></li></ul></body></html>
                """.getBytes(StandardCharsets.UTF_8));

        ToolOutput out = fetch("{\"url\":\"" + base + "/page\"}");

        assertThat(out.isError()).isFalse();
        assertThat(out.content())
                .isEqualTo("GET " + base + "/page → 200 (text/html; charset=utf-8)\n\n"
                        + "Title: Release notes\n\n# Version 2\n\nIt is faster.\n\n- One\n- Two, see the docs ("
                        + base + "/docs)");
    }

    @Test
    void plainTextAndJsonComeAsTheyAreAndLongTextIsCut() {
        serve("/data.json", 200, "application/json", "{\"a\": 1}".getBytes(StandardCharsets.UTF_8));
        serve("/long.txt", 200, "text/plain", "x".repeat(5000).getBytes(StandardCharsets.UTF_8));

        assertThat(fetch("{\"url\":\"" + base + "/data.json\"}").content()).endsWith("\n\n{\"a\": 1}");
        assertThat(fetch("{\"url\":\"" + base + "/long.txt\",\"max_chars\":1000}")
                        .content())
                .endsWith("x".repeat(1000) + "\n[cut at 1000 of 5000 characters]");
    }

    @Test
    void binaryIsRefusedAndAnErrorStatusIsAnErrorWithItsBody() {
        serve("/file.zip", 200, "application/zip", new byte[] {1, 2, 3});
        serve("/missing", 404, "text/plain", "no such page".getBytes(StandardCharsets.UTF_8));

        ToolOutput zip = fetch("{\"url\":\"" + base + "/file.zip\"}");
        ToolOutput missing = fetch("{\"url\":\"" + base + "/missing\"}");

        assertThat(zip.isError()).isTrue();
        assertThat(zip.content())
                .contains("application/zip (3 bytes), which is not text")
                .contains("curl");
        assertThat(missing.isError()).isTrue();
        assertThat(missing.content()).contains("→ 404").endsWith("no such page");
    }

    @Test
    void onlyHttpAddressesAreAccepted() {
        assertThat(fetch("{\"url\":\"file:///etc/passwd\"}").content())
                .isEqualTo("Invalid argument 'url': must be an http:// or https:// address with a host, got"
                        + " 'file:///etc/passwd'.");
        assertThat(fetch("{\"url\":\"http://\"}").isError()).isTrue();
        assertThat(fetch("{}").isError()).isTrue();
    }
}
