package dev.cordon.server;

import dev.cordon.core.channel.Capabilities;
import dev.cordon.core.channel.ChannelService;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.LiveEvent;
import dev.cordon.core.channel.OutgoingMessage;
import java.util.function.Supplier;

/**
 * A channel connection that can be started again after it was closed. An adapter starts once (its
 * poll loop, its socket), but a replica that lost a channel's lease and later wins it back must
 * connect again ({@link ReplicaSet}): each {@link #start} after the first makes a fresh adapter from
 * the same settings. Delivery keeps this one object throughout, and reaches whichever adapter is
 * current.
 *
 * <p>Thread-safe. {@link #start} and {@link #close} are serialized; {@link #deliver} and the other
 * calls go to the adapter current at the time of the call (a reply sent while the channel is closed
 * fails as a closed adapter's would, and delivery tries it again later).
 */
final class RenewableChannel implements ChannelService {
    private final Supplier<ChannelService> make;
    private volatile ChannelService current;
    private boolean used;

    /** @param make builds an adapter, not yet started; called now and at each new start */
    RenewableChannel(Supplier<ChannelService> make) {
        this.make = make;
        this.current = make.get();
    }

    @Override
    public synchronized void start(InboundSink sink) {
        if (used) {
            current.close();
            current = make.get();
        }
        used = true;
        current.start(sink);
    }

    @Override
    public synchronized void close() {
        current.close();
    }

    @Override
    public String name() {
        return current.name();
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        return current.deliver(message);
    }

    @Override
    public Capabilities capabilities() {
        return current.capabilities();
    }

    @Override
    public boolean showsLive() {
        return current.showsLive();
    }

    @Override
    public boolean takesNotices() {
        return current.takesNotices();
    }

    @Override
    public void live(String platformChatId, LiveEvent event) {
        current.live(platformChatId, event);
    }
}
