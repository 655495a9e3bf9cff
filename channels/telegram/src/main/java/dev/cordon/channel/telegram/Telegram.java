package dev.cordon.channel.telegram;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.ChannelService;
import dev.cordon.core.channel.HookChannel;
import java.net.URI;
import java.net.http.HttpClient;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.SplittableRandom;

/** The Telegram channel adapter (docs/channels/telegram.md). */
public final class Telegram {
    /** The channel's name as stored with its chats: chats are {@code telegram:CHAT_ID}. */
    public static final String NAME = "telegram";

    private Telegram() {}

    /**
     * An adapter for {@code settings} (with its token filled in); {@link ChannelService#start}
     * starts its long poll.
     *
     * @throws IllegalArgumentException if the token is missing
     */
    public static ChannelService channel(TelegramSettings settings) {
        if (settings.token() == null) {
            throw new IllegalArgumentException("the Telegram adapter needs the bot token");
        }
        return new TelegramChannel(
                settings,
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(),
                new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5), new SplittableRandom()),
                new Backoff(Duration.ofSeconds(2), Duration.ofMinutes(2), new SplittableRandom()));
    }

    /**
     * An adapter in webhook mode: at start it asks Telegram to POST updates to {@code url} (the
     * daemon's {@code /hooks/telegram} as the internet reaches it) with a secret token made here,
     * new at each start; updates are served by the daemon's hook listener.
     *
     * @throws IllegalArgumentException if the token is missing
     */
    public static HookChannel webhook(TelegramSettings settings, URI url) {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        return new TelegramWebhook(
                (TelegramChannel) channel(settings),
                url,
                Base64.getUrlEncoder().withoutPadding().encodeToString(random));
    }
}
