package dev.cordon.testkit;

import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * One scripted answer of the {@link FakeModelServer}: a streamed {@link Reply} (text and/or tool
 * calls, optionally delivered with a fault) or an {@link HttpError}. The same script is rendered in
 * whichever wire format the request used. Immutable; the {@code with...}/{@code then...} methods
 * return modified copies.
 */
public sealed interface Scripted {

    /** A reply streaming {@code text}. */
    static Reply text(String text) {
        return new Reply(text, List.of(), Stop.NATURAL, Optional.empty(), Delivery.NORMAL);
    }

    /** A reply calling one tool, or several in parallel. */
    static Reply toolCalls(ToolCall... calls) {
        return new Reply("", List.of(calls), Stop.NATURAL, Optional.empty(), Delivery.NORMAL);
    }

    /** A reply calling tool {@code name} with {@code jsonInput} (a JSON object as text). */
    static Reply toolCall(String name, String jsonInput) {
        return toolCalls(ToolCall.of(name, jsonInput));
    }

    /** An HTTP error with the provider's error body: {@code type} such as {@code invalid_request_error}. */
    static HttpError error(int status, String type, String message) {
        return new HttpError(status, type, message, Map.of());
    }

    /** 429 {@code rate_limit_error}; add {@code retry-after} or {@code retry-after-ms} with {@link HttpError#withHeader}. */
    static HttpError rateLimited() {
        return error(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit");
    }

    /** Anthropic's 529 {@code overloaded_error}. */
    static HttpError overloaded() {
        return error(529, "overloaded_error", "Overloaded");
    }

    /** 500 {@code api_error}. */
    static HttpError serverError() {
        return error(500, "api_error", "Internal server error");
    }

    /**
     * A tool call; {@code id} may be null, and the server then makes one in the provider's style
     * ({@code toolu_...} or {@code call_...}).
     */
    record ToolCall(String id, String name, JsonNode input) {
        public ToolCall {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(input, "input");
        }

        public static ToolCall of(String name, String jsonInput) {
            return new ToolCall(null, name, Wire.mapper().readTree(jsonInput));
        }
    }

    /** Why the reply stops; {@link #NATURAL} means tool use if it calls tools, else end of turn. */
    enum Stop {
        NATURAL,
        END_TURN,
        TOOL_USE,
        MAX_TOKENS,
        STOP_SEQUENCE,
        REFUSAL
    }

    /** How a stream ends. */
    sealed interface Ending {
        /** The terminator ({@code message_stop} / {@code [DONE]}) and a clean end of the body. */
        record Complete() implements Ending {}

        /** Every frame but the terminator, then the connection is dropped. */
        record Disconnect() implements Ending {}

        /** Half the frames, then half of the next frame, then the connection is dropped. */
        record Truncate() implements Ending {}

        /** Half the frames, then an in-stream error ({@code event: error} / an error chunk), then the end. */
        record ErrorEvent(String type, String message) implements Ending {}
    }

    /**
     * How the stream's bytes go out.
     *
     * @param pieceBytes when positive, every frame is written in pieces of this many bytes, each
     *     flushed on its own (cutting through UTF-8 characters and line ends)
     * @param emptyPartialJson whether tool input is interleaved with empty pieces ({@code
     *     partial_json: ""} / {@code arguments: ""})
     * @param stall how long to send nothing; zero for no stall
     * @param stallMidStream whether the stall comes after half the frames rather than before the first
     * @param ending how the stream ends
     */
    record Delivery(int pieceBytes, boolean emptyPartialJson, Duration stall, boolean stallMidStream, Ending ending) {
        static final Delivery NORMAL = new Delivery(0, false, Duration.ZERO, false, new Ending.Complete());

        public Delivery {
            Objects.requireNonNull(stall, "stall");
            Objects.requireNonNull(ending, "ending");
        }
    }

    /** A streamed (or, if the request did not ask to stream, plain JSON) assistant message. */
    record Reply(String text, List<ToolCall> toolCalls, Stop stop, Optional<Usage> usage, Delivery delivery)
            implements Scripted {
        public Reply {
            Objects.requireNonNull(text, "text");
            toolCalls = List.copyOf(toolCalls);
            Objects.requireNonNull(stop, "stop");
            Objects.requireNonNull(usage, "usage");
            Objects.requireNonNull(delivery, "delivery");
        }

        /** Streams {@code text} before the tool calls. */
        public Reply withText(String newText) {
            return new Reply(newText, toolCalls, stop, usage, delivery);
        }

        public Reply withStop(Stop newStop) {
            return new Reply(text, toolCalls, newStop, usage, delivery);
        }

        /**
         * Reports these token counts. Without, input is about a quarter of the request's bytes and
         * output a quarter of the reply's characters, no cache. On the OpenAI path, {@code
         * prompt_tokens} is input plus cache reads plus cache writes and {@code cached_tokens} the
         * cache reads.
         */
        public Reply withUsage(Usage newUsage) {
            return new Reply(text, toolCalls, stop, Optional.of(newUsage), delivery);
        }

        public Reply withDelivery(Delivery newDelivery) {
            return new Reply(text, toolCalls, stop, usage, newDelivery);
        }

        /** Writes every frame in pieces of {@code bytes} bytes, flushing each. */
        public Reply splitInto(int bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("pieces must have at least one byte, not " + bytes);
            }
            return withDelivery(new Delivery(
                    bytes,
                    delivery.emptyPartialJson(),
                    delivery.stall(),
                    delivery.stallMidStream(),
                    delivery.ending()));
        }

        /** Interleaves tool input with empty {@code partial_json} / {@code arguments} pieces. */
        public Reply withEmptyPartialJson() {
            return withDelivery(new Delivery(
                    delivery.pieceBytes(), true, delivery.stall(), delivery.stallMidStream(), delivery.ending()));
        }

        /** Sends the response head, then nothing for {@code stall}, then the stream. */
        public Reply stallBefore(Duration stall) {
            return withDelivery(
                    new Delivery(delivery.pieceBytes(), delivery.emptyPartialJson(), stall, false, delivery.ending()));
        }

        /** Sends half the frames, then nothing for {@code stall}, then the rest. */
        public Reply stallMidStream(Duration stall) {
            return withDelivery(
                    new Delivery(delivery.pieceBytes(), delivery.emptyPartialJson(), stall, true, delivery.ending()));
        }

        /** Drops the connection right before {@code message_stop} / {@code data: [DONE]}. */
        public Reply thenDisconnect() {
            return endingWith(new Ending.Disconnect());
        }

        /** Drops the connection in the middle of a frame, about halfway through the stream. */
        public Reply thenTruncate() {
            return endingWith(new Ending.Truncate());
        }

        /** Sends an in-stream error halfway through, e.g. {@code overloaded_error} / {@code Overloaded}. */
        public Reply thenErrorEvent(String type, String message) {
            return endingWith(new Ending.ErrorEvent(type, message));
        }

        private Reply endingWith(Ending ending) {
            return withDelivery(new Delivery(
                    delivery.pieceBytes(),
                    delivery.emptyPartialJson(),
                    delivery.stall(),
                    delivery.stallMidStream(),
                    ending));
        }
    }

    /**
     * An HTTP error: {@code status} with the provider's error body (Anthropic {@code
     * {"type":"error","error":{"type","message"}}}, OpenAI {@code {"error":{"message","type","param","code"}}})
     * and extra response headers such as {@code retry-after}, {@code retry-after-ms}, {@code x-should-retry}.
     */
    record HttpError(int status, String type, String message, Map<String, String> headers) implements Scripted {
        public HttpError {
            if (status < 400 || status > 599) {
                throw new IllegalArgumentException("an error status is 4xx or 5xx, not " + status);
            }
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(message, "message");
            headers = Map.copyOf(headers);
        }

        public HttpError withHeader(String name, String value) {
            Map<String, String> more = new LinkedHashMap<>(headers);
            more.put(name, value);
            return new HttpError(status, type, message, more);
        }
    }
}
