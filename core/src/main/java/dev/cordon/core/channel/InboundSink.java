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
    }
}
