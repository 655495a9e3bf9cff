package dev.cordon.channel.github;

import dev.cordon.core.channel.HttpDelivery;
import java.net.URI;
import java.util.regex.Pattern;

/**
 * Which GitHub account the adapter answers as.
 *
 * @param apiUrl the REST API's base ({@code https://api.github.com}, or {@code
 *     https://HOST/api/v3} for GitHub Enterprise Server); plain http only on loopback
 * @param login the bot account's login: a comment reaches the agent only if it mentions
 *     {@code @login}, and the account's own comments are never read
 * @param webhookSecret the webhook's secret (from the vault): the HMAC key of {@code
 *     X-Hub-Signature-256}; null only while the configuration is read
 * @param token a token that may write issue comments in the repositories (from the vault); null
 *     only while the configuration is read
 */
public record GitHubSettings(URI apiUrl, String login, byte[] webhookSecret, String token) {
    public static final URI DEFAULT_API = URI.create("https://api.github.com");
    private static final Pattern LOGIN = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?(\\[bot\\])?");

    /** @throws IllegalArgumentException naming the field that is wrong */
    public GitHubSettings {
        apiUrl = HttpDelivery.baseUrl("api_url", apiUrl);
        if (!LOGIN.matcher(login).matches()) {
            throw new IllegalArgumentException("login: '" + login + "' is not a GitHub login (letters, digits and -)");
        }
        if (webhookSecret != null && webhookSecret.length < 16) {
            throw new IllegalArgumentException(
                    "the webhook secret is shorter than 16 bytes: a short HMAC key can be guessed; use e.g. openssl rand -hex 32");
        }
    }

    /** Without the secrets: settings end up in logs. */
    @Override
    public String toString() {
        return "GitHubSettings[" + apiUrl + ", @" + login + (token == null ? "" : ", token set") + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GitHubSettings s
                && s.apiUrl.equals(apiUrl)
                && s.login.equals(login)
                && java.util.Arrays.equals(s.webhookSecret, webhookSecret)
                && java.util.Objects.equals(s.token, token);
    }

    @Override
    public int hashCode() {
        return login.hashCode();
    }
}
