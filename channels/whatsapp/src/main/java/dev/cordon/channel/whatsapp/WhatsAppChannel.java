package dev.cordon.channel.whatsapp;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.Capabilities;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HookChannel;
import dev.cordon.core.channel.HookRequest;
import dev.cordon.core.channel.HookResponse;
import dev.cordon.core.channel.HookSignature;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The WhatsApp adapter on Meta's Cloud API: Meta calls {@code /hooks/whatsapp} (a {@code GET}
 * handshake when the webhook is subscribed, then a signed {@code POST} per batch of events), and
 * replies go out through the Graph API ({@link GraphApi}), as text, as up to three reply buttons, or
 * as a document ({@link WhatsAppDocument}).
 *
 * <p>A {@code POST} is taken only if {@code X-Hub-Signature-256} is the HMAC-SHA256 of the body with
 * the app secret (constant-time comparison). Meta signs no timestamp and retries a failed delivery
 * for days, so there is no replay window: a replayed batch carries {@code wamid}s the host already
 * stored, which its dedup answers without a second message.
 *
 * <p>Durable before acknowledged (invariant 6): the 200 is sent only after the sink decided on every
 * message of the batch; if one cannot be stored the answer is 503 and Meta sends the batch again
 * (the ones stored are recognised as duplicates). Thread-safe.
 */
final class WhatsAppChannel implements HookChannel {
    private static final Logger LOG = LoggerFactory.getLogger(WhatsAppChannel.class);
    /** WhatsApp's limit for a text message's body, in characters. */
    static final int MAX_TEXT = 4096;

    /**
     * Room kept under {@link #MAX_TEXT} for options that cannot be buttons and go as a numbered list
     * below the text: the host splits long replies at {@code MAX_TEXT - OPTIONS_ROOM}.
     */
    static final int OPTIONS_ROOM = 512;

    static final int MAX_BUTTONS = 3;
    static final int MAX_BUTTON_TITLE = 20;
    static final int MAX_INTERACTIVE_BODY = 1024;

    private final WhatsAppSettings settings;
    private final GraphApi api;
    private final WhatsAppMedia media;
    private volatile InboundSink sink;

    WhatsAppChannel(WhatsAppSettings settings, HttpClient http, Backoff backoff) {
        this.settings = settings;
        this.api = new GraphApi(settings, http, backoff);
        this.media = new WhatsAppMedia(settings, http);
    }

    @Override
    public String name() {
        return WhatsApp.NAME;
    }

    /**
     * Text in messages of at most 4,096 characters (less {@link #OPTIONS_ROOM}); options as reply
     * buttons where WhatsApp allows them, else as a numbered list ({@link #deliver}); files uploaded
     * and sent as documents ({@link WhatsAppDocument}).
     */
    @Override
    public Capabilities capabilities() {
        return new Capabilities(false, false, false, true, true, false, MAX_TEXT - OPTIONS_ROOM);
    }

    @Override
    public void start(InboundSink sink) {
        this.sink = sink;
    }

    @Override
    public HookResponse receive(HookRequest request) {
        if (!request.path().isEmpty()) {
            return HookResponse.error(404, "WhatsApp's webhook is /hooks/whatsapp");
        }
        return switch (request.method()) {
            case "GET" -> handshake(request);
            case "POST" -> events(request);
            default -> HookResponse.error(405, "WhatsApp's webhook takes GET (the handshake) and POST (events)");
        };
    }

    /** Meta's subscription check: echo {@code hub.challenge} if {@code hub.verify_token} is ours. */
    private HookResponse handshake(HookRequest request) {
        String mode = request.query().get("hub.mode");
        String token = request.query().get("hub.verify_token");
        String challenge = request.query().get("hub.challenge");
        if (!"subscribe".equals(mode) || challenge == null || token == null) {
            return HookResponse.error(400, "expected hub.mode=subscribe, hub.verify_token and hub.challenge");
        }
        if (!MessageDigest.isEqual(
                token.getBytes(StandardCharsets.UTF_8), settings.verifyToken().getBytes(StandardCharsets.UTF_8))) {
            LOG.warn("WhatsApp: a subscription handshake with a wrong verify token was refused");
            return HookResponse.error(403, "hub.verify_token does not match channels.whatsapp.verify_token_secret");
        }
        return HookResponse.text(200, challenge);
    }

