package dev.cordon.core.channel;

import dev.cordon.core.Domain.NewInbound;

/** Where adapters hand inbound messages. Implemented by the router. */
@FunctionalInterface
public interface InboundSink {
    /**
     * Stores the message durably and returns; only then may the adapter acknowledge it to the
     * platform (invariant 6). Thread-safe.
     */
    InboundResult accept(NewInbound message);

    sealed interface InboundResult {
        /** Stored (or already stored, if {@code duplicate}) as inbound {@code inboundId}. */
        record Accepted(long inboundId, boolean duplicate) implements InboundResult {}

        /** Not stored, on purpose: {@code reason} says which rule. */
        record Dropped(String reason) implements InboundResult {}

        /**
         * Stored, but held back from the agent until an admin decides on the sender (sender policy
         * approval): acknowledge it like an accepted one. {@code reason} says what happens next.
         */
        record Held(long requestId, String reason) implements InboundResult {}

        /**
         * Handled by the host itself and not passed to any agent (a pairing code): {@code reply} is
         * already in the chat's outbox. Acknowledge it like an accepted one.
         */
        record Answered(String reply) implements InboundResult {}
    }
}
