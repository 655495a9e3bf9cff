package dev.cordon.core.channel;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What adapters that deliver over plain HTTP share: one call whose failure to get an answer is a
 * {@link DeliveryResult.RetryLater}, the {@code Retry-After} a platform asks for, and the rule for
 * a platform's base URL.
 */
public final class HttpDelivery {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "[::1]", "::1");

    private HttpDelivery() {}

    /**
     * Sends {@code request} and hands the answer to {@code read}. No answer (the platform is
     * unreachable, the connection broke) is a retry after the back-off's next step, naming {@code
     * where}; an interrupt is a retry in 5 s with the interrupt flag kept. Blocks for the call.
     */
    public static DeliveryResult send(
            HttpClient http,
            HttpRequest request,
            Backoff backoff,
            String where,
            Function<HttpResponse<String>, DeliveryResult> read) {
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return new DeliveryResult.RetryLater(backoff.next(), where + " could not be reached: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new DeliveryResult.RetryLater(Duration.ofSeconds(5), "interrupted");
        }
        return read.apply(response);
    }

    /** The answer's {@code Retry-After} in seconds (the HTTP-date form is not used by the platforms here), or empty. */
    public static Optional<Duration> retryAfter(HttpResponse<?> response) {
        return response.headers()
                .firstValue("Retry-After")
                .filter(v -> v.matches("[0-9]{1,6}"))
                .map(v -> Duration.ofSeconds(Long.parseLong(v)));
    }

    /** A platform's answer as JSON; an empty object if it is not JSON (an HTML error page, nothing). */
    public static JsonNode json(String body) {
        try {
            JsonNode n = JSON.readTree(body);
            return n == null ? JSON.createObjectNode() : n;
        } catch (JacksonException e) {
            return JSON.createObjectNode();
        }
    }

    /**
     * {@code url} as a platform's base URL: absolute http(s), without a trailing slash; plain http
     * only on loopback, since a token or a signature travels with every call.
     *
     * @throws IllegalArgumentException naming {@code field} and what is wrong
     */
    public static URI baseUrl(String field, URI url) {
        String scheme = url.getScheme();
        if (url.getHost() == null || !("https".equals(scheme) || "http".equals(scheme))) {
            throw new IllegalArgumentException(field + ": '" + url + "' is not an http(s) URL");
        }
        if ("http".equals(scheme) && !LOOPBACK.contains(url.getHost())) {
            throw new IllegalArgumentException(field + ": '" + url + "' must use https; http only on loopback");
        }
        return URI.create(url.toString().replaceAll("/+$", ""));
    }
}
