package dev.cordon.core.session;

import dev.cordon.core.budget.Budget;
import dev.cordon.protocol.McpServer;
import dev.cordon.protocol.ModelSettings;
import dev.cordon.protocol.ToolRules;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * What a turn of an agent needs from the host's configuration and the agent's policy. Exactly one
 * of {@code model} and {@code problem} is null.
 *
 * @param problem why the agent cannot run a turn now (no model configured, an invalid policy), in
 *     words for the user; the turn fails with it and nothing starts
 * @param toolTimeout the host's own limit on one round of tool calls: if the runner is silent this
 *     long while no model call is in flight, the host kills the sandbox and fails the turn. It backs
 *     the runner's per-tool timeouts, which code inside the sandbox could defeat.
 * @param toolRules the agent's in-sandbox tool rules, sent with the turn for the runner to apply
 *     (a guardrail; null means none)
 * @param allowedModels what the model gateway lets this turn's calls use; null means exactly
 *     {@code model}
 * @param budget the agent's spending limits (null: none)
 * @param memoryBytes the memory limit of the agent's sandbox (0: none), what admission control
 *     counts it as
 * @param batching how queued messages become turns (null: {@link Batching#DEFAULT})
 * @param compactAtTokens when the conversation a turn would send is estimated above this many
 *     tokens, its older turns are first summarized by the model (0: never; docs/sessions.md)
 * @param mcpServers the MCP servers its runner starts inside the sandbox (null: none)
 * @param idleTimeout how long the agent's sandbox may sit idle between turns before it hibernates
 *     (null: the host's {@code sandbox.idle_timeout_seconds})
 */
public record AgentSetup(
        String systemPrompt,
        ModelSettings model,
        String problem,
        Duration toolTimeout,
        ToolRules toolRules,
        ModelGateway.Allowed allowedModels,
        Budget budget,
        long memoryBytes,
        Batching batching,
        long compactAtTokens,
        List<McpServer> mcpServers,
        Duration idleTimeout) {
    /** Compaction's threshold unless the policy says otherwise: well inside a 128k-token window. */
    public static final long DEFAULT_COMPACT_AT_TOKENS = 100_000;

    private static final ToolRules NO_TOOLS =
            new ToolRules(java.util.Map.of(ToolRules.ANY, new ToolRules.Tool(ToolRules.Action.DENY, null, null, null)));

    public AgentSetup {
        batching = batching == null ? Batching.DEFAULT : batching;
        mcpServers = mcpServers == null ? List.of() : List.copyOf(mcpServers);
        if (idleTimeout != null && (idleTimeout.isNegative() || idleTimeout.isZero())) {
            throw new IllegalArgumentException("idleTimeout must be positive: " + idleTimeout);
        }
        if (compactAtTokens < 0) {
            throw new IllegalArgumentException("compactAtTokens must not be negative: " + compactAtTokens);
        }
        budget = budget == null ? Budget.NONE : budget;
        if (toolTimeout == null || toolTimeout.isNegative() || toolTimeout.isZero()) {
            throw new IllegalArgumentException("toolTimeout must be positive: " + toolTimeout);
        }
        toolRules = toolRules == null ? ToolRules.NONE : toolRules;
        if (allowedModels == null && model != null) {
            allowedModels =
                    new ModelGateway.Allowed(model.api(), Set.of(model.model()), "the configured model (cordon.yaml)");
        }
    }

    /** A setup without tool rules whose calls may use only {@code model}. */
    public AgentSetup(String systemPrompt, ModelSettings model, String problem, Duration toolTimeout) {
        this(
                systemPrompt,
                model,
                problem,
                toolTimeout,
                ToolRules.NONE,
                null,
                Budget.NONE,
                0,
                Batching.DEFAULT,
                DEFAULT_COMPACT_AT_TOKENS,
                List.of(),
                null);
    }

    /**
     * The same agent asked only to write a summary: {@code systemPrompt}, every tool denied, and no
     * MCP server started for it.
     */
    AgentSetup forCompaction(String systemPrompt) {
        return new AgentSetup(
                systemPrompt,
                model,
                problem,
                toolTimeout,
                NO_TOOLS,
                allowedModels,
                budget,
                memoryBytes,
                batching,
                compactAtTokens,
                List.of(),
                idleTimeout);
    }
}
