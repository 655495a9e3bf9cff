package dev.cordon.egress;

import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Reads the token usage out of a provider's answer as it streams past the gateway, without holding
 * the answer: an event stream ({@code text/event-stream}) line by line, a plain JSON answer whole
 * (up to {@link #MAX_JSON} bytes). Anthropic reports input and cache tokens in {@code message_start}
 * and the final output count in {@code message_delta} (or all of them in a whole message's {@code
 * usage}); OpenAI reports {@code usage} in the last chunk of a stream (the gateway asks for it with
 * {@code stream_options.include_usage}) or in a whole completion. Values are cumulative, so the
 * last one seen wins. Not thread-safe: one per call.
 */
final class ProviderUsage {
    /** The largest whole JSON answer read for its usage; a bigger one counts as unreported. */
    static final int MAX_JSON = 8 * 1024 * 1024;
    /** The longest event-stream line looked at; usage lines are short, text deltas can be long. */
    static final int MAX_LINE = 256 * 1024;

    private final ModelApi api;
    private final boolean eventStream;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private boolean overflow;
    private long input;
    private long output;
    private long cacheRead;
    private long cacheWrite;
    private boolean complete;

    ProviderUsage(ModelApi api, String contentType) {
        this.api = api;
        this.eventStream = contentType != null
                && contentType.toLowerCase(java.util.Locale.ROOT).startsWith("text/event-stream");
    }

    void feed(byte[] chunk) {
        if (!eventStream) {
            if (pending.size() + chunk.length > MAX_JSON) {
                overflow = true;
            } else if (!overflow) {
                pending.writeBytes(chunk);
            }
            return;
        }
        int start = 0;
        for (int i = 0; i < chunk.length; i++) {
            if (chunk[i] == '\n') {
                append(chunk, start, i - start);
                line();
                start = i + 1;
            }
        }
        append(chunk, start, chunk.length - start);
    }

    /** The usage the answer reported, or null if it ended before its final count. */
    Usage result() {
        if (!eventStream && !overflow && pending.size() > 0) {
            read(pending.toByteArray());
        }
        return complete ? new Usage(input, output, cacheRead, cacheWrite) : null;
    }

    private void append(byte[] chunk, int from, int length) {
        if (overflow || pending.size() + length > MAX_LINE) {
            overflow = true;
            return;
        }
        pending.write(chunk, from, length);
    }

    private void line() {
        if (!overflow) {
            String line = pending.toString(StandardCharsets.UTF_8);
            if (line.startsWith("data:") && line.contains("\"usage\"")) {
                read(line.substring(5).strip().getBytes(StandardCharsets.UTF_8));
            }
        }
        pending.reset();
        overflow = false;
    }

    private void read(byte[] json) {
        JsonNode node;
        try {
            node = Wire.mapper().readTree(json);
        } catch (JacksonException e) {
            return; // not ours to judge: the runner sees the same bytes and reports them
        }
        if (node == null || !node.isObject()) {
            return;
        }
        JsonNode message = node.get("message");
        if (message != null
                && message.isObject()
                && message.get("usage") instanceof JsonNode start
                && start.isObject()) {
            take(start); // Anthropic message_start: input and cache counts, output so far
        }
        JsonNode usage = node.get("usage");
        if (usage != null && usage.isObject()) {
            take(usage);
            complete = true;
        }
    }

    private void take(JsonNode usage) {
        switch (api) {
            case ANTHROPIC -> {
                input = count(usage, "input_tokens", input);
                output = count(usage, "output_tokens", output);
                cacheRead = count(usage, "cache_read_input_tokens", cacheRead);
                cacheWrite = count(usage, "cache_creation_input_tokens", cacheWrite);
            }
            case OPENAI -> {
                long prompt = count(usage, "prompt_tokens", input + cacheRead);
                JsonNode details = usage.get("prompt_tokens_details");
                long cached = details != null && details.isObject() ? count(details, "cached_tokens", 0) : 0;
                cacheRead = Math.min(cached, prompt);
                input = prompt - cacheRead;
                output = count(usage, "completion_tokens", output);
            }
        }
    }

    private static long count(JsonNode usage, String field, long fallback) {
        JsonNode n = usage.get(field);
        return n != null && n.isIntegralNumber() && n.canConvertToLong() && n.asLong() >= 0 ? n.asLong() : fallback;
    }
}
