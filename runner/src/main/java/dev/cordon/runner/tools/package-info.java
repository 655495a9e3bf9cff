/**
 * The runner's built-in tools: {@code bash}, {@code read}, {@code write}, {@code edit},
 * {@code glob} and {@code grep}, created by {@link dev.cordon.runner.tools.Tools#builtins}.
 *
 * <p>These run inside the sandbox, whose mounts and namespaces are the security boundary. Checks
 * here exist for error quality (a model that sends a bad argument is told which one and why) and as
 * guardrails, never as containment: absolute paths are allowed and the sandbox decides what they
 * reach. When you add a tool, declare its input with {@code InputSchema} so the schema the model
 * sees and the checks it gets cannot drift apart.
 */
package dev.cordon.runner.tools;
