package dev.cordon.channel.email;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.ChannelService;
import java.time.Duration;
import java.util.SplittableRandom;

/** The email channel adapter (docs/channels/email.md). */
public final class Email {
    /** The channel's name as stored with its chats: the chat is {@code email:ADDRESS}, the agent's mailbox. */
    public static final String NAME = "email";

    private Email() {}

    /** An adapter for {@code settings}; {@link ChannelService#start} connects it. */
    public static ChannelService channel(EmailSettings settings) {
        return new EmailChannel(
                settings, new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5), new SplittableRandom()));
    }
}
