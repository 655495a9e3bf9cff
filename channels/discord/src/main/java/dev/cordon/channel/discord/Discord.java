package dev.cordon.channel.discord;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.ChannelService;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;

/** The Discord channel adapter over the gateway (docs/channels/discord.md). */
public final class Discord {
    /** The channel's name as stored with its chats: chats are {@code discord:CHANNEL_ID}. */
    public static final String NAME = "discord";

    private Discord() {}

    /**
     * An adapter for {@code settings} (with its token filled in); {@link ChannelService#start}
     * connects it.
     *
     * @throws IllegalArgumentException if the token is missing
     */
    public static ChannelService channel(DiscordSettings settings) {
        if (settings.token() == null) {
            throw new IllegalArgumentException("the Discord adapter needs the bot token");
        }
        HttpClient http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .build();
        SplittableRandom random = new SplittableRandom();
        return new DiscordChannel(
                settings,
                new DiscordRest(
                        http,
                        settings,
                        new Backoff(Duration.ofSeconds(2), Duration.ofMinutes(2), random.split()),
                        Clock.systemUTC()),
                http,
                new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5), random.split()),
                random.split(),
                Duration.ofSeconds(1));
    }
}
