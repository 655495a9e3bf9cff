package dev.cordon.channel.webhook;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.Capabilities;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HookChannel;
import dev.cordon.core.channel.HookRequest;
import dev.cordon.core.channel.HookResponse;
import dev.cordon.core.channel.HookSignature;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.InboundSink.InboundResult;
import dev.cordon.core.channel.OutgoingMessage;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Cordon's own signed webhooks: {@code POST /hooks/webhook/NAME} with a JSON object, signed with
 * the endpoint's shared secret, becomes a message in chat {@code webhook:NAME}; the agent's replies
 * go to the endpoint's {@code reply_url} ({@link ReplyPoster}).
 *
 * <p>A request is taken only if {@code X-Cordon-Signature} is {@code sha256=HEX} of HMAC-SHA256 over
 * {@code TIMESTAMP.BODY} (the {@code X-Cordon-Timestamp} header, a dot, the raw body), compared in
 * constant time, and the timestamp is within the replay window of this host's clock. Within the
 * window a replay carries an event id already stored ({@code X-Cordon-Event-Id}, the message id of
 * the chat), which the host's dedup answers without a second message; outside it, it is refused.
 *
 * <p>Durable before acknowledged (invariant 6): the 2xx is sent only after the sink stored the
 * message. Thread-safe.
 */
final class WebhookChannel implements HookChannel {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookChannel.class);
    static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern EVENT_ID = Pattern.compile("[A-Za-z0-9_.:-]{1,128}");
    static final String SIGNATURE = "X-Cordon-Signature";
    static final String TIMESTAMP = "X-Cordon-Timestamp";
    static final String EVENT = "X-Cordon-Event-Id";

    private final Map<String, WebhookSettings.Endpoint> endpoints;
    private final Duration window;
    private final Clock clock;
    private final ReplyPoster replies;
    private volatile InboundSink sink;

    WebhookChannel(WebhookSettings settings, Clock clock, HttpClient http, Backoff backoff) {
        this.endpoints = settings.endpoints().stream()
                .collect(Collectors.toUnmodifiableMap(WebhookSettings.Endpoint::name, Function.identity()));
        this.window = settings.replayWindow();
        this.clock = clock;
        this.replies = new ReplyPoster(http, clock, backoff);
    }

    @Override
    public String name() {
        return Webhook.NAME;
    }

    /** Text of any length; options go to the reply target as a list for it to show as it likes. */
    /** No "queued" notices: a reply endpoint takes every POST for an answer. */
    @Override
    public boolean takesNotices() {
        return false;
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(false, false, false, false, true, false, 0);
    }

    @Override
    public void start(InboundSink sink) {
        this.sink = sink;
    }

    @Override
    public HookResponse receive(HookRequest request) {
        if (!request.method().equals("POST")) {
            return HookResponse.error(405, "only POST is served here: send the event as a signed JSON POST");
        }
        WebhookSettings.Endpoint endpoint = endpoints.get(request.path().replaceFirst("^/", ""));
        if (endpoint == null) {
            return HookResponse.error(
                    404, "no webhook endpoint at /hooks/webhook" + request.path() + " (channels.webhook.endpoints)");
        }
        String timestamp = request.header(TIMESTAMP).orElse(null);
        if (timestamp == null || !timestamp.matches("[0-9]{1,12}")) {
            return HookResponse.error(
                    400, TIMESTAMP + " must be the time of signing in Unix seconds, got " + quoted(timestamp));
        }
        byte[] body = request.body();
        String signature = request.header(SIGNATURE).orElse(null);
        if (signature == null) {
            return HookResponse.error(
                    401,
                    SIGNATURE + " is missing: send sha256=HEX(HMAC-SHA256(secret, " + TIMESTAMP + " + '.' + body))");
        }
        if (!HookSignature.verifies(
                signature, endpoint.secret(), (timestamp + ".").getBytes(StandardCharsets.US_ASCII), body)) {
            LOG.warn("webhook {}: a request with a wrong signature was refused", endpoint.name());
            return HookResponse.error(
                    401,
                    SIGNATURE + " does not match: it must be sha256=HEX(HMAC-SHA256(secret, " + TIMESTAMP
                            + " + '.' + body)) over the body exactly as sent, with the endpoint's secret");
        }
        long skew = Math.abs(clock.instant().getEpochSecond() - Long.parseLong(timestamp));
        if (skew > window.toSeconds()) {
            LOG.warn("webhook {}: a request signed {} s from now was refused", endpoint.name(), skew);
            return HookResponse.error(
                    401,
                    TIMESTAMP + " " + timestamp + " is " + skew
                            + " s away from this server's clock; at most " + window.toSeconds()
                            + " s is accepted (an old request replayed is refused): sign with the current time");
        }
        String event = request.header(EVENT).orElse(null);
        if (event == null || !EVENT_ID.matcher(event).matches()) {
            return HookResponse.error(
                    400,
                    EVENT + " must be 1-128 of A-Za-z0-9_.:- naming this event;"
                            + " a redelivery of the same event reuses it, got " + quoted(event));
        }
        JsonNode payload;
        try {
            payload = JSON.readTree(body);
        } catch (JacksonException e) {
            payload = null;
        }
        if (payload == null || !payload.isObject()) {
            return HookResponse.error(400, "the body must be a JSON object, e.g. {\"text\": \"the build failed\"}");
        }
        return store(new NewInbound(Webhook.NAME, endpoint.name(), event, endpoint.name(), text(payload)));
    }

    /** The message the agent reads: the {@code text} field, or else the whole payload as JSON. */
    private static String text(JsonNode payload) {
        JsonNode text = payload.get("text");
        if (text != null && text.isString() && !text.asString().isBlank()) {
            return text.asString();
        }
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(payload);
    }

    private HookResponse store(NewInbound message) {
        InboundSink s = sink;
        if (s == null) {
            return HookResponse.error(503, "the daemon is starting: retry shortly");
        }
        InboundResult result;
        try {
            result = s.accept(message);
        } catch (RuntimeException e) {
            LOG.error(
                    "webhook {}: event {} could not be stored",
                    message.platformChatId(),
                    message.platformMessageId(),
                    e);
            return HookResponse.error(503, "the event could not be stored: retry it later with the same " + EVENT);
        }
        return switch (result) {
            case InboundResult.Accepted a ->
                new HookResponse(
                        202,
                        "application/json",
                        JSON.writeValueAsString(Map.of("inbound", a.inboundId(), "duplicate", a.duplicate())));
            case InboundResult.Held h -> HookResponse.json(202, "held", h.reason());
            case InboundResult.Answered a -> HookResponse.json(200, "answer", a.reply());
            case InboundResult.Dropped d -> HookResponse.error(403, "the event was not accepted: " + d.reason());
        };
    }

    private static String quoted(String s) {
        return s == null ? "nothing" : "'" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'";
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        WebhookSettings.Endpoint endpoint = endpoints.get(message.platformChatId());
        if (endpoint == null) {
            return new DeliveryResult.Failed("webhook endpoint " + message.platformChatId()
                    + " is no longer configured (channels.webhook.endpoints)");
        }
        if (endpoint.replyUrl() == null) {
            return new DeliveryResult.Failed(
                    "webhook endpoint " + endpoint.name()
                            + " has no reply_url: the reply stays in the session's transcript (set reply_url to receive replies)");
        }
        return replies.post(endpoint, message);
    }

    @Override
    public void close() {
        sink = null;
    }
}
