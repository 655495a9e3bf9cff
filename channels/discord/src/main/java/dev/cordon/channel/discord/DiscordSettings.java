package dev.cordon.channel.discord;

import java.net.URI;
import java.nio.file.Path;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where and as which bot the Discord adapter connects.
 *
 * @param api the REST API's base, {@code https://discord.com/api/v10/} unless testing; it also
 *     names the gateway to connect to ({@code GET /gateway/bot})
 * @param token the bot's token (Developer Portal → Bot → Reset Token); from the vault, never the
 *     config
 * @param sessionFile where the gateway session (id, resume URL, last sequence handled) is kept, so
 *     that a restart within Discord's resume window resumes it and misses nothing; null keeps it in
 *     memory only
 */
public record DiscordSettings(URI api, String token, Path sessionFile) {
    /** Discord's REST API, version 10 (the gateway version the adapter speaks too). */
    public static final URI DISCORD_API = URI.create("https://discord.com/api/v10/");

    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{10,}");
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "[::1]", "::1");

    /** @throws IllegalArgumentException naming the field that is wrong and what it should be */
    public DiscordSettings {
        if (api == null
                || !api.isAbsolute()
                || api.getHost() == null
                || !api.getPath().endsWith("/")) {
            throw new IllegalArgumentException(
                    "api_url: must be an absolute URL ending in /, like " + DISCORD_API + ", got " + api);
        }
        if (!"https".equals(api.getScheme()) && !("http".equals(api.getScheme()) && loopback(api))) {
            throw new IllegalArgumentException(
                    "api_url: must be https (the bot token goes with every request; http only on loopback), got "
                            + api);
        }
        if (token != null) {
            token = token.strip();
            if (token.startsWith("Bot ")) {
                token = token.substring(4).strip();
            }
            if (!TOKEN.matcher(token).matches()) {
                throw new IllegalArgumentException("token_secret: the secret is not a Discord bot token (three parts"
                        + " joined by dots); copy it from the Developer Portal → your application → Bot → Reset"
                        + " Token");
            }
        }
    }

    /** Whether {@code url}'s host is this machine: plain http and ws are allowed only there. */
    static boolean loopback(URI url) {
        return url.getHost() != null && LOOPBACK.contains(url.getHost());
    }

    /** Without the token: settings end up in logs and messages. */
    @Override
    public String toString() {
        return "DiscordSettings[" + api + (token == null ? "" : ", token set") + "]";
    }
}
