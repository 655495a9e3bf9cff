package dev.cordon.channel.slack;

import dev.cordon.core.channel.Capabilities;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HookChannel;
import dev.cordon.core.channel.HookRequest;
import dev.cordon.core.channel.HookResponse;
import dev.cordon.core.channel.HookSignature;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Slack's Events API over HTTP, beside Socket Mode: Slack POSTs each event to the Request URL,
 * {@code /hooks/slack} on the daemon's hook listener. The event is handled exactly as one that came
 * over Socket Mode ({@link SlackIntake}); replies go out the same way ({@link SlackChannel#deliver}).
 *
 * <p>A request is taken only if {@code X-Slack-Signature} is {@code v0=} and the hex HMAC-SHA256,
 * with the app's signing secret, of {@code v0:TIMESTAMP:BODY} (constant-time comparison), and its
 * {@code X-Slack-Request-Timestamp} is within {@link #REPLAY_WINDOW} of the clock: a request
 * recorded and replayed later is refused even though its signature is right. The {@code
 * url_verification} Slack sends when the Request URL is entered is answered with its challenge,
 * after the same checks.
 *
 * <p>A click on a button goes to the app's Interactivity Request URL, {@code
 * /hooks/slack/interactions}: a form-encoded {@code payload=} holding a {@code block_actions} JSON
 * object, signed and checked exactly as an event. It is taken as over
 * Socket Mode ({@link SlackIntake#click}); a click on another app's or a stale button is answered
 * 200 and dropped. The hook listener refuses a body over its size limit ({@code hooks.max_body_kb})
 * before any of it is read here.
 *
 * <p>Durable before acknowledged (invariant 6): the 200 goes out only after the sink decided on the
 * event; if it could not store it the answer is 503, and Slack sends it again ({@code
 * X-Slack-Retry-Num}), as it does when no answer comes within 3 s. A redelivery of an event already
 * taken ({@code event_id}) is answered 200 at once. Thread-safe.
 */
final class SlackEventsEndpoint implements HookChannel {
    private static final Logger LOG = LoggerFactory.getLogger(SlackEventsEndpoint.class);
    /** Slack's advice: refuse a request whose timestamp is more than five minutes off. */
    static final Duration REPLAY_WINDOW = Duration.ofMinutes(5);
    /** The Interactivity Request URL's path under {@code /hooks/slack}. */
    static final String INTERACTIONS = "/interactions";

    private final SlackChannel replies;
    private final SlackIntake intake;
    private final byte[] signingSecret;
    private final Clock clock;
    private volatile InboundSink sink;

    /**
     * @param replies the Socket Mode adapter, never started: only its {@link SlackChannel#deliver}
     *     and capabilities are used, so that both modes send replies the same way
     */
    SlackEventsEndpoint(SlackChannel replies, SlackApi api, byte[] signingSecret, Clock clock) {
        this.replies = replies;
        this.intake = new SlackIntake(api);
        this.signingSecret = signingSecret.clone();
        this.clock = clock;
    }

    @Override
    public String name() {
        return Slack.NAME;
    }

    /** Socket Mode's, buttons included: their clicks come to the Interactivity Request URL. */
    @Override
    public Capabilities capabilities() {
        return replies.capabilities();
    }

    @Override
    public void start(InboundSink sink) {
        this.sink = sink;
    }

    @Override
    public HookResponse receive(HookRequest request) {
        boolean click = request.path().equals(INTERACTIONS);
        if (!click && !request.path().isEmpty()) {
            return HookResponse.error(
                    404,
                    "Slack's events go to /hooks/slack and its clicks to /hooks/slack" + INTERACTIONS + ", not to "
                            + "/hooks/slack" + request.path());
        }
        if (!request.method().equals("POST")) {
            return HookResponse.error(
                    405, "Slack's Events API POSTs to /hooks/slack, its Interactivity to /hooks/slack" + INTERACTIONS);
        }
        byte[] body = request.body();
        HookResponse refused = unverified(request, body);
        if (refused != null) {
            return refused;
        }
        JsonNode payload = click ? formPayload(body) : json(body);
        if (payload == null || !payload.isObject()) {
            return HookResponse.error(
                    400,
                    click
                            ? "the body is not a form with a payload= field holding a JSON object"
                            : "the body is not a JSON object");
        }
        if (click) {
            return clicked(payload);
        }
        return switch (payload.path("type").asString("")) {
            case "url_verification" ->
                HookResponse.text(200, payload.path("challenge").asString(""));
            case "event_callback" -> event(request, payload);
            case "app_rate_limited" -> {
                LOG.warn("Slack is holding back this app's events: over 30,000 in an hour (app_rate_limited)");
                yield HookResponse.json(200, "ignored", "app_rate_limited");
            }
            default -> HookResponse.json(200, "ignored", payload.path("type").asString(""));
        };
    }

    /** Null if the request is signed with the signing secret and fresh; else the 401 saying why not. */
    private HookResponse unverified(HookRequest request, byte[] body) {
        String timestamp = request.header("X-Slack-Request-Timestamp").orElse("");
        if (!timestamp.matches("[0-9]{1,12}")) {
            return HookResponse.error(401, "X-Slack-Request-Timestamp is missing or not a number of seconds");
        }
        if (!signed(timestamp, body, request.header("X-Slack-Signature").orElse(""))) {
            LOG.warn(
                    "Slack: a request to /hooks/slack{} with a missing or wrong X-Slack-Signature was refused",
                    request.path());
            return HookResponse.error(
                    401,
                    "X-Slack-Signature is missing or does not match: channels.slack.signing_secret must name"
                            + " the app's Signing Secret (Basic Information → App Credentials)");
        }
        long age = clock.instant().getEpochSecond() - Long.parseLong(timestamp);
        if (Math.abs(age) > REPLAY_WINDOW.toSeconds()) {
            LOG.warn("Slack: a signed request {} s old was refused as a replay", age);
            return HookResponse.error(
                    401,
                    "X-Slack-Request-Timestamp is " + age + " s off this host's clock, more than "
                            + REPLAY_WINDOW.toSeconds() + " s: a replay, or a clock that is wrong");
        }
        return null;
    }

    /**
     * The JSON in the {@code payload} field of a form-encoded body ({@code
     * application/x-www-form-urlencoded}, as Slack sends an interaction), or null if there is none or
     * it is not JSON.
     */
    private static JsonNode formPayload(byte[] body) {
        for (String field : new String(body, StandardCharsets.US_ASCII).split("&")) {
            if (field.startsWith("payload=")) {
                try {
                    return json(URLDecoder.decode(field.substring("payload=".length()), StandardCharsets.UTF_8)
                            .getBytes(StandardCharsets.UTF_8));
                } catch (IllegalArgumentException e) {
                    return null; // a malformed %-escape
                }
            }
        }
        return null;
    }

    private static JsonNode json(byte[] body) {
        try {
            return SlackApi.JSON.readTree(body);
        } catch (JacksonException e) {
            return null;
        }
    }

    /**
     * A click, answered 200 only once stored (or recognised as no click of Cordon's and dropped).
     * Slack does not send an interaction again: on a 503 the person sees that the click failed and
     * can click again.
     */
    private HookResponse clicked(JsonNode payload) {
        InboundSink s = sink;
        if (s == null) {
            return HookResponse.error(503, "the daemon is starting: click again");
        }
        if (!intake.click(payload, s, "over HTTP")) {
            return HookResponse.error(503, "the click could not be stored: click again");
        }
        return HookResponse.text(200, "");
    }

    private HookResponse event(HookRequest request, JsonNode payload) {
        InboundSink s = sink;
        if (s == null) {
            return HookResponse.error(503, "the daemon is starting: Slack retries");
        }
        String retry = request.header("X-Slack-Retry-Num")
                .map(n -> "retry " + n + " "
                        + request.header("X-Slack-Retry-Reason").orElse(""))
                .orElse("first delivery");
        try {
            if (!intake.take(payload, s, retry)) {
                return HookResponse.error(503, "the event could not be stored: Slack sends it again");
            }
        } catch (IOException e) {
            LOG.warn("Slack: cannot learn the bot's user id, event left for Slack to redeliver: {}", e.getMessage());
            return HookResponse.error(503, "the bot's identity is not known yet: Slack sends the event again");
        }
        return HookResponse.json(200, "taken", payload.path("event_id").asString(""));
    }

    /** Whether {@code given} is {@code v0=} and the hex HMAC of {@code v0:timestamp:body}, compared in constant time. */
    private boolean signed(String timestamp, byte[] body, String given) {
        byte[] expected = ("v0="
                        + HookSignature.hmacSha256Hex(
                                signingSecret, ("v0:" + timestamp + ":").getBytes(StandardCharsets.US_ASCII), body))
                .getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(
                expected, given.strip().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        return replies.deliver(message);
    }

    @Override
    public void close() {
        sink = null;
    }

    @Override
    public String toString() {
        return "SlackEventsEndpoint[" + replies + "]";
    }
}
