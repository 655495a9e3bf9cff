package dev.cordon.channel.github;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.HookChannel;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.SplittableRandom;

/** The GitHub channel adapter (docs/channels/github.md). */
public final class GitHub {
    /** The channel's name: chats are {@code github:OWNER/REPO}, the listener's path {@code /hooks/github}. */
    public static final String NAME = "github";

    private GitHub() {}

    /**
     * An adapter for {@code settings}, with its webhook secret and token filled in.
     *
     * @throws IllegalArgumentException if a secret is missing
     */
    public static HookChannel channel(GitHubSettings settings) {
        if (settings.webhookSecret() == null || settings.token() == null) {
            throw new IllegalArgumentException("the GitHub adapter needs its webhook secret and its token");
        }
        return new GitHubChannel(
                settings,
                Clock.systemUTC(),
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(),
                new Backoff(Duration.ofSeconds(2), Duration.ofMinutes(5), new SplittableRandom()));
    }
}
