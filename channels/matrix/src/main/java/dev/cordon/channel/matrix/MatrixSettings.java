package dev.cordon.channel.matrix;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * Which account the Matrix adapter runs as. The account's user id comes from the homeserver
 * ({@code whoami}), so it cannot disagree with the token.
 *
 * @param homeserver the client-server API's base URL, e.g. {@code https://matrix.example.org};
 *     plain http only on loopback, since the access token travels with every request
 * @param token the account's access token; comes from the vault, never the config
 * @param pollTimeout how long one {@code /sync} long poll may wait for news
 * @param joinOnInvite whether the account joins the rooms it is invited to
 * @param syncToken the file that keeps the last {@code next_batch} handled, or null before the
 *     daemon fills it in
 */
public record MatrixSettings(URI homeserver, String token, Duration pollTimeout, boolean joinOnInvite, Path syncToken) {
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "[::1]", "::1");

    /** @throws IllegalArgumentException naming the field that is wrong and what it should be */
    public MatrixSettings {
        String scheme = homeserver.getScheme();
        if (homeserver.getHost() == null || !("https".equals(scheme) || "http".equals(scheme))) {
            throw new IllegalArgumentException("homeserver: '" + homeserver + "' is not an http(s) URL");
        }
        if ("http".equals(scheme) && !LOOPBACK.contains(homeserver.getHost())) {
            throw new IllegalArgumentException("homeserver: '" + homeserver
                    + "' must use https (the access token goes with every request); http only on loopback");
        }
        homeserver = URI.create(homeserver.toString().replaceAll("/+$", ""));
        if (token != null && (token.isBlank() || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f))) {
            throw new IllegalArgumentException("token: the secret is not a Matrix access token (printable ASCII)");
        }
        if (pollTimeout.isNegative() || pollTimeout.compareTo(Duration.ofMinutes(2)) > 0) {
            throw new IllegalArgumentException("poll_seconds: must be from 0 to 120, got " + pollTimeout.toSeconds());
        }
    }

    /** Without the token: settings end up in logs and messages. */
    @Override
    public String toString() {
        return "MatrixSettings[" + homeserver + (token == null ? "" : ", token set") + ", poll "
                + pollTimeout.toSeconds() + " s" + (joinOnInvite ? ", joins on invite" : "") + "]";
    }
}
