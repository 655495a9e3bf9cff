package dev.cordon.runner.model;

/** Why the model stopped generating, mapped from each provider's own words. */
public enum StopReason {
    END_TURN,
    TOOL_USE,
    MAX_TOKENS,
    STOP_SEQUENCE,
    REFUSAL,
    OTHER
}
