package dev.cordon.runner.tools;

import java.util.Objects;

/**
 * What a tool call returns to the model.
 *
 * @param content text for the model; never null
 * @param isError whether the call failed (bad arguments, missing file, non-zero exit, timeout)
 */
public record ToolOutput(String content, boolean isError) {
    public ToolOutput {
        Objects.requireNonNull(content, "content");
    }

    public static ToolOutput ok(String content) {
        return new ToolOutput(content, false);
    }

    public static ToolOutput error(String content) {
        return new ToolOutput(content, true);
    }
}
