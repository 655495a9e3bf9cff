package dev.cordon.runner.model;

import dev.cordon.runner.model.WireFormat.ApiError;
import dev.cordon.runner.model.WireFormat.StreamDecoder;
import dev.cordon.runner.model.WireFormat.StreamErrorException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import tools.jackson.core.JacksonException;

/**
 * The retry and stream loop every wire format shares. One call is a series of attempts; an attempt
 * ends {@link Outcome.Done done}, {@link Outcome.Fatal fatal} or {@link Outcome.Retry retryable},
 * and retryable ones are retried while the policy's budget lasts. A reply is returned only once its
 * stream's terminator arrived, so a caller never sees half a message.
 */
final class StreamingModelClient implements ModelClient {
    /** Error bodies are short; more than this is not an API error body anyway. */
    private static final int MAX_ERROR_BODY = 64 * 1024;

    /**
     * After the terminator, the rest of the body (usually just the end of the chunked encoding) is
     * read so HttpClient can reuse the connection; a server that keeps the body open loses it.
     */
    private static final Duration DRAIN_GRACE = Duration.ofMillis(250);

    private final WireFormat format;
    private final HttpTransport transport;
    private final RetryPolicy policy;

    StreamingModelClient(WireFormat format, HttpTransport transport, RetryPolicy policy) {
        this.format = format;
        this.transport = transport;
        this.policy = policy;
    }

    /** How one attempt ended. */
    private sealed interface Outcome {
        record Done(ModelReply reply) implements Outcome {}

        record Fatal(String message, int status, Throwable cause) implements Outcome {}

        /**
         * @param requestedWait what the server asked to wait, if it asked within limits
         * @param streamBroke whether a 200 stream had begun, so the listener must be reset
         */
        record Retry(String message, int status, Throwable cause, Optional<Duration> requestedWait, boolean streamBroke)
                implements Outcome {}
    }

    @Override
    public ModelReply complete(ModelCall call, StreamListener listener) {
        byte[] body = format.encode(call);
        for (int attempt = 0; ; attempt++) {
            Outcome outcome = attempt(body, listener);
            switch (outcome) {
                case Outcome.Done done -> {
                    return done.reply();
                }
                case Outcome.Fatal fatal -> throw new ModelException(fatal.message(), fatal.status(), fatal.cause());
                case Outcome.Retry retry -> {
                    if (attempt >= policy.maxRetries()) {
                        throw new ModelException(
                                retry.message() + " (gave up after " + (attempt + 1) + " attempts)",
                                retry.status(),
                                retry.cause());
                    }
                    if (retry.streamBroke()) {
                        listener.onReset(retry.message());
                    }
                    int retries = attempt;
                    sleep(retry.requestedWait().orElseGet(() -> policy.backoff(retries)));
                }
            }
        }
    }

