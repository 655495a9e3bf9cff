package dev.cordon.runner.model;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Role;
import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** The Anthropic Messages API, streamed: {@code POST /v1/messages}. */
final class AnthropicWire implements WireFormat {
    static final String VERSION = "2023-06-01";

    /** Error types after which the same request may well succeed. */
    private static final Set<String> TRANSIENT =
            Set.of("overloaded_error", "api_error", "rate_limit_error", "timeout_error");

    @Override
    public String provider() {
        return "Anthropic";
    }

    @Override
    public String path() {
        return "/v1/messages";
    }

    @Override
    public Map<String, String> headers() {
        return Map.of("anthropic-version", VERSION, "content-type", "application/json", "accept", "text/event-stream");
    }

    @Override
    public String terminator() {
        return "message_stop";
    }

    @Override
    public byte[] encode(ModelCall call) {
        ObjectNode body = Wire.mapper().createObjectNode();
        body.put("model", call.model());
        body.put("max_tokens", call.maxTokens());
        body.put("stream", true);
        if (!call.system().isEmpty()) {
            // The system prompt and tools rarely change within a session, so they are marked as the
            // cacheable prefix: later calls read them from the prompt cache at a tenth of the price.
            ObjectNode block = body.putArray("system").addObject();
            block.put("type", "text");
            block.put("text", call.system());
            block.putObject("cache_control").put("type", "ephemeral");
        }
        ArrayNode messages = body.putArray("messages");
        for (ChatMessage message : call.messages()) {
            ObjectNode out = messages.addObject();
            out.put("role", message.role().name().toLowerCase(Locale.ROOT));
            ArrayNode content = out.putArray("content");
            for (Part part : message.parts()) {
                switch (part) {
                    case Part.Text text -> {
                        // The API rejects empty text blocks.
                        if (!text.text().isEmpty()) {
                            content.addObject().put("type", "text").put("text", text.text());
                        }
                    }
                    case Part.ToolUse use -> {
                        ObjectNode block = content.addObject();
                        block.put("type", "tool_use");
                        block.put("id", use.id());
                        block.put("name", use.name());
                        block.set("input", use.input());
                    }
                    // The host sends a summary as text; this keeps the runner whole if one arrives.
                    case Part.Summary summary ->
                        content.addObject().put("type", "text").put("text", summary.asText());
                    case Part.ToolResult result -> {
                        ObjectNode block = content.addObject();
                        block.put("type", "tool_result");
                        block.put("tool_use_id", result.toolUseId());
                        block.put("content", result.content());
                        block.put("is_error", result.isError());
                    }
                }
            }
        }
        if (!call.tools().isEmpty()) {
            ArrayNode tools = body.putArray("tools");
            for (ToolSpec spec : call.tools()) {
                ObjectNode tool = tools.addObject();
                tool.put("name", spec.name());
                tool.put("description", spec.description());
                tool.set("input_schema", spec.inputSchema());
            }
            ((ObjectNode) tools.get(tools.size() - 1))
                    .putObject("cache_control")
                    .put("type", "ephemeral");
        }
        return Wire.mapper().writeValueAsBytes(body);
    }

