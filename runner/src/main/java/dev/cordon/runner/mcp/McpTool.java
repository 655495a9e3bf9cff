package dev.cordon.runner.mcp;

import dev.cordon.protocol.Wire;
import dev.cordon.runner.model.ToolSpec;
import dev.cordon.runner.tools.Tool;
import dev.cordon.runner.tools.ToolOutput;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.Map;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.JsonNode;

/** One tool of an MCP server, called over its client. Thread-safe (the SDK client is). */
final class McpTool implements Tool {
    private final ToolSpec spec;
    private final String serverTool;
    private final McpSyncClient client;

    McpTool(String name, String serverTool, String description, JsonNode inputSchema, McpSyncClient client) {
        this.spec = new ToolSpec(name, description, inputSchema);
        this.serverTool = serverTool;
        this.client = client;
    }

    @Override
    public ToolSpec spec() {
        return spec;
    }

    @Override
    public ToolOutput run(JsonNode input) {
        if (input == null || !input.isObject()) {
            return ToolOutput.error("The arguments of " + spec.name() + " must be a JSON object.");
        }
        Map<String, Object> arguments = Wire.mapper().convertValue(input, new TypeReference<Map<String, Object>>() {});
        McpSchema.CallToolResult result;
        try {
            result = client.callTool(new McpSchema.CallToolRequest(serverTool, arguments));
        } catch (RuntimeException e) {
            return ToolOutput.error(
                    spec.name() + " failed: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        }
        StringBuilder out = new StringBuilder();
        for (McpSchema.Content content :
                result.content() == null ? java.util.List.<McpSchema.Content>of() : result.content()) {
            if (!out.isEmpty()) {
                out.append('\n');
            }
            out.append(
                    switch (content) {
                        case McpSchema.TextContent text -> text.text();
                        case McpSchema.ImageContent image -> "[image, " + image.mimeType() + "]";
                        case McpSchema.AudioContent audio -> "[audio, " + audio.mimeType() + "]";
                        case McpSchema.ResourceLink link -> "[resource " + link.uri() + "]";
                        case McpSchema.EmbeddedResource resource ->
                            "[resource " + resource.resource().uri() + "]";
                        default -> "[" + content.type() + " content]";
                    });
        }
        if (out.isEmpty() && result.structuredContent() != null) {
            out.append(Wire.mapper().valueToTree(result.structuredContent()).toString());
        }
        return Boolean.TRUE.equals(result.isError()) ? ToolOutput.error(out.toString()) : ToolOutput.ok(out.toString());
    }
}
