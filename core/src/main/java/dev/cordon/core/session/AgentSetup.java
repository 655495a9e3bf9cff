package dev.cordon.core.session;

import dev.cordon.protocol.ModelSettings;

/**
 * What a turn of an agent needs from the host's configuration. Exactly one of {@code model} and
 * {@code modelProblem} is null.
 */
public record AgentSetup(String systemPrompt, ModelSettings model, String modelProblem) {}