    private HookResponse events(HookRequest request) {
        byte[] body = request.body();
        if (!HookSignature.verifies(request.header("X-Hub-Signature-256").orElse(null), settings.appSecret(), body)) {
            LOG.warn("WhatsApp: a webhook with a missing or wrong X-Hub-Signature-256 was refused");
            return HookResponse.error(
                    401,
                    "X-Hub-Signature-256 is missing or does not match the app secret"
                            + " (channels.whatsapp.app_secret)");
        }
        JsonNode payload;
        try {
            payload = GraphApi.JSON.readTree(body);
        } catch (JacksonException e) {
            payload = null;
        }
        if (payload == null || !payload.isObject()) {
            return HookResponse.error(400, "the body is not a JSON object");
        }
        InboundSink s = sink;
        if (s == null) {
            return HookResponse.error(503, "the daemon is starting: Meta retries");
        }
        List<NewInbound> messages = WhatsAppMessage.read(payload, settings.phoneNumberId(), media);
        for (NewInbound m : messages) {
            try {
                if (s.accept(m) instanceof InboundSink.InboundResult.Dropped d) {
                    LOG.info(
                            "WhatsApp message {} from {} dropped: {}", m.platformMessageId(), m.senderId(), d.reason());
                }
            } catch (RuntimeException e) {
                LOG.error(
                        "WhatsApp: message {} could not be stored; Meta will send it again", m.platformMessageId(), e);
                return HookResponse.error(503, "a message could not be stored: send the batch again");
            }
        }
        return HookResponse.json(200, "messages", messages.size());
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        ObjectNode body = GraphApi.JSON
                .createObjectNode()
                .put("messaging_product", "whatsapp")
                .put("recipient_type", "individual")
                .put("to", message.platformChatId());
        if (message.replyToPlatformMessageId() != null) {
            body.putObject("context").put("message_id", message.replyToPlatformMessageId());
        }
        if (message.file() != null) {
            return WhatsAppDocument.send(api, body, message.text(), message.file());
        }
        List<String> options = message.options();
        if (!options.isEmpty() && fitsButtons(message.text(), options)) {
            ObjectNode interactive = body.put("type", "interactive").putObject("interactive");
            interactive.put("type", "button");
            interactive.putObject("body").put("text", message.text());
            ArrayNode buttons = interactive.putObject("action").putArray("buttons");
            for (int i = 0; i < options.size(); i++) {
                buttons.addObject()
                        .put("type", "reply")
                        .putObject("reply")
                        .put("id", "option-" + (i + 1))
                        .put("title", options.get(i));
            }
        } else {
            String text = message.numbered().text();
            if (text.length() > MAX_TEXT) {
                return new DeliveryResult.Failed("the reply's " + options.size() + " options are too long for"
                        + " WhatsApp: as a numbered list under the text they pass its 4,096 characters");
            }
            body.put("type", "text").putObject("text").put("preview_url", false).put("body", text);
        }
        return api.send(body);
    }

    /** WhatsApp shows at most three reply buttons of at most 20 characters, under at most 1,024. */
    static boolean fitsButtons(String text, List<String> options) {
        return options.size() <= MAX_BUTTONS
                && !text.isBlank()
                && text.length() <= MAX_INTERACTIVE_BODY
                && options.stream().allMatch(o -> !o.isBlank() && o.length() <= MAX_BUTTON_TITLE)
                && options.stream().distinct().count() == options.size();
    }

    @Override
    public void close() {
        sink = null;
    }
}
