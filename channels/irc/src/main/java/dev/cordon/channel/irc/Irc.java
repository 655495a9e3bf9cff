package dev.cordon.channel.irc;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.ChannelService;
import java.time.Duration;
import java.util.SplittableRandom;

/** The IRC channel adapter (docs/channels/irc.md). */
public final class Irc {
    /** The channel's name as stored with its chats: chats are {@code irc:#channel} and {@code irc:nick}. */
    public static final String NAME = "irc";

    private Irc() {}

    /** An adapter for {@code settings}; {@link ChannelService#start} connects it. */
    public static ChannelService channel(IrcSettings settings) {
        return new IrcChannel(
                settings,
                new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5), new SplittableRandom()),
                Pacer.standard());
    }
}
