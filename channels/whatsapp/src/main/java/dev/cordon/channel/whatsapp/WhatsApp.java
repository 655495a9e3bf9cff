package dev.cordon.channel.whatsapp;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.HookChannel;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.SplittableRandom;

/** The WhatsApp channel adapter on Meta's Cloud API (docs/channels/whatsapp.md). */
public final class WhatsApp {
    /** The channel's name: chats are {@code whatsapp:WA_ID} (the person's number), the listener's path {@code /hooks/whatsapp}. */
    public static final String NAME = "whatsapp";

    private WhatsApp() {}

    /**
     * An adapter for {@code settings}, with its token and secrets filled in.
     *
     * @throws IllegalArgumentException if a secret is missing
     */
    public static HookChannel channel(WhatsAppSettings settings) {
        if (settings.accessToken() == null || settings.appSecret() == null || settings.verifyToken() == null) {
            throw new IllegalArgumentException(
                    "the WhatsApp adapter needs its access token, app secret and verify token");
        }
        return new WhatsAppChannel(
                settings,
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(),
                new Backoff(Duration.ofSeconds(2), Duration.ofMinutes(5), new SplittableRandom()));
    }
}