    /** Body shape: {@code {"type":"error","error":{"type":"...","message":"..."}}}. */
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
            case "end_turn" -> StopReason.END_TURN;
            case "tool_use" -> StopReason.TOOL_USE;
            case "max_tokens", "model_context_window_exceeded" -> StopReason.MAX_TOKENS;
            case "stop_sequence" -> StopReason.STOP_SEQUENCE;
            case "refusal" -> StopReason.REFUSAL;
            default -> StopReason.OTHER;
        };
    }

    /** One content block being streamed. */
    private static final class Block {
        final String type;
        final String id;
        final String name;
        final StringBuilder text = new StringBuilder();
        /** The input the block started with, used when no input_json_delta follows. */
        final JsonNode initialInput;

        Block(String type, String id, String name, JsonNode initialInput) {
            this.type = type;
            this.id = id;
            this.name = name;
            this.initialInput = initialInput;
        }
    }

    private static final class Decoder implements StreamDecoder {
        private final StreamListener listener;
        private final TreeMap<Integer, Block> blocks = new TreeMap<>();
        private long inputTokens;
        private long outputTokens;
        private long cacheRead;
        private long cacheWrite;
        private String stopReason = "";
        private boolean finished;

        Decoder(StreamListener listener) {
            this.listener = listener;
        }

        @Override
        public void accept(SseReader.Event event) throws StreamErrorException {
            switch (event.event()) {
                case "ping" -> {}
                case "error" -> throw streamError(Wire.mapper().readTree(event.data()));
                case "message_start" -> usage(json(event).path("message").path("usage"));
                case "content_block_start" -> start(json(event));
                case "content_block_delta" -> delta(json(event));
                case "message_delta" -> {
                    JsonNode data = json(event);
                    String reason = Replies.text(data.path("delta"), "stop_reason");
                    if (!reason.isEmpty()) {
                        stopReason = reason;
                    }
                    usage(data.path("usage"));
                }
                case "message_stop" -> finished = true;
                default -> {
                    // content_block_stop carries nothing we need; event types added to the API
                    // later are ignored, as Anthropic's versioning policy asks of clients.
                }
            }
        }

        private static JsonNode json(SseReader.Event event) {
            return Wire.mapper().readTree(event.data());
        }

        private void start(JsonNode data) {
            JsonNode block = data.path("content_block");
            String type = Replies.text(block, "type");
            Block started =
                    new Block(type, Replies.text(block, "id"), Replies.text(block, "name"), block.path("input"));
            blocks.put(data.path("index").asInt(-1), started);
            if (type.equals("text")) {
                String initial = Replies.text(block, "text");
                if (!initial.isEmpty()) {
                    started.text.append(initial);
                    listener.onText(initial);
                }
            }
        }

        private void delta(JsonNode data) {
            Block block = blocks.get(data.path("index").asInt(-1));
            if (block == null) {
                return;
            }
            JsonNode delta = data.path("delta");
            switch (Replies.text(delta, "type")) {
                case "text_delta" -> {
                    String text = Replies.text(delta, "text");
                    block.text.append(text);
                    if (!text.isEmpty()) {
                        listener.onText(text);
                    }
                }
                case "input_json_delta" -> block.text.append(Replies.text(delta, "partial_json"));
                default -> {
                    // thinking, signature and citations deltas: not part of the conversation model.
                }
            }
        }

        private void usage(JsonNode usage) {
            // message_delta usage is cumulative, so later numbers replace earlier ones.
            if (usage.has("input_tokens")) {
                inputTokens = usage.path("input_tokens").asLong(0);
            }
            if (usage.has("output_tokens")) {
                outputTokens = usage.path("output_tokens").asLong(0);
            }
            if (usage.has("cache_read_input_tokens")) {
                cacheRead = usage.path("cache_read_input_tokens").asLong(0);
            }
            if (usage.has("cache_creation_input_tokens")) {
                cacheWrite = usage.path("cache_creation_input_tokens").asLong(0);
            }
        }

        private static StreamErrorException streamError(JsonNode data) {
            ApiError error = ApiError.from(data.path("error"));
            return new StreamErrorException(error, TRANSIENT.contains(error.type()));
        }

        @Override
        public boolean finished() {
            return finished;
        }

        @Override
        public ModelReply reply() {
            StopReason reason = stopReason(stopReason);
            List<Part> parts = new ArrayList<>();
            for (Block block : blocks.values()) {
                switch (block.type) {
                    case "text" -> {
                        if (!block.text.isEmpty()) {
                            parts.add(new Part.Text(block.text.toString()));
                        }
                    }
                    case "tool_use" -> {
                        String json = block.text.isEmpty() && block.initialInput.isObject()
                                ? Wire.mapper().writeValueAsString(block.initialInput)
                                : block.text.toString();
                        Replies.toolUse("Anthropic", block.id, block.name, json, reason)
                                .ifPresent(parts::add);
                    }
                    default -> {
                        // thinking and server-tool blocks are not carried in the conversation model.
                    }
                }
            }
            return new ModelReply(
                    new ChatMessage(Role.ASSISTANT, parts),
                    reason,
                    new Usage(inputTokens, outputTokens, cacheRead, cacheWrite));
        }
    }
}
