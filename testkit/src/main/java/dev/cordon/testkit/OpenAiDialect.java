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

/** OpenAI Chat Completions ({@code POST /v1/chat/completions}) as the fake serves it. */
final class OpenAiDialect implements Dialect {
    /** The fake's clock for {@code created}: fixed, so responses are reproducible. */
    private static final long CREATED = 1_750_000_000L;

    @Override
    public Map<String, String> headers(Ids ids) {
        return Map.of("x-request-id", ids.next("req_"));
    }

    @Override
    public byte[] errorBody(String type, String message) {
        return Wire.mapper().writeValueAsBytes(error(type, message, null));
    }

    private static ObjectNode error(String type, String message, String code) {
        ObjectNode body = Wire.mapper().createObjectNode();
        ObjectNode error = body.putObject("error").put("message", message).put("type", type);
        error.putNull("param");
        if (code == null) {
            error.putNull("code");
        } else {
            error.put("code", code);
        }
        return body;
    }

    @Override
    public Optional<Scripted.HttpError> checkKey(RecordedRequest request, String key) {
        Optional<String> sent = request.header("authorization");
        if (sent.isEmpty() || !sent.get().startsWith("Bearer ")) {
            return Optional.of(Scripted.error(
                    401,
                    "invalid_request_error",
                    "You didn't provide an API key. You need to provide your API key in an Authorization header"
                            + " using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."));
        }
        String given = sent.get().substring("Bearer ".length()).strip();
        if (given.equals(key)) {
            return Optional.empty();
        }
        String shown =
                given.length() <= 8 ? "****" : given.substring(0, 3) + "..." + given.substring(given.length() - 4);
        return Optional.of(Scripted.error(401, "invalid_request_error", "Incorrect API key provided: " + shown + "."));
    }

