package dev.cordon.channel.slack;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.ChannelService;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.SplittableRandom;

/** The Slack channel adapter over Socket Mode (docs/channels/slack.md). */
public final class Slack {
    /** The channel's name as stored with its chats: chats are {@code slack:CHANNEL_ID}. */
    public static final String NAME = "slack";

    private Slack() {}

    /** An adapter for {@code settings}; {@link ChannelService#start} connects it. */
    public static ChannelService channel(SlackSettings settings) {
        if (settings.appToken() == null || settings.botToken() == null) {
            throw new IllegalArgumentException("the Slack adapter needs both the app-level and the bot token");
        }
        HttpClient http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .executor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor())
                .build();
        return new SlackChannel(
                settings,
                new SlackApi(http, settings),
                http,
                new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5), new SplittableRandom()));
    }
}
