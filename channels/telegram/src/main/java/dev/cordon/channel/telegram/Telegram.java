package dev.cordon.channel.telegram;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.ChannelService;
import dev.cordon.core.channel.HookChannel;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Base64;
import java.util.SplittableRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

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
     * daemon's {@code /hooks/telegram} as the internet reaches it) with a secret token derived from
     * the bot token ({@link #webhookSecret}); updates are served by the daemon's hook listener.
     *
     * @throws IllegalArgumentException if the token is missing
     */
    public static HookChannel webhook(TelegramSettings settings, URI url) {
        ChannelService bot = channel(settings);
        return new TelegramWebhook((TelegramChannel) bot, url, webhookSecret(settings.token()));
    }

    /**
     * The webhook's {@code secret_token}: HMAC-SHA256 of a fixed label under the bot token. Nothing
     * to store, and every replica on one database (and every restart) sets and accepts the same one,
     * where a token made afresh at each start would leave all but the last replica refusing
     * Telegram's calls. Only a holder of the bot token can compute it, and that one could reset
     * the webhook anyway.
     */
    static String webhookSecret(String botToken) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(botToken.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            byte[] tag = mac.doFinal("cordon telegram webhook secret_token v1".getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(tag);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
