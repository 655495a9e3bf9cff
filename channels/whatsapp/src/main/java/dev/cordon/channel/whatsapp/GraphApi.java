package dev.cordon.channel.whatsapp;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HttpDelivery;
import dev.cordon.core.channel.Multipart;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Sends messages through the Graph API ({@code POST /PHONE_NUMBER_ID/messages}), uploads files for
 * them ({@code POST /PHONE_NUMBER_ID/media}, multipart) and reads its answers: {@code
 * {"messages":[{"id":"wamid..."}]}} (an upload: {@code {"id":"MEDIA_ID"}}), or {@code {"error":{"message", "type",
 * "code", "error_subcode", "error_data", "fbtrace_id"}}}. What an error code means for the reply:
 *
 * <ul>
 *   <li>131047 (more than 24 hours since the person last wrote: only a template may be sent): failed
 *       for good, and the reason says so;
 *   <li>130429 (throughput), 131056 (too many to one person), 80007 and 4 (rate limits), 1, 2 and
 *       131000 (Meta's side), HTTP 5xx and no answer: retried with back-off;
 *   <li>190 (the access token expired or was revoked) and 10/200 (missing permission): retried, so
 *       replies wait for a new token instead of being lost;
 *   <li>131053 (media upload error: a type or size WhatsApp does not take) and 100 whose message is
 *       {@code Param file must be a file with one of the following types}, the upload's answer
 *       for a type outside its allow-list: {@link DeliveryResult.FileRefused}, so the host sends the
 *       text with a link (or a note) in the file's place;
 *   <li>anything else (100 invalid parameter, 131026 undeliverable, 131051 unsupported): failed.
 * </ul>
 *
 * The token is sent only in the {@code Authorization} header and never appears in a message.
 * Thread-safe.
 */
final class GraphApi {
    static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Duration UPLOAD_TIMEOUT = Duration.ofMinutes(2);
    private static final Set<Integer> TRANSIENT = Set.of(1, 2, 4, 80007, 130429, 131000, 131056);
    private static final Set<Integer> AUTH = Set.of(10, 190, 200);
    static final int REENGAGEMENT = 131047;
    static final int MEDIA_UPLOAD_ERROR = 131053;
    /** How the upload's code-100 answer for a media type outside WhatsApp's allow-list begins. */
    static final String TYPE_REFUSED = "Param file must be a file with one of the following types";

    private final WhatsAppSettings settings;
    private final HttpClient http;
    private final Backoff backoff;

    GraphApi(WhatsAppSettings settings, HttpClient http, Backoff backoff) {
        this.settings = settings;
        this.http = http;
        this.backoff = backoff;
    }

    /** Sends {@code message} (the body of a {@code /messages} call) and says what became of it. */
    DeliveryResult send(ObjectNode message) {
        HttpRequest request = call("messages", TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(message)))
                .build();
        return HttpDelivery.send(
                http,
                request,
                backoff,
                "the Graph API",
                r -> answer(r, a -> a.path("messages").path(0).path("id")));
    }

    /**
     * Uploads {@code file} to WhatsApp's media store ({@code messaging_product}, {@code type} (its
     * media type) and {@code file} as multipart/form-data). A {@link DeliveryResult.Delivered}
     * carries the media id a message then names; any other result is the upload's failure, read as
     * a send's is. Blocks for the upload.
     *
     * @throws IOException if the file's bytes cannot be read on the host
     */
    DeliveryResult upload(Attachment file) throws IOException {
        Multipart form = new Multipart()
                .field("messaging_product", "whatsapp")
                .field("type", file.mediaType())
                .file("file", file.name(), file.mediaType(), file.readAllBytes());
        HttpRequest request = call("media", UPLOAD_TIMEOUT)
                .header("Content-Type", form.contentType())
                .POST(form.publisher())
                .build();
        return HttpDelivery.send(
                http, request, backoff, "the Graph API's media upload", r -> answer(r, a -> a.path("id")));
    }

    private HttpRequest.Builder call(String edge, Duration timeout) {
        return HttpRequest.newBuilder(URI.create(settings.apiUrl() + "/" + settings.phoneNumberId() + "/" + edge))
                .timeout(timeout)
                .header("Authorization", "Bearer " + settings.accessToken());
    }

    /** A 2xx with the id {@code idOf} finds is delivered; an error is classified as the class comment says. */
    private DeliveryResult answer(HttpResponse<String> response, Function<JsonNode, JsonNode> idOf) {
        JsonNode answer = HttpDelivery.json(response.body());
        JsonNode id = idOf.apply(answer);
        if (response.statusCode() / 100 == 2 && id.isString()) {
            backoff.reset();
            return new DeliveryResult.Delivered(id.asString());
        }
        JsonNode error = answer.path("error");
        int code = error.path("code").asInt(-1);
        String said = "WhatsApp answered " + response.statusCode() + " (" + code + " "
                + error.path("message").asString("no Graph API error") + detail(error) + ")";
        if (code == REENGAGEMENT) {
            return new DeliveryResult.Failed(said + ": the person last wrote more than 24 hours ago, and WhatsApp"
                    + " lets a business answer only within 24 hours (or with an approved template)");
        }
        if (code == MEDIA_UPLOAD_ERROR
                || (code == 100 && error.path("message").asString("").contains(TYPE_REFUSED))) {
            return new DeliveryResult.FileRefused(said);
        }
        if (AUTH.contains(code)) {
            return new DeliveryResult.RetryLater(
                    backoff.next(),
                    said + ": store a valid access token with cordon"
                            + " secret set NAME --host-only and restart; replies wait until then");
        }
        if (TRANSIENT.contains(code) || response.statusCode() >= 500 || response.statusCode() == 429) {
            return new DeliveryResult.RetryLater(
                    HttpDelivery.retryAfter(response).orElseGet(backoff::next), said);
        }
        return new DeliveryResult.Failed(said);
    }

    private static String detail(JsonNode error) {
        String details = error.path("error_data").path("details").asString("");
        return details.isEmpty() ? "" : ": " + details;
    }
}
