package dev.cordon.channel.matrix;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.ChannelService;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.SplittableRandom;

/** The Matrix channel adapter (docs/channels/matrix.md). */
public final class Matrix {
    /** The channel's name as stored with its chats: chats are {@code matrix:!ROOM:SERVER}. */
    public static final String NAME = "matrix";

    private Matrix() {}

    /**
     * An adapter for {@code settings} (with its token and sync token file filled in); {@link
     * ChannelService#start} starts its sync loop.
     *
     * @throws IllegalArgumentException if the token or the sync token file is missing
     */
    public static ChannelService channel(MatrixSettings settings) {
        if (settings.token() == null || settings.syncToken() == null) {
            throw new IllegalArgumentException("the Matrix adapter needs an access token and a sync token file");
        }
        return new MatrixChannel(
                settings,
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(),
                new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5), new SplittableRandom()),
                new Backoff(Duration.ofSeconds(2), Duration.ofMinutes(2), new SplittableRandom()));
    }
}
