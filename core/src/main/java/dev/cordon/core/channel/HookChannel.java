package dev.cordon.core.channel;

/**
 * A channel the platform calls over HTTP (webhooks): the daemon's hook listener hands it every
 * request for {@code /hooks/NAME} and {@code /hooks/NAME/...}, where NAME is its {@link #name}.
 * It has no connection of its own: {@link #start} only keeps the sink, {@link #close} stops
 * whatever delivery it has in flight.
 */
public interface HookChannel extends ChannelService {
    /**
     * Answers one request: verifies it (signature, freshness), hands what it carries to the sink and
     * returns 2xx only once the sink has decided (invariant 6). Requests that come before {@link
     * #start} get 503. Thread-safe: the listener calls it from many threads at once. Never throws
     * for bad input: that is a 4xx naming what is wrong.
     */
    HookResponse receive(HookRequest request);
}
