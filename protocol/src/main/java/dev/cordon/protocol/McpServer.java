package dev.cordon.protocol;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An MCP server the agent's policy gives it, offered to the model as {@code mcp__<name>__<tool>}:
 * either a stdio server the runner starts inside the sandbox ({@code command}), or a Streamable HTTP
 * server the runner reaches at {@code url} through the sandbox's egress proxy.
 *
 * @param command the program and its arguments; empty for an HTTP server
 * @param env added to a stdio server's environment (the sandbox's own environment is the base)
 * @param url an {@code http} or {@code https} URL; null for a stdio server
 */
public record McpServer(String name, List<String> command, Map<String, String> env, String url) {
    public McpServer {
        Objects.requireNonNull(name, "name");
        command = command == null ? List.of() : List.copyOf(command);
        if (command.isEmpty() == (url == null)) {
            throw new IllegalArgumentException("MCP server " + name + " needs exactly one of a command and a url");
        }
        env = env == null ? Map.of() : Map.copyOf(env);
    }

    /** A stdio server. */
    public McpServer(String name, List<String> command, Map<String, String> env) {
        this(name, command, env, null);
    }

    /** A Streamable HTTP server. */
    public static McpServer http(String name, String url) {
        return new McpServer(name, List.of(), Map.of(), Objects.requireNonNull(url, "url"));
    }

    /** The name the model calls a tool of this server by. */
    public String toolName(String tool) {
        return "mcp__" + name + "__" + tool;
    }
}
