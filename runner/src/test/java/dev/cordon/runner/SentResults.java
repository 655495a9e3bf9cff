package dev.cordon.runner;

import dev.cordon.protocol.ModelApi;
import dev.cordon.testkit.RecordedRequest;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/** Reads the tool results a runner sent back to the model out of the fake's recorded request. */
final class SentResults {
    /** One tool result as it went over the wire; {@code isError} is inferred on the OpenAI path. */
    record SentResult(String toolUseId, String content, boolean isError) {}

    private SentResults() {}

    /** The tool results at the end of the request's conversation, in wire order. */
    static List<SentResult> of(RecordedRequest request, ModelApi api) {
        JsonNode messages = request.body().path("messages");
        List<SentResult> results = new ArrayList<>();
        switch (api) {
            case ANTHROPIC -> {
                for (JsonNode block : messages.get(messages.size() - 1).path("content")) {
                    if (block.path("type").asString().equals("tool_result")) {
                        results.add(new SentResult(
                                block.path("tool_use_id").asString(),
                                block.path("content").asString(),
                                block.path("is_error").asBoolean()));
                    }
                }
            }
            case OPENAI -> {
                int first = messages.size();
                while (first > 0
                        && messages.get(first - 1).path("role").asString().equals("tool")) {
                    first--;
                }
                for (int i = first; i < messages.size(); i++) {
                    String content = messages.get(i).path("content").asString();
                    results.add(new SentResult(
                            messages.get(i).path("tool_call_id").asString(), content, content.startsWith("Error: ")));
                }
            }
        }
        return results;
    }
}
