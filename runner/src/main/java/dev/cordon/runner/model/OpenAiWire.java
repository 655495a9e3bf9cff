package dev.cordon.runner.model;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Role;
import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * OpenAI Chat Completions, streamed: {@code POST /chat/completions} under a base URL that ends in
 * {@code /v1}. Also what Ollama, vLLM and OpenRouter speak.
 */
final class OpenAiWire implements WireFormat {
    /** Error types and codes after which the same request may well succeed. */
    private static final Set<String> TRANSIENT = Set.of(
            "server_error", "api_error", "overloaded_error", "rate_limit_exceeded", "rate_limit_error", "timeout");

    @Override
    public String provider() {
        return "OpenAI";
    }

    @Override
    public String path() {
        return "/chat/completions";
    }

    @Override
    public Map<String, String> headers() {
        return Map.of("content-type", "application/json", "accept", "text/event-stream");
    }

    @Override
    public String terminator() {
        return "[DONE]";
    }

    @Override
    public byte[] encode(ModelCall call) {
        ObjectNode body = Wire.mapper().createObjectNode();
        body.put("model", call.model());
        body.put("max_tokens", call.maxTokens());
        body.put("stream", true);
        // Without this the stream carries no token counts at all.
        body.putObject("stream_options").put("include_usage", true);
        ArrayNode messages = body.putArray("messages");
        if (!call.system().isEmpty()) {
            messages.addObject().put("role", "system").put("content", call.system());
        }
        for (ChatMessage message : call.messages()) {
            switch (message.role()) {
                case ASSISTANT -> assistant(messages, message);
                case USER -> user(messages, message);
            }
        }
        if (!call.tools().isEmpty()) {
            ArrayNode tools = body.putArray("tools");
            for (ToolSpec spec : call.tools()) {
                ObjectNode function = tools.addObject().put("type", "function").putObject("function");
                function.put("name", spec.name());
                function.put("description", spec.description());
                function.set("parameters", spec.inputSchema());
            }
        }
        return Wire.mapper().writeValueAsBytes(body);
    }

    private static void assistant(ArrayNode messages, ChatMessage message) {
        ObjectNode out = messages.addObject().put("role", "assistant");
        String text = message.text();
        if (text.isEmpty()) {
            out.putNull("content");
        } else {
            out.put("content", text);
        }
        if (!message.toolUses().isEmpty()) {
            ArrayNode calls = out.putArray("tool_calls");
            for (Part.ToolUse use : message.toolUses()) {
                ObjectNode call = calls.addObject().put("id", use.id()).put("type", "function");
                call.putObject("function")
                        .put("name", use.name())
                        .put("arguments", Wire.mapper().writeValueAsString(use.input()));
            }
        }
    }

    /**
     * Tool results become {@code role: tool} messages, which must come right after the assistant
     * message that made the calls; so they go first and any text of the same message after them.
     */
    private static void user(ArrayNode messages, ChatMessage message) {
        for (Part part : message.parts()) {
            if (part instanceof Part.ToolResult result) {
                // The format has no error flag; the model learns of a failure from the content.
                String content = result.isError() ? "Error: " + result.content() : result.content();
                messages.addObject()
                        .put("role", "tool")
                        .put("tool_call_id", result.toolUseId())
                        .put("content", content);
            }
        }
        String text = message.text();
        if (!text.isEmpty() || message.parts().isEmpty()) {
            messages.addObject().put("role", "user").put("content", text);
        }
    }

    @Override
    public ApiError parseError(byte[] body) {
        return ApiError.fromBody(body);
    }

    @Override
    public StreamDecoder decoder(StreamListener listener) {
        return new Decoder(listener);
    }

    static StopReason stopReason(String reason) {
        return switch (reason) {
            case "stop" -> StopReason.END_TURN;
            case "tool_calls", "function_call" -> StopReason.TOOL_USE;
            case "length" -> StopReason.MAX_TOKENS;
            case "content_filter" -> StopReason.REFUSAL;
            default -> StopReason.OTHER;
        };
    }

    /** One tool call being streamed, keyed by its {@code index}. */
    private static final class Call {
        String id = "";
        String name = "";
        final StringBuilder arguments = new StringBuilder();
    }

    private static final class Decoder implements StreamDecoder {
        private final StreamListener listener;
        private final StringBuilder text = new StringBuilder();
        private final TreeMap<Integer, Call> calls = new TreeMap<>();
        private String finishReason = "";
        private Usage usage = Usage.ZERO;
        private boolean finished;

        Decoder(StreamListener listener) {
            this.listener = listener;
        }

        @Override
        public void accept(SseReader.Event event) throws StreamErrorException {
            if (event.data().strip().equals("[DONE]")) {
                finished = true;
                return;
            }
            JsonNode chunk = Wire.mapper().readTree(event.data());
            if (chunk.has("error")) {
                ApiError error = ApiError.from(chunk.get("error"));
                throw new StreamErrorException(error, isTransient(error, chunk.get("error")));
            }
            JsonNode choice = chunk.path("choices").path(0);
            JsonNode delta = choice.path("delta");
            for (String field : List.of("content", "refusal")) {
                String piece = Replies.text(delta, field);
                if (!piece.isEmpty()) {
                    text.append(piece);
                    listener.onText(piece);
                }
            }
            for (JsonNode call : delta.path("tool_calls")) {
                Call entry = calls.computeIfAbsent(call.path("index").asInt(calls.size()), i -> new Call());
                String id = Replies.text(call, "id");
                if (!id.isEmpty()) {
                    entry.id = id;
                }
                JsonNode function = call.path("function");
                String name = Replies.text(function, "name");
                if (!name.isEmpty()) {
                    entry.name = name;
                }
                entry.arguments.append(Replies.text(function, "arguments"));
            }
            String reason = Replies.text(choice, "finish_reason");
            if (!reason.isEmpty()) {
                finishReason = reason;
            }
            JsonNode reported = chunk.path("usage");
            if (reported.isObject()) {
                long prompt = reported.path("prompt_tokens").asLong(0);
                long cached = reported.path("prompt_tokens_details")
                        .path("cached_tokens")
                        .asLong(0);
                // prompt_tokens includes the cached ones; Usage counts them apart, as Anthropic does.
                usage = new Usage(
                        prompt - cached, reported.path("completion_tokens").asLong(0), cached, 0);
            }
        }

        private static boolean isTransient(ApiError error, JsonNode node) {
            // OpenRouter reports upstream failures with the HTTP status as a numeric code.
            return TRANSIENT.contains(error.type())
                    || TRANSIENT.contains(error.code())
                    || node.path("code").asInt(0) >= 500;
        }

        @Override
        public boolean finished() {
            return finished;
        }

        @Override
        public ModelReply reply() {
            StopReason reason = stopReason(finishReason);
            if (reason == StopReason.END_TURN && !calls.isEmpty()) {
                // Some compatible servers (older Ollama) say "stop" even when they called tools.
                reason = StopReason.TOOL_USE;
            }
            List<Part> parts = new ArrayList<>();
            if (!text.isEmpty()) {
                parts.add(new Part.Text(text.toString()));
            }
            for (Call call : calls.values()) {
                Replies.toolUse("OpenAI", call.id, call.name, call.arguments.toString(), reason)
                        .ifPresent(parts::add);
            }
            return new ModelReply(new ChatMessage(Role.ASSISTANT, parts), reason, usage);
        }
    }
}
