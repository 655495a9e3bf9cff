package dev.cordon.channel.webhook;

import dev.cordon.core.channel.HttpDelivery;
import java.net.URI;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The signed webhook endpoints the daemon serves under {@code /hooks/webhook/NAME}.
 *
 * @param endpoints each with its own secret; names are unique
 * @param replayWindow how far a request's signed timestamp may be from this host's clock, either way
 */
public record WebhookSettings(List<Endpoint> endpoints, Duration replayWindow) {
    /** What a name may be: it is part of a URL path and of the chat name {@code webhook:NAME}. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    public static final Duration DEFAULT_REPLAY_WINDOW = Duration.ofMinutes(5);

    /**
     * One endpoint.
     *
     * @param secret the shared HMAC key, from the vault; null only while the configuration is read
     * @param replyUrl where the agent's replies are POSTed, or null for none
     */
    public record Endpoint(String name, byte[] secret, URI replyUrl) {
        /** @throws IllegalArgumentException naming the field that is wrong */
        public Endpoint {
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("endpoint name '" + name
                        + "' must be 1-63 of a-z, 0-9, _ and -, starting with a letter or digit");
            }
            if (secret != null && secret.length < 16) {
                throw new IllegalArgumentException("the secret of endpoint " + name
                        + " is shorter than 16 bytes: a short HMAC key can be guessed; use e.g. openssl rand -hex 32");
            }
            if (replyUrl != null) {
                // Checked only: the receiver's path stays exactly as written, trailing slash and all.
                HttpDelivery.baseUrl("reply_url", replyUrl);
            }
        }

        /** Without the secret: settings end up in logs. */
        @Override
        public String toString() {
            return "Endpoint[" + name + (secret == null ? "" : ", secret set") + ", reply " + replyUrl + "]";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Endpoint e
                    && e.name.equals(name)
                    && java.util.Arrays.equals(e.secret, secret)
                    && java.util.Objects.equals(e.replyUrl, replyUrl);
        }

        @Override
        public int hashCode() {
            return name.hashCode();
        }
    }

    public WebhookSettings {
        endpoints = List.copyOf(endpoints);
        Set<String> seen = new HashSet<>();
        for (Endpoint e : endpoints) {
            if (!seen.add(e.name())) {
                throw new IllegalArgumentException("endpoint " + e.name() + " is configured twice");
            }
        }
        if (replayWindow.isNegative() || replayWindow.isZero() || replayWindow.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException(
                    "replay_window_seconds must be from 1 to 3600, got " + replayWindow.toSeconds());
        }
    }
}
