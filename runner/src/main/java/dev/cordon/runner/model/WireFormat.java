package dev.cordon.runner.model;

import dev.cordon.protocol.Wire;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * What differs between model APIs: the request, the error body and the stream. The retrying,
 * streaming and resetting around it is {@link StreamingModelClient}'s, shared by all formats.
 */
interface WireFormat {
    /** Names the provider in messages, e.g. {@code "Anthropic"}. */
    String provider();

    /** The path POSTed to, relative to the base URL. */
    String path();

    /** Headers every request carries (content type, API version). */
    Map<String, String> headers();

    /** The request body for one call, streaming on. */
    byte[] encode(ModelCall call);

    /** The provider's error type and message from a non-2xx body, best effort for non-JSON bodies. */
    ApiError parseError(byte[] body);

    /** What marks a complete stream, named in "ended before ..." messages. */
    String terminator();

    /** A fresh decoder for one attempt's stream. */
    StreamDecoder decoder(StreamListener listener);

    /** A provider error, from an error body or an in-stream error event. */
    record ApiError(String type, String code, String message) {
        /**
         * Reads an error body. Anthropic sends {@code {"type":"error","error":{"type","message"}}},
         * OpenAI and compatible servers {@code {"error":{"message","type","param","code"}}} (Ollama
         * sometimes just {@code {"error":"text"}}); anything else is quoted, shortened.
         */
        static ApiError fromBody(byte[] body) {
            String text = new String(body, StandardCharsets.UTF_8).strip();
            try {
                JsonNode node = Wire.mapper().readTree(text);
                if (node != null && node.has("error")) {
                    return from(node.get("error"));
                }
            } catch (JacksonException e) {
                // Not JSON (a proxy's HTML page, say): quote it below.
            }
            return new ApiError("", "", text.length() > 200 ? text.substring(0, 200) + "..." : text);
        }

        /** Reads the {@code error} member of an error body or an in-stream error event. */
        static ApiError from(JsonNode error) {
            if (error.isString()) {
                return new ApiError("", "", error.asString());
            }
            JsonNode code = error.path("code");
            return new ApiError(
                    Replies.text(error, "type"),
                    code.isValueNode() && !code.isNull() ? code.asString() : "",
                    Replies.text(error, "message"));
        }

        /** {@code type (code): message}, leaving out what is empty. */
        String describe() {
            StringBuilder text = new StringBuilder(type.isEmpty() ? code : type);
            if (!type.isEmpty() && !code.isEmpty() && !code.equals(type)) {
                text.append(" (").append(code).append(')');
            }
            if (!message.isEmpty()) {
                text.append(text.isEmpty() ? "" : ": ").append(message);
            }
            return text.toString();
        }
    }

    /** Consumes one attempt's SSE events and assembles the reply. */
    interface StreamDecoder {
        /**
         * Consumes one event, passing text to the listener as it comes.
         *
         * @throws StreamErrorException if the event reports an error
         * @throws tools.jackson.core.JacksonException if its data is not the JSON expected
         */
        void accept(SseReader.Event event) throws StreamErrorException;

        /** Whether the stream's terminator was seen; later events are not read. */
        boolean finished();

        /** The complete reply; only once {@link #finished()}. */
        ModelReply reply();
    }

    /** The stream carried an error event. */
    final class StreamErrorException extends Exception {
        private final ApiError error;
        private final boolean retryable;

        StreamErrorException(ApiError error, boolean retryable) {
            super(error.describe());
            this.error = error;
            this.retryable = retryable;
        }

        ApiError error() {
            return error;
        }

        /** Whether the error is transient (overload, server error) so the call may be restarted. */
        boolean retryable() {
            return retryable;
        }
    }
}
