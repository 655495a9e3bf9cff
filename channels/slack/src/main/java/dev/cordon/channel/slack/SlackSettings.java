package dev.cordon.channel.slack;

import java.net.URI;

/**
 * Where and as whom the Slack adapter connects.
 *
 * @param api the Web API's base, {@code https://slack.com/api/} unless testing or on GovSlack
 * @param appToken the app-level token ({@code xapp-…}, scope {@code connections:write}) that opens
 *     Socket Mode connections; from the vault, never the config
 * @param botToken the bot token ({@code xoxb-…}) that posts replies; from the vault, never the config
 */
public record SlackSettings(URI api, String appToken, String botToken) {
    /** The public Slack Web API. */
    public static final URI SLACK_API = URI.create("https://slack.com/api/");

    /** @throws IllegalArgumentException naming the field that is wrong and what it should be */
    public SlackSettings {
        if (api == null || !api.isAbsolute() || !api.getPath().endsWith("/")) {
            throw new IllegalArgumentException(
                    "api_url: must be an absolute URL ending in /, like " + SLACK_API + ", got " + api);
        }
        boolean loopback = "127.0.0.1".equals(api.getHost()) || "localhost".equals(api.getHost());
        if (!"https".equals(api.getScheme()) && !loopback) {
            throw new IllegalArgumentException("api_url: must be https (plain http only on loopback), got " + api);
        }
        if (appToken != null && !appToken.startsWith("xapp-")) {
            throw new IllegalArgumentException(
                    "app_token_secret: the secret is not an app-level token (xapp-…); make one under Basic"
                            + " Information → App-Level Tokens with scope connections:write");
        }
        if (botToken != null && !botToken.startsWith("xoxb-")) {
            throw new IllegalArgumentException("bot_token_secret: the secret is not a bot token (xoxb-…); it is under"
                    + " OAuth & Permissions → Bot User OAuth Token");
        }
    }

    /** Without the tokens: settings end up in logs and messages. */
    @Override
    public String toString() {
        return "SlackSettings[" + api + (appToken == null ? "" : ", app token set")
                + (botToken == null ? "" : ", bot token set") + "]";
    }
}
