package dev.cordon.runner.tools;

import dev.cordon.protocol.Wire;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/** The built-in tools over a temporary workspace, called the way the agent loop calls them. */
final class ToolHarness {
    final Path workspace;
    final List<Tool> tools;

    ToolHarness(Path workspace) {
        this(ToolConfig.defaults(workspace));
    }

    ToolHarness(ToolConfig config) {
        this.workspace = config.workspace();
        this.tools = Tools.builtins(config);
    }

    static ToolHarness withLimit(Path workspace, int outputLimitChars) {
        return new ToolHarness(
                new ToolConfig(workspace, Duration.ofMinutes(2), Duration.ofMinutes(10), outputLimitChars));
    }

    Tool tool(String name) {
        return tools.stream()
                .filter(t -> t.spec().name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    /** Runs {@code name} with alternating argument names and values. */
    ToolOutput run(String name, Object... namesAndValues) {
        return tool(name).run(args(namesAndValues));
    }

    static JsonNode args(Object... namesAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return Wire.mapper().valueToTree(map);
    }

    static JsonNode json(String text) {
        return Wire.mapper().readTree(text);
    }
}
