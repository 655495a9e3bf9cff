package dev.cordon.core.channel;

/** Transient progress of a turn, for channels that can show it. */
public sealed interface LiveEvent {
    record Text(String text) implements LiveEvent {}

    /** Text shown since the last reply or reset is void (the model stream restarted). */
    record Reset(String reason) implements LiveEvent {}

    /** Word from the host about the conversation, not from the agent ("queued: ..."). */
    record Notice(String text) implements LiveEvent {}

    /**
     * The agent called a tool: {@code input} is its arguments as JSON (already through the data-loss
     * guard when a channel sees it). The call runs in the sandbox; its result is in the transcript.
     */
    record ToolCall(String tool, String input) implements LiveEvent {}
}
