package dev.cordon.channel.slack;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.ChannelService;
import dev.cordon.core.channel.HookChannel;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.SplittableRandom;

/** The Slack channel adapter, over Socket Mode or the Events API (docs/channels/slack.md). */
public final class Slack {
    /** The channel's name as stored with its chats: chats are {@code slack:CHANNEL_ID}. */
    public static final String NAME = "slack";

    private Slack() {}

    /** An adapter for {@code settings}; {@link ChannelService#start} connects it. */
    public static ChannelService channel(SlackSettings settings) {
        if (settings.appToken() == null || settings.botToken() == null) {
            throw new IllegalArgumentException("the Slack adapter needs both the app-level and the bot token");
        }
        HttpClient http = http();
        return new SlackChannel(settings, new SlackApi(http, settings), http, backoff());
    }

    /**
     * An adapter that takes events over HTTP (Slack's Events API) on the daemon's hook listener,
     * checking each request's signature with {@code signingSecret}; it needs no app-level token.
     *
     * @throws IllegalArgumentException if the bot token or the signing secret is missing
     */
    public static HookChannel events(SlackSettings settings, byte[] signingSecret) {
        if (settings.botToken() == null || signingSecret == null || signingSecret.length == 0) {
            throw new IllegalArgumentException("Slack's Events API needs the bot token and the signing secret");
        }
        HttpClient http = http();
        SlackApi api = new SlackApi(http, settings);
        SlackChannel replies = new SlackChannel(settings, api, http, backoff());
        return new SlackEventsEndpoint(replies, api, signingSecret, Clock.systemUTC());
    }

    private static HttpClient http() {
        return HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .executor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor())
                .build();
    }

    private static Backoff backoff() {
        return new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5), new SplittableRandom());
    }
}
