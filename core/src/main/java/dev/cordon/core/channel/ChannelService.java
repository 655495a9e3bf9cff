package dev.cordon.core.channel;

/**
 * A channel adapter with a connection of its own to run: the daemon {@link #start starts} it with
 * the router as its sink once everything else is up, and {@link #close closes} it on the way down.
 */
public interface ChannelService extends ChannelAdapter, AutoCloseable {
    /**
     * Connects to the platform and reports inbound messages to {@code sink} from now on. Returns at
     * once; connecting, and reconnecting with back-off after a failure, happen in the background.
     * Called once.
     */
    void start(InboundSink sink);

    /** Disconnects and stops every thread the adapter started. Idempotent; never throws. */
    @Override
    void close();
}
