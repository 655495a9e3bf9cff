package dev.cordon.core.trace;

import java.time.Instant;
import java.util.Map;

/**
 * Port for traces of a message's way through the host: routing, the turn (sandbox start, each model
 * call, each host tool) and the reply's delivery. One trace per inbound message, keyed by its
 * stored id, so a turn retried after a crash, and the reply delivered after a restart, join the
 * trace the message started. The server implements it with OpenTelemetry when {@code tracing:} is
 * configured; otherwise {@link #OFF} costs nothing.
 */
public interface Tracing {
    /** A span in progress; {@link #close} ends it. Thread-safe. */
    interface Span extends AutoCloseable {
        /** A span inside this one, starting now. */
        Span child(String name);

        /** Records an attribute; null values are left out. */
        Span set(String key, Object value);

        /** Marks the span failed, with why. */
        Span failed(String why);

        @Override
        void close();
    }

    /**
     * A span in the trace of inbound message {@code inbound}.
     *
     * @param first whether this is the message's own first span (its routing): the trace's root.
     *     Later spans (a turn, a delivery) hang under that root even when they run after a restart.
     * @param start when it began, or null for now
     */
    Span span(long inbound, String name, boolean first, Instant start, Map<String, Object> attributes);

    /** Finishes exporting what was recorded; called once, when the daemon stops. */
    default void close() {}

    Span NO_SPAN = new Span() {
        @Override
        public Span child(String name) {
            return this;
        }

        @Override
        public Span set(String key, Object value) {
            return this;
        }

        @Override
        public Span failed(String why) {
            return this;
        }

        @Override
        public void close() {}
    };

    /** No tracing: every span is {@link #NO_SPAN}. */
    Tracing OFF = (inbound, name, first, start, attributes) -> NO_SPAN;
}