    @Override
    public Optional<String> violation(RecordedRequest request) {
        JsonNode body = request.body();
        if (!body.isObject()) {
            return Optional.of("We could not parse the JSON body of your request.");
        }
        if (!body.has("model")) {
            return Optional.of("you must provide a model parameter");
        }
        JsonNode messages = body.path("messages");
        if (!messages.isArray()) {
            return Optional.of("Missing required parameter: 'messages'.");
        }
        Set<String> open = new LinkedHashSet<>();
        Set<String> offered = Set.of();
        int caller = -1;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            String role = message.path("role").asString("");
            if (role.equals("tool")) {
                String id = message.path("tool_call_id").asString("");
                if (!offered.contains(id)) {
                    return Optional.of("Invalid parameter: messages with role 'tool' must be a response to a"
                            + " preceeding message with 'tool_calls'.");
                }
                open.remove(id);
                continue;
            }
            if (!open.isEmpty()) {
                return Optional.of(unanswered(caller, open));
            }
            offered = Set.of();
            if (role.equals("assistant")) {
                List<String> ids = new ArrayList<>();
                for (JsonNode call : message.path("tool_calls")) {
                    ids.add(call.path("id").asString(""));
                }
                offered = Set.copyOf(ids);
                open.addAll(ids);
                caller = i;
            }
        }
        return open.isEmpty() ? Optional.empty() : Optional.of(unanswered(caller, open));
    }

    private static String unanswered(int index, Set<String> ids) {
        return "An assistant message with 'tool_calls' must be followed by tool messages responding to each"
                + " 'tool_call_id'. The following tool_call_ids did not have response messages: "
                + String.join(", ", ids) + " (messages.[" + index + "])";
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
            if (content.isString() && !content.asString().isEmpty()) {
                return content.asString();
            }
            StringBuilder text = new StringBuilder();
            for (JsonNode part : content) {
                if (part.path("type").asString("").equals("text")) {
                    text.append(part.path("text").asString(""));
                }
            }
            if (!text.isEmpty()) {
                return text.toString();
            }
        }
        return "";
    }

    private static String finishReason(Scripted.Reply reply) {
        return switch (reply.stop()) {
            case NATURAL -> reply.toolCalls().isEmpty() ? "stop" : "tool_calls";
            case END_TURN, STOP_SEQUENCE -> "stop";
            case TOOL_USE -> "tool_calls";
            case MAX_TOKENS -> "length";
            case REFUSAL -> "content_filter";
        };
    }

    private static ObjectNode usage(Usage usage) {
        long prompt = usage.inputTokens() + usage.cacheReadTokens() + usage.cacheWriteTokens();
        ObjectNode node = Wire.mapper()
                .createObjectNode()
                .put("prompt_tokens", prompt)
                .put("completion_tokens", usage.outputTokens())
                .put("total_tokens", prompt + usage.outputTokens());
        node.putObject("prompt_tokens_details").put("cached_tokens", usage.cacheReadTokens());
        return node;
    }

    private static String data(ObjectNode chunk) {
        return "data: " + Wire.mapper().writeValueAsString(chunk) + "\n\n";
    }

    @Override
    public List<String> frames(Scripted.Reply reply, JsonNode request, Usage usage, boolean emptyPartialJson, Ids ids) {
        String id = ids.next("chatcmpl-");
        String model = Dialect.model(request);
        boolean includeUsage =
                request.path("stream_options").path("include_usage").asBoolean(false);
        List<ObjectNode> chunks = new ArrayList<>();
        ObjectNode first =
                Wire.mapper().createObjectNode().put("role", "assistant").put("content", "");
        first.putNull("refusal");
        chunks.add(first);
        for (String word : Dialect.words(reply.text())) {
            chunks.add(Wire.mapper().createObjectNode().put("content", word));
        }
        int index = 0;
        for (Scripted.ToolCall call : reply.toolCalls()) {
            List<String> pieces = Dialect.jsonPieces(call.input(), emptyPartialJson);
            ObjectNode opening = Wire.mapper().createObjectNode();
            opening.putArray("tool_calls")
                    .addObject()
                    .put("index", index)
                    .put("id", call.id() != null ? call.id() : ids.next("call_"))
                    .put("type", "function")
                    .putObject("function")
                    .put("name", call.name())
                    .put("arguments", "");
            chunks.add(opening);
            for (String piece : pieces) {
                ObjectNode more = Wire.mapper().createObjectNode();
                more.putArray("tool_calls")
                        .addObject()
                        .put("index", index)
                        .putObject("function")
                        .put("arguments", piece);
                chunks.add(more);
            }
            index++;
        }
        List<String> frames = new ArrayList<>();
        for (ObjectNode delta : chunks) {
            frames.add(data(chunk(id, model, delta, null, includeUsage)));
        }
        frames.add(data(chunk(id, model, Wire.mapper().createObjectNode(), finishReason(reply), includeUsage)));
        if (includeUsage) {
            ObjectNode last = header(id, model);
            last.putArray("choices");
            last.set("usage", usage(usage));
            frames.add(data(last));
        }
        frames.add("data: [DONE]\n\n");
        return frames;
    }

    private static ObjectNode header(String id, String model) {
        return Wire.mapper()
                .createObjectNode()
                .put("id", id)
                .put("object", "chat.completion.chunk")
                .put("created", CREATED)
                .put("model", model)
                .put("system_fingerprint", "fp_fake");
    }

    private static ObjectNode chunk(String id, String model, ObjectNode delta, String finish, boolean includeUsage) {
        ObjectNode chunk = header(id, model);
        ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
        choice.set("delta", delta);
        choice.putNull("logprobs");
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        if (includeUsage) {
            chunk.putNull("usage");
        }
        return chunk;
    }

    @Override
    public String errorFrame(String type, String message) {
        return data(error(type, message, null));
    }

    @Override
    public ObjectNode message(Scripted.Reply reply, JsonNode request, Usage usage, Ids ids) {
        ObjectNode completion = Wire.mapper()
                .createObjectNode()
                .put("id", ids.next("chatcmpl-"))
                .put("object", "chat.completion")
                .put("created", CREATED)
                .put("model", Dialect.model(request));
        ObjectNode choice = completion.putArray("choices").addObject().put("index", 0);
        ObjectNode message = choice.putObject("message").put("role", "assistant");
        if (reply.text().isEmpty()) {
            message.putNull("content");
        } else {
            message.put("content", reply.text());
        }
        if (!reply.toolCalls().isEmpty()) {
            ArrayNode calls = message.putArray("tool_calls");
            for (Scripted.ToolCall call : reply.toolCalls()) {
                calls.addObject()
                        .put("id", call.id() != null ? call.id() : ids.next("call_"))
                        .put("type", "function")
                        .putObject("function")
                        .put("name", call.name())
                        .put("arguments", Wire.mapper().writeValueAsString(call.input()));
            }
        }
        choice.put("finish_reason", finishReason(reply));
        completion.set("usage", usage(usage));
        return completion;
    }
}
