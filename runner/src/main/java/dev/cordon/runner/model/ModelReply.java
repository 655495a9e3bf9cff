package dev.cordon.runner.model;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Usage;

/** A complete assistant message (text and tool calls), why it stopped, and what it cost. */
public record ModelReply(ChatMessage message, StopReason stopReason, Usage usage) {}
