package dev.cordon.runner.model;

import dev.cordon.protocol.ChatMessage;
import java.util.List;
import java.util.Objects;

/**
 * One request to a model: the system prompt, the conversation (ending with a user message or tool
 * results), the tools on offer and the output cap.
 */
public record ModelCall(String model, String system, List<ChatMessage> messages, List<ToolSpec> tools, int maxTokens) {
    public ModelCall {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(system, "system");
        messages = List.copyOf(messages);
        tools = List.copyOf(tools);
    }
}
