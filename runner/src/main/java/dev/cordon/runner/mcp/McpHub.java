package dev.cordon.runner.mcp;

import dev.cordon.protocol.McpServer;
import dev.cordon.protocol.Wire;
import dev.cordon.runner.tools.Tool;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import tools.jackson.databind.json.JsonMapper;

/**
 * The MCP servers a turn's policy gives the agent (MCP Java SDK): stdio ones started inside this
 * sandbox as child processes, and Streamable HTTP ones reached through the egress proxy. A server starts at the first turn that lists it and keeps
 * running across turns; one whose settings changed is restarted, one no longer listed is stopped.
 * Its tools are offered as {@code mcp__<server>__<tool>}, where the turn's tool rules apply to them
 * like to any tool. A server that cannot start is left out of the turn, and the model is told why.
 * Used by one turn at a time.
 */
public final class McpHub implements AutoCloseable {
    /** How long a server has to start and answer {@code initialize}. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    /** How long one tool call may take. */
    static final Duration CALL_TIMEOUT = Duration.ofMinutes(5);
    /** The providers' limit on tool names. */
    private static final Pattern TOOL_NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    /** A turn's MCP tools, and what the model should know about servers that are missing. */
    public record Turn(List<Tool> tools, String note) {}

    private record Running(McpServer config, McpSyncClient client, List<Tool> tools) {}

    private final Map<String, Running> running = new LinkedHashMap<>();
    private final JacksonMcpJsonMapper json = new JacksonMcpJsonMapper(JsonMapper.shared());
    private final ProxySelector egress;

    /**
     * @param egress the sandbox's egress proxy, the only way HTTP servers are reached (so the host's
     *     egress rules, approvals and audit apply to them); null when the sandbox has none, and then
     *     every HTTP server is unavailable
     */
    public McpHub(ProxySelector egress) {
        this.egress = egress;
    }

    /** Makes the running servers match {@code wanted} and returns their tools. */
    public Turn tools(List<McpServer> wanted) {
        Map<String, McpServer> byName = new LinkedHashMap<>();
        wanted.forEach(s -> byName.put(s.name(), s));
        for (String name : List.copyOf(running.keySet())) {
            Running r = running.get(name);
            if (!r.config().equals(byName.get(name))) {
                stop(running.remove(name));
            }
        }
        List<Tool> tools = new ArrayList<>();
        StringBuilder note = new StringBuilder();
        for (McpServer server : byName.values()) {
            Running r = running.get(server.name());
            if (r == null) {
                try {
                    r = start(server);
                    running.put(server.name(), r);
                } catch (RuntimeException e) {
                    String why = why(e);
                    System.err.println("cordon-runner: MCP server " + server.name() + " did not start: " + why);
                    note.append("\n- MCP server ")
                            .append(server.name())
                            .append(" is unavailable: ")
                            .append(why);
                    continue;
                }
            }
            tools.addAll(r.tools());
        }
        return new Turn(
                tools,
                note.isEmpty()
                        ? ""
                        : "\n\n## Unavailable tools" + note + "\n(the owner can see why in the sandbox log)\n");
    }

    private Running start(McpServer server) {
        McpSyncClient client = McpClient.sync(server.url() == null ? stdio(server) : http(server))
                .clientInfo(new McpSchema.Implementation("cordon-runner", "1"))
                .initializationTimeout(START_TIMEOUT)
                .requestTimeout(CALL_TIMEOUT)
                .build();
        try {
            client.initialize();
            List<Tool> tools = new ArrayList<>();
            String cursor = null;
            do {
                McpSchema.ListToolsResult page = cursor == null ? client.listTools() : client.listTools(cursor);
                for (McpSchema.Tool tool : page.tools()) {
                    String name = server.toolName(tool.name());
                    if (!TOOL_NAME.matcher(name).matches()) {
                        System.err.println("cordon-runner: MCP tool " + name + " left out: not a valid tool name");
                        continue;
                    }
                    tools.add(new McpTool(
                            name,
                            tool.name(),
                            tool.description() == null ? "" : tool.description(),
                            Wire.mapper()
                                    .valueToTree(
                                            tool.inputSchema() == null ? Map.of("type", "object") : tool.inputSchema()),
                            client));
                }
                cursor = page.nextCursor();
            } while (cursor != null && !cursor.isEmpty());
            return new Running(server, client, List.copyOf(tools));
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** The failure and its causes, one after another: the SDK's own message alone rarely says why. */
    private static String why(Throwable e) {
        StringBuilder why = new StringBuilder();
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Throwable t = e; t != null && seen.add(t) && seen.size() <= 5; t = t.getCause()) {
            String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            if (why.indexOf(message) < 0) {
                why.append(why.isEmpty() ? "" : ": ").append(message);
            }
        }
        return why.toString();
    }

    private McpClientTransport stdio(McpServer server) {
        List<String> command = server.command();
        // The SDK would wait out its whole start timeout for a command that does not exist.
        if (!executable(command.getFirst())) {
            throw new IllegalArgumentException("command not found in the sandbox: " + command.getFirst());
        }
        StdioClientTransport transport = new StdioClientTransport(
                ServerParameters.builder(command.getFirst())
                        .args(command.subList(1, command.size()))
                        .env(server.env())
                        .build(),
                json);
        transport.setStdErrorHandler(line -> System.err.println("mcp " + server.name() + ": " + line));
        return transport;
    }

    /**
     * Streamable HTTP (POST JSON-RPC, {@code Mcp-Session-Id}, JSON or SSE answers), always through
     * the egress proxy: the sandbox has no other way out, and the host decides there.
     */
    private McpClientTransport http(McpServer server) {
        if (egress == null) {
            throw new IllegalStateException("this sandbox has no egress proxy, so HTTP MCP servers cannot be reached");
        }
        java.net.URI uri = java.net.URI.create(server.url());
        String base = uri.getScheme() + "://" + uri.getRawAuthority();
        String endpoint = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            endpoint += "?" + uri.getRawQuery();
        }
        return HttpClientStreamableHttpTransport.builder(base)
                .endpoint(endpoint)
                // HTTP/1.1: the egress proxy reads plain HTTP/1.1 requests; an h2c upgrade would not pass.
                .clientBuilder(HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .proxy(egress)
                        .connectTimeout(START_TIMEOUT))
                .jsonMapper(json)
                .openConnectionOnStartup(false)
                .build();
    }

    private static boolean executable(String command) {
        if (command.contains("/")) {
            return Files.isExecutable(Path.of(command));
        }
        String path = System.getenv("PATH");
        return Stream.of((path == null ? "/usr/local/bin:/usr/bin:/bin" : path).split(":"))
                .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, command)));
    }

    private static void stop(Running r) {
        if (r != null) {
            r.client().close();
        }
    }

    @Override
    public void close() {
        running.values().forEach(McpHub::stop);
        running.clear();
    }
}
