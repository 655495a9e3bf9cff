package dev.cordon.runner.tools;

import dev.cordon.runner.model.ToolSpec;
import tools.jackson.databind.JsonNode;

/**
 * A tool the model can call, run inside the sandbox.
 *
 * <p>Contract for every implementation: {@link #run} is safe to call from several threads at once
 * (the model may issue parallel tool calls), it blocks until the work is done, and it never throws
 * for bad input — missing, mistyped or invalid arguments come back as an {@linkplain
 * ToolOutput#isError() error output} naming the argument and the reason, as do expected failures
 * such as a missing file. Only bugs surface as exceptions.
 *
 * <p>Tool-level checks are guardrails and error quality, not security: the sandbox decides what is
 * visible and writable.
 */
public interface Tool {
    /** What the model sees: name, description (including limits) and input schema. */
    ToolSpec spec();

    /**
     * Runs the tool once. Blocks; if the calling thread is interrupted the tool stops its work
     * (killing any process it started), keeps the interrupt flag set and returns an error output.
     *
     * @param input the model's arguments, normally a JSON object; anything else gives an error output
     */
    ToolOutput run(JsonNode input);

    /**
     * Whether the host applies the agent's tool rules to this tool (a tool with an effect outside the
     * sandbox): the runner then does not ask a person itself for an {@code ask} rule, the host does.
     */
    default boolean rulesAppliedByHost() {
        return false;
    }
}
