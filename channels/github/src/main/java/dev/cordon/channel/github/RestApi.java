package dev.cordon.channel.github;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HttpDelivery;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Creates issue comments through GitHub's REST API ({@code POST
 * /repos/OWNER/REPO/issues/NUMBER/comments}) and reads its answers the way GitHub documents them:
 *
 * <ul>
 *   <li>201: the comment, with its {@code id};
 *   <li>primary rate limit: {@code x-ratelimit-remaining: 0} on a 403 or 429, wait until {@code
 *       x-ratelimit-reset} (Unix seconds); the adapter also waits that long before its next call
 *       when a success said the budget is spent;
 *   <li>secondary rate limit: 403 or 429 with {@code retry-after} seconds;
 *   <li>5xx, and no answer: retried with back-off; 401 (a bad token): retried, so replies wait for a
 *       fixed token;
 *   <li>403 otherwise (no access, a locked issue), 404, 410 and 422: failed for good.
 * </ul>
 *
 * The token is sent only in the {@code Authorization} header and never appears in a message.
 *
 * <p>GitHub has no idempotency key for comments. Each comment therefore ends with a hidden marker
 * ({@link #marker}, an HTML comment GitHub does not show) derived from the reply's idempotency key,
 * and every attempt first lists the issue's comments since the reply was stored ({@code GET
 * .../comments?since=}, the first 100) and, if the bot's comment with the marker is there, reports
 * it delivered instead of posting it again. Nothing of earlier attempts is remembered here: the
 * look works the same after an attempt with an unknown outcome (no answer, or a 5xx, which GitHub
 * may send after the comment was written) in this process, in one that stopped since, or on
 * another replica. It costs one {@code GET} per attempt.
 *
 * <p>Thread-safe.
 */
final class RestApi {
    static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private final GitHubSettings settings;
    private final HttpClient http;
    private final Clock clock;
    private final Backoff backoff;
    /** Before this instant the rate limit is known to be spent: no call is made. */
    private volatile Instant spentUntil = Instant.MIN;

    RestApi(GitHubSettings settings, HttpClient http, Clock clock, Backoff backoff) {
        this.settings = settings;
        this.http = http;
        this.clock = clock;
        this.backoff = backoff;
    }

    /**
     * Comments {@code text} on issue {@code issue} of {@code repo}, with the marker of {@code key},
     * unless a comment of the bot with that marker is there already (an earlier attempt whose answer
     * was lost). Blocks for the calls.
     *
     * @param storedAt when the reply was stored, or null: its comment cannot be older; the look
     *     lists the issue's first 100 comments when null
     */
    DeliveryResult comment(String repo, long issue, String text, String key, Instant storedAt) {
        Instant now = clock.instant();
        if (now.isBefore(spentUntil)) {
            return new DeliveryResult.RetryLater(
                    Duration.between(now, spentUntil), "GitHub's rate limit is spent until " + spentUntil);
        }
        String where = "GitHub " + repo + "#" + issue;
        String marker = marker(key);
        // Clocks differ: a minute's slack before the host's time of storing.
        String since = storedAt == null ? "" : "&since=" + storedAt.minusSeconds(60);
        DeliveryResult found = HttpDelivery.send(
                http,
                request(repo, issue, "?per_page=100" + since).GET().build(),
                backoff,
                where,
                response -> lookedUp(where, response, marker));
        if (!(found instanceof DeliveryResult.NoRecipient)) {
            // Delivered before, or the look failed: posting blind could show the comment twice.
            return found;
        }
        HttpRequest request = request(repo, issue, "")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        JSON.writeValueAsString(Map.of("body", text + "\n\n" + marker))))
                .build();
        return HttpDelivery.send(http, request, backoff, where, response -> answer(where, response));
    }

    /** The hidden line that ends every comment: {@code <!-- cordon:HASH -->}, HASH from {@code key} alone. */
    static String marker(String key) {
        try {
            byte[] hash = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "<!-- cordon:" + java.util.HexFormat.of().formatHex(hash, 0, 12) + " -->";
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** Room the marker takes in a comment. */
    static final int MARKER_ROOM = 2 + marker("").length();

    private HttpRequest.Builder request(String repo, long issue, String query) {
        return HttpRequest.newBuilder(
                        URI.create(settings.apiUrl() + "/repos/" + repo + "/issues/" + issue + "/comments" + query))
                .timeout(TIMEOUT)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
                .header("User-Agent", "cordon")
                .header("Authorization", "Bearer " + settings.token());
    }

    /**
     * Delivered if the bot's comment with {@code marker} is in the list; {@link
     * DeliveryResult.NoRecipient} (here: none found, so post it) if not; else what GitHub's refusal
     * means.
     */
    private DeliveryResult lookedUp(String where, HttpResponse<String> response, String marker) {
        if (response.statusCode() != 200) {
            // Read like the POST's answer: a gone issue fails for good, rate limits and outages wait.
            return answer(where, response);
        }
        for (JsonNode c : HttpDelivery.json(response.body())) {
            if (c.path("body").asString("").endsWith(marker)
                    && c.path("user").path("login").asString("").equalsIgnoreCase(settings.login())) {
                return new DeliveryResult.Delivered(c.path("id").asString());
            }
        }
        return new DeliveryResult.NoRecipient();
    }

    private DeliveryResult answer(String where, HttpResponse<String> response) {
        int status = response.statusCode();
        Optional<String> remaining = response.headers().firstValue("x-ratelimit-remaining");
        Optional<Instant> reset = response.headers()
                .firstValue("x-ratelimit-reset")
                .filter(v -> v.matches("[0-9]{1,12}"))
                .map(v -> Instant.ofEpochSecond(Long.parseLong(v)));
        boolean spent = remaining.filter("0"::equals).isPresent();
        if (spent && reset.isPresent()) {
            spentUntil = reset.get();
        }
        String said = where + ": GitHub answered " + status + " (" + message(response.body()) + ")";
        if (status == 201) {
            backoff.reset();
            return new DeliveryResult.Delivered(
                    HttpDelivery.json(response.body()).path("id").asString());
        }
        if (status == 403 || status == 429) {
            Optional<Duration> retryAfter = HttpDelivery.retryAfter(response);
            if (retryAfter.isPresent()) {
                return new DeliveryResult.RetryLater(retryAfter.get(), said + ": secondary rate limit");
            }
            if (spent) {
                Duration wait = reset.map(r -> Duration.between(clock.instant(), r))
                        .filter(d -> !d.isNegative())
                        .orElse(Duration.ofMinutes(1));
                return new DeliveryResult.RetryLater(wait.plusSeconds(1), said + ": rate limit spent");
            }
        }
        if (status >= 500 || status == 401) {
            return new DeliveryResult.RetryLater(backoff.next(), said);
        }
        return new DeliveryResult.Failed(said);
    }

    /** GitHub's {@code message}, or the start of a body that is not its JSON. */
    private static String message(String body) {
        JsonNode n = HttpDelivery.json(body);
        String m = n.path("message").asString(null);
        if (m != null) {
            return m;
        }
        String b = body == null ? "" : body.strip();
        return b.length() > 200 ? b.substring(0, 200) + "..." : b;
    }
}
