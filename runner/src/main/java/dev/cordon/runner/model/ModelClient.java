package dev.cordon.runner.model;

/** A thin streaming client for one model wire format. Implementations are thread-safe. */
public interface ModelClient {
    /**
     * Streams one model call to completion, retrying as the official SDKs do (408, 409, 429, 5xx
     * including 529, honouring {@code retry-after-ms}, {@code retry-after} and {@code x-should-retry},
     * jittered exponential backoff), and restarting the whole call when a stream breaks midway
     * (after telling {@code listener.onReset}). Blocks.
     *
     * @throws ModelException when the call fails for good
     */
    ModelReply complete(ModelCall call, StreamListener listener);
}
