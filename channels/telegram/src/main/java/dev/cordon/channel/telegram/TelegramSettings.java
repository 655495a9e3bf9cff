package dev.cordon.channel.telegram;

import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which bot the Telegram adapter runs as.
 *
 * @param apiUrl the Bot API's base URL ({@code https://api.telegram.org}, or a local Bot API
 *     server); plain http only on loopback, since the token travels in every URL
 * @param token the bot's token from @BotFather; comes from the vault, never the config
 * @param pollTimeout how long one {@code getUpdates} long poll may wait for news
 */
public record TelegramSettings(URI apiUrl, String token, Duration pollTimeout) {
    public static final URI DEFAULT_API = URI.create("https://api.telegram.org");
    private static final Pattern TOKEN = Pattern.compile("[0-9]{1,20}:[A-Za-z0-9_-]{20,100}");
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "[::1]", "::1");

    /** @throws IllegalArgumentException naming the field that is wrong and what it should be */
    public TelegramSettings {
        String scheme = apiUrl.getScheme();
        if (apiUrl.getHost() == null || !("https".equals(scheme) || "http".equals(scheme))) {
            throw new IllegalArgumentException("api_url: '" + apiUrl + "' is not an http(s) URL");
        }
        if ("http".equals(scheme) && !LOOPBACK.contains(apiUrl.getHost())) {
            throw new IllegalArgumentException("api_url: '" + apiUrl
                    + "' must use https (the bot token is part of every request); http only on loopback");
        }
        String path = apiUrl.getPath();
        if (path != null && path.endsWith("/")) {
            apiUrl = URI.create(apiUrl.toString().replaceAll("/+$", ""));
        }
        if (token != null && !TOKEN.matcher(token).matches()) {
            throw new IllegalArgumentException(
                    "token: the secret is not a Telegram bot token (digits, a colon, then letters, digits, _ or -)");
        }
        if (pollTimeout.isNegative() || pollTimeout.compareTo(Duration.ofSeconds(50)) > 0) {
            throw new IllegalArgumentException("poll_seconds: must be from 0 to 50, got " + pollTimeout.toSeconds());
        }
    }

    /** Without the token: settings end up in logs and messages. */
    @Override
    public String toString() {
        return "TelegramSettings[" + apiUrl + (token == null ? "" : ", token set") + ", poll " + pollTimeout.toSeconds()
                + " s]";
    }
}
