package dev.cordon.core.session;

import dev.cordon.protocol.ModelSettings;
import java.time.Duration;

/**
 * What a turn of an agent needs from the host's configuration. Exactly one of {@code model} and
 * {@code problem} is null.
 *
 * @param problem why the agent cannot run a turn now (no model configured, an invalid policy), in
 *     words for the user; the turn fails with it and nothing starts
 * @param toolTimeout the host's own limit on one round of tool calls: if the runner is silent this
 *     long while no model call is in flight, the host kills the sandbox and fails the turn. It backs
 *     the runner's per-tool timeouts, which code inside the sandbox could defeat.
 */
public record AgentSetup(String systemPrompt, ModelSettings model, String problem, Duration toolTimeout) {
    public AgentSetup {
        if (toolTimeout == null || toolTimeout.isNegative() || toolTimeout.isZero()) {
            throw new IllegalArgumentException("toolTimeout must be positive: " + toolTimeout);
        }
    }
}
