package dev.cordon.runner.model;

import java.util.Objects;
import tools.jackson.databind.JsonNode;

/** A tool as the model sees it: name, description and a JSON Schema for its input object. */
public record ToolSpec(String name, String description, JsonNode inputSchema) {
    public ToolSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(inputSchema, "inputSchema");
    }
}
