package dev.cordon.protocol;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A stdio MCP server the agent's policy gives it: the runner starts {@code command} inside the
 * sandbox and offers the server's tools to the model as {@code mcp__<name>__<tool>}.
 *
 * @param env added to the server's environment (the sandbox's own environment is the base)
 */
public record McpServer(String name, List<String> command, Map<String, String> env) {
    public McpServer {
        Objects.requireNonNull(name, "name");
        command = List.copyOf(command);
        if (command.isEmpty()) {
            throw new IllegalArgumentException("MCP server " + name + " has no command");
        }
        env = env == null ? Map.of() : Map.copyOf(env);
    }

    /** The name the model calls a tool of this server by. */
    public String toolName(String tool) {
        return "mcp__" + name + "__" + tool;
    }
}
