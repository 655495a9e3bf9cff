package dev.cordon.core.channel;

/** Transient progress of a turn, for channels that can show it. */
public sealed interface LiveEvent {
    record Text(String text) implements LiveEvent {}

    /** Text shown since the last reply or reset is void (the model stream restarted). */
    record Reset(String reason) implements LiveEvent {}

    /** Word from the host about the conversation, not from the agent ("queued: ..."). */
    record Notice(String text) implements LiveEvent {}
}
