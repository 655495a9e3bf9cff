package dev.cordon.channel.webhook;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HookSignature;
import dev.cordon.core.channel.HttpDelivery;
import dev.cordon.core.channel.OutgoingMessage;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * POSTs a reply to an endpoint's {@code reply_url}, signed like the requests Cordon takes (same
 * secret, same headers) so the receiver can tell it is Cordon's, with an {@code Idempotency-Key}
 * that stays the same across retries: a receiver that keeps the keys it saw shows a reply once even
 * when its first answer was lost. 2xx is delivered; 408, 429 and 5xx (and no answer) are retried,
 * after {@code Retry-After} when the receiver sends one; any other status fails the reply for good.
 * Thread-safe.
 */
final class ReplyPoster {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private final HttpClient http;
    private final Clock clock;
    private final Backoff backoff;

    ReplyPoster(HttpClient http, Clock clock, Backoff backoff) {
        this.http = http;
        this.clock = clock;
        this.backoff = backoff;
    }

    DeliveryResult post(WebhookSettings.Endpoint endpoint, OutgoingMessage message) {
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("endpoint", endpoint.name());
        reply.put("in_reply_to", message.replyToPlatformMessageId());
        reply.put("text", message.text());
        reply.put("options", message.options());
        reply.put("failed", message.failed());
        byte[] body = WebhookChannel.JSON.writeValueAsBytes(reply);
        String timestamp = Long.toString(clock.instant().getEpochSecond());
        HttpRequest request = HttpRequest.newBuilder(endpoint.replyUrl())
                .timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", message.idempotencyKey())
                .header(WebhookChannel.TIMESTAMP, timestamp)
                .header(
                        WebhookChannel.SIGNATURE,
                        "sha256="
                                + HookSignature.hmacSha256Hex(
                                        endpoint.secret(), (timestamp + ".").getBytes(StandardCharsets.US_ASCII), body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        String where = "reply_url of webhook " + endpoint.name();
        return HttpDelivery.send(http, request, backoff, where, response -> {
            int status = response.statusCode();
            String said = where + " answered " + status + clip(response.body());
            if (status / 100 == 2) {
                backoff.reset();
                return new DeliveryResult.Delivered(platformId(response.body(), message.idempotencyKey()));
            }
            if (status == 408 || status == 429 || status >= 500) {
                return new DeliveryResult.RetryLater(
                        HttpDelivery.retryAfter(response).orElseGet(backoff::next), said);
            }
            return new DeliveryResult.Failed(said);
        });
    }

    /** The receiver's id for the reply ({@code {"id": ...}}), or else the idempotency key. */
    private static String platformId(String body, String key) {
        JsonNode id = HttpDelivery.json(body).path("id");
        return id.isValueNode() ? id.asString() : key;
    }

    private static String clip(String body) {
        String b = body == null ? "" : body.strip();
        return b.isEmpty() ? "" : ": " + (b.length() > 200 ? b.substring(0, 200) + "..." : b);
    }
}
