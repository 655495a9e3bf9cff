package dev.cordon.testkit;

import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** The Anthropic Messages API ({@code POST /v1/messages}) as the fake serves it. */
final class AnthropicDialect implements Dialect {

    @Override
    public Map<String, String> headers(Ids ids) {
        return Map.of("request-id", ids.next("req_"));
    }

    @Override
    public byte[] errorBody(String type, String message) {
        ObjectNode body = Wire.mapper().createObjectNode().put("type", "error");
        body.putObject("error").put("type", type).put("message", message);
        return Wire.mapper().writeValueAsBytes(body);
    }

    @Override
    public Optional<Scripted.HttpError> checkKey(RecordedRequest request, String key) {
        Optional<String> sent = request.header("x-api-key");
        if (sent.isEmpty()) {
            return Optional.of(Scripted.error(401, "authentication_error", "x-api-key header is required"));
        }
        return sent.get().equals(key)
                ? Optional.empty()
                : Optional.of(Scripted.error(401, "authentication_error", "invalid x-api-key"));
    }

    @Override
    public Optional<String> violation(RecordedRequest request) {
        if (request.header("anthropic-version").isEmpty()) {
            return Optional.of("anthropic-version: header is required");
        }
        JsonNode body = request.body();
        if (!body.isObject()) {
            return Optional.of("There was an error parsing the body of your request: expected a JSON object");
        }
        for (String field : List.of("model", "max_tokens", "messages")) {
            if (!body.has(field)) {
                return Optional.of(field + ": Field required");
            }
        }
        JsonNode messages = body.path("messages");
        if (!messages.isArray()) {
            return Optional.of("messages: Input should be a valid list");
        }
        Set<String> open = Set.of();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            List<String> uses = new ArrayList<>();
            Set<String> answered = new LinkedHashSet<>();
            JsonNode content = message.path("content");
            for (int j = 0; j < content.size(); j++) {
                JsonNode block = content.get(j);
                String type = block.path("type").asString("");
                if (type.equals("tool_use")) {
                    uses.add(block.path("id").asString(""));
                } else if (type.equals("tool_result")) {
                    String id = block.path("tool_use_id").asString("");
                    if (!open.contains(id)) {
                        return Optional.of("messages." + i + ".content." + j
                                + ": unexpected `tool_use_id` found in `tool_result` blocks: " + id
                                + ". Each `tool_result` block must have a corresponding `tool_use` block in the"
                                + " previous message.");
                    }
                    answered.add(id);
                }
            }
            if (!open.isEmpty() && !answered.containsAll(open)) {
                Set<String> missing = new LinkedHashSet<>(open);
                missing.removeAll(answered);
                return Optional.of(unanswered(i - 1, missing));
            }
            open = message.path("role").asString("").equals("assistant") ? Set.copyOf(uses) : Set.of();
        }
        if (!open.isEmpty()) {
            return Optional.of(unanswered(messages.size() - 1, open));
        }
        return Optional.empty();
    }

    private static String unanswered(int index, Set<String> ids) {
        return "messages." + index + ": `tool_use` ids were found without `tool_result` blocks immediately after: "
                + String.join(", ", ids)
                + ". Each `tool_use` block must have a corresponding `tool_result` block in the next message.";
    }

    @Override
    public String lastUserText(JsonNode body) {
        JsonNode messages = body.path("messages");
        for (int i = messages.size() - 1; i >= 0; i--) {
            JsonNode message = messages.get(i);
            if (!message.path("role").asString("").equals("user")) {
                continue;
            }
            JsonNode content = message.path("content");
            if (content.isString()) {
                return content.asString();
            }
            StringBuilder text = new StringBuilder();
            for (JsonNode block : content) {
                if (block.path("type").asString("").equals("text")) {
                    text.append(block.path("text").asString(""));
                }
            }
            if (!text.isEmpty()) {
                return text.toString();
            }
        }
        return "";
    }

    private static String stopReason(Scripted.Reply reply) {
        return switch (reply.stop()) {
            case NATURAL -> reply.toolCalls().isEmpty() ? "end_turn" : "tool_use";
            case END_TURN -> "end_turn";
            case TOOL_USE -> "tool_use";
            case MAX_TOKENS -> "max_tokens";
            case STOP_SEQUENCE -> "stop_sequence";
            case REFUSAL -> "refusal";
        };
    }

    private static String event(String name, ObjectNode data) {
        return "event: " + name + "\ndata: " + Wire.mapper().writeValueAsString(data) + "\n\n";
    }

    private static ObjectNode node(String type) {
        return Wire.mapper().createObjectNode().put("type", type);
    }

    @Override
    public List<String> frames(Scripted.Reply reply, JsonNode request, Usage usage, boolean emptyPartialJson, Ids ids) {
        List<String> frames = new ArrayList<>();
        ObjectNode start = node("message_start");
        ObjectNode message = start.putObject("message");
        message.put("id", ids.next("msg_"))
                .put("type", "message")
                .put("role", "assistant")
                .put("model", Dialect.model(request));
        message.putArray("content");
        message.putNull("stop_reason");
        message.putNull("stop_sequence");
        message.putObject("usage")
                .put("input_tokens", usage.inputTokens())
                .put("cache_creation_input_tokens", usage.cacheWriteTokens())
                .put("cache_read_input_tokens", usage.cacheReadTokens())
                .put("output_tokens", 1);
        frames.add(event("message_start", start));
        int index = 0;
        if (!reply.text().isEmpty()) {
            ObjectNode blockStart = node("content_block_start").put("index", index);
            blockStart.putObject("content_block").put("type", "text").put("text", "");
            frames.add(event("content_block_start", blockStart));
            frames.add(event("ping", node("ping")));
            for (String word : Dialect.words(reply.text())) {
                ObjectNode delta = node("content_block_delta").put("index", index);
                delta.putObject("delta").put("type", "text_delta").put("text", word);
                frames.add(event("content_block_delta", delta));
            }
            frames.add(event("content_block_stop", node("content_block_stop").put("index", index)));
            index++;
        }
        for (Scripted.ToolCall call : reply.toolCalls()) {
            ObjectNode blockStart = node("content_block_start").put("index", index);
            ObjectNode block = blockStart.putObject("content_block");
            block.put("type", "tool_use")
                    .put("id", call.id() != null ? call.id() : ids.next("toolu_"))
                    .put("name", call.name());
            block.putObject("input");
            frames.add(event("content_block_start", blockStart));
            for (String piece : Dialect.jsonPieces(call.input(), emptyPartialJson)) {
                ObjectNode delta = node("content_block_delta").put("index", index);
                delta.putObject("delta").put("type", "input_json_delta").put("partial_json", piece);
                frames.add(event("content_block_delta", delta));
            }
            frames.add(event("content_block_stop", node("content_block_stop").put("index", index)));
            index++;
        }
        ObjectNode messageDelta = node("message_delta");
        ObjectNode delta = messageDelta.putObject("delta").put("stop_reason", stopReason(reply));
        if (reply.stop() == Scripted.Stop.STOP_SEQUENCE) {
            delta.put("stop_sequence", "###");
        } else {
            delta.putNull("stop_sequence");
        }
        messageDelta.putObject("usage").put("output_tokens", usage.outputTokens());
        frames.add(event("message_delta", messageDelta));
        frames.add(event("message_stop", node("message_stop")));
        return frames;
    }

    @Override
    public String errorFrame(String type, String message) {
        ObjectNode data = node("error");
        data.putObject("error").put("type", type).put("message", message);
        return event("error", data);
    }

    @Override
    public ObjectNode message(Scripted.Reply reply, JsonNode request, Usage usage, Ids ids) {
        ObjectNode message = node("message").put("id", ids.next("msg_")).put("role", "assistant");
        message.put("model", Dialect.model(request));
        ArrayNode content = message.putArray("content");
        if (!reply.text().isEmpty()) {
            content.addObject().put("type", "text").put("text", reply.text());
        }
        for (Scripted.ToolCall call : reply.toolCalls()) {
            content.addObject()
                    .put("type", "tool_use")
                    .put("id", call.id() != null ? call.id() : ids.next("toolu_"))
                    .put("name", call.name())
                    .set("input", call.input());
        }
        message.put("stop_reason", stopReason(reply));
        message.putNull("stop_sequence");
        message.putObject("usage")
                .put("input_tokens", usage.inputTokens())
                .put("cache_creation_input_tokens", usage.cacheWriteTokens())
                .put("cache_read_input_tokens", usage.cacheReadTokens())
                .put("output_tokens", usage.outputTokens());
        return message;
    }
}