    private void sleep(Duration wait) {
        try {
            policy.sleeper().sleep(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ModelException(format.provider() + " call interrupted while backing off", 0, e);
        }
    }

    private Outcome attempt(byte[] body, StreamListener listener) {
        HttpTransport.Response response;
        try {
            response = transport.post(format.path(), format.headers(), body);
        } catch (IOException e) {
            if (Thread.currentThread().isInterrupted()) {
                return new Outcome.Fatal(format.provider() + " call interrupted", 0, e);
            }
            return new Outcome.Retry(
                    format.provider() + " API unreachable: " + describe(e), 0, e, Optional.empty(), false);
        }
        try (IdleGuard guard = IdleGuard.start(response.body(), policy.idleTimeout())) {
            InputStream in = guard.stream();
            if (response.status() / 100 != 2) {
                return failed(response, readErrorBody(in));
            }
            if (response.header("content-type").orElse("").contains("application/json")) {
                // Some gateways answer 200 with a JSON error, or a server ignored "stream": true.
                ApiError error = format.parseError(readErrorBody(in));
                return new Outcome.Fatal(
                        format.provider() + " API answered " + response.status()
                                + " with JSON instead of an event stream: " + error.describe(),
                        response.status(),
                        null);
            }
            try {
                return stream(in, listener, guard);
            } catch (IOException e) {
                if (Thread.currentThread().isInterrupted()) {
                    return new Outcome.Fatal(format.provider() + " call interrupted", 0, e);
                }
                String reason = guard.fired() ? idleReason() : format.provider() + " stream broke: " + describe(e);
                return new Outcome.Retry(reason, response.status(), e, Optional.empty(), true);
            } catch (StreamErrorException e) {
                String message =
                        format.provider() + " API error in stream " + e.error().describe();
                return e.retryable()
                        ? new Outcome.Retry(message, response.status(), e, Optional.empty(), true)
                        : new Outcome.Fatal(message, response.status(), e);
            } catch (JacksonException e) {
                // A corrupt frame means the bytes were damaged on the way: the stream is broken.
                return new Outcome.Retry(
                        format.provider() + " stream carried a malformed event: " + e.getOriginalMessage(),
                        response.status(),
                        e,
                        Optional.empty(),
                        true);
            }
        }
    }

    private Outcome stream(InputStream in, StreamListener listener, IdleGuard guard)
            throws IOException, StreamErrorException {
        StreamDecoder decoder = format.decoder(listener);
        SseReader reader = new SseReader(in);
        while (!decoder.finished()) {
            Optional<SseReader.Event> event = reader.next();
            if (event.isEmpty()) {
                return new Outcome.Retry(
                        guard.fired()
                                ? idleReason()
                                : format.provider() + " stream ended before " + format.terminator(),
                        200,
                        null,
                        Optional.empty(),
                        true);
            }
            decoder.accept(event.get());
        }
        ModelReply reply = decoder.reply();
        drain(in, guard);
        return new Outcome.Done(reply);
    }

    private String idleReason() {
        return format.provider() + " stream sent nothing for more than "
                + policy.idleTimeout().toMillis() + " ms";
    }

    /** The exception and its cause in a few words: HttpClient's own messages are often just "closed". */
    private static String describe(IOException e) {
        String text = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        Throwable cause = e.getCause();
        return cause == null ? text : text + " (" + cause.getMessage() + ")";
    }

    private static void drain(InputStream in, IdleGuard guard) {
        guard.shorten(DRAIN_GRACE);
        try {
            byte[] scratch = new byte[512];
            int total = 0;
            int n;
            while (total < MAX_ERROR_BODY && (n = in.read(scratch)) >= 0) {
                total += n;
            }
        } catch (IOException e) {
            // The reply is complete; all that is lost is reusing the connection.
        }
    }

    private static byte[] readErrorBody(InputStream in) {
        try {
            return in.readNBytes(MAX_ERROR_BODY);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private Outcome failed(HttpTransport.Response response, byte[] body) {
        ApiError error = format.parseError(body);
        String message = format.provider() + " API error " + response.status() + " " + error.describe();
        if (!shouldRetry(response)) {
            return new Outcome.Fatal(message.strip(), response.status(), null);
        }
        return new Outcome.Retry(message.strip(), response.status(), null, requestedWait(response), false);
    }

    /** As the SDKs: {@code x-should-retry} wins; otherwise 408, 409, 429 and every 5xx. */
    static boolean shouldRetry(HttpTransport.Response response) {
        Optional<String> header = response.header("x-should-retry");
        if (header.isPresent() && header.get().equals("true")) {
            return true;
        }
        if (header.isPresent() && header.get().equals("false")) {
            return false;
        }
        int status = response.status();
        return status == 408 || status == 409 || status == 429 || status >= 500;
    }

    /**
     * The wait the server asked for: {@code retry-after-ms} (milliseconds), else {@code retry-after}
     * (seconds or an HTTP date); honoured only between 0 and 60 s, as the SDKs do.
     */
    Optional<Duration> requestedWait(HttpTransport.Response response) {
        Optional<Duration> wait = response.header("retry-after-ms")
                .flatMap(ms -> number(ms).map(v -> Duration.ofNanos((long) (v * 1e6))));
        if (wait.isEmpty()) {
            wait = response.header("retry-after").flatMap(this::retryAfter);
        }
        return wait.filter(d -> !d.isNegative() && d.compareTo(RetryPolicy.MAX_RETRY_AFTER) <= 0);
    }

    private Optional<Duration> retryAfter(String value) {
        Optional<Double> seconds = number(value);
        if (seconds.isPresent()) {
            return Optional.of(Duration.ofNanos((long) (seconds.get() * 1e9)));
        }
        try {
            Instant at = ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME)
                    .toInstant();
            return Optional.of(Duration.between(policy.clock().instant(), at));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static Optional<Double> number(String value) {
        try {
            double v = Double.parseDouble(value.strip());
            return Double.isFinite(v) ? Optional.of(v) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
