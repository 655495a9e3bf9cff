package dev.cordon.channel.webhook;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.HookChannel;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.SplittableRandom;

/** The signed webhook channel (docs/channels/webhook.md). */
public final class Webhook {
    /** The channel's name: chats are {@code webhook:ENDPOINT}, the listener's path {@code /hooks/webhook/ENDPOINT}. */
    public static final String NAME = "webhook";

    private Webhook() {}

    /**
     * An adapter for {@code settings}, every endpoint with its secret filled in.
     *
     * @throws IllegalArgumentException if an endpoint has no secret
     */
    public static HookChannel channel(WebhookSettings settings) {
        for (WebhookSettings.Endpoint e : settings.endpoints()) {
            if (e.secret() == null) {
                throw new IllegalArgumentException("webhook endpoint " + e.name() + " needs its secret");
            }
        }
        return new WebhookChannel(
                settings,
                Clock.systemUTC(),
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(),
                new Backoff(Duration.ofSeconds(2), Duration.ofMinutes(5), new SplittableRandom()));
    }
}
