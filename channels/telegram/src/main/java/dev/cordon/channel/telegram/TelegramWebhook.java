package dev.cordon.channel.telegram;

import dev.cordon.channel.telegram.BotApi.Reply;
import dev.cordon.core.channel.Capabilities;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HookChannel;
import dev.cordon.core.channel.HookRequest;
import dev.cordon.core.channel.HookResponse;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.core.channel.RecentIds;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Telegram in webhook mode, beside long polling: at start the bot tells Telegram ({@code
 * setWebhook}) to POST each update to {@code url}, the daemon's {@code /hooks/telegram} as the
 * internet reaches it, with a {@code secret_token} that Telegram sends back in {@code
 * X-Telegram-Bot-Api-Secret-Token}. Only a request carrying it (constant-time comparison) is read:
 * the URL alone is no credential. The token is new at every start, so one seen once is of no use
 * after a restart. Updates are read and replies sent exactly as in polling mode ({@link
 * TelegramChannel}).
 *
 * <p>Durable before acknowledged (invariant 6): the 200 goes out only after the host decided on the
 * update's message; if it could not store it the answer is 500 and Telegram sends the update again
 * later (it keeps them up to 24 hours). An update already taken ({@code update_id}) is answered 200
 * at once; after a restart the host's dedup on (chat, message id) recognises it instead.
 *
 * <p>Switching back to polling removes the webhook ({@link TelegramChannel#start}); stopping the
 * daemon does not, so Telegram keeps the updates that come while it is down. Thread-safe.
 */
final class TelegramWebhook implements HookChannel {
    private static final Logger LOG = LoggerFactory.getLogger(TelegramWebhook.class);
    /** What Telegram allows in a secret token: 1 to 256 of these. */
    static final Pattern SECRET = Pattern.compile("[A-Za-z0-9_-]{1,256}");

    private final TelegramChannel bot;
    private final URI url;
    private final String secret;
    /** Update ids taken lately. */
    private final RecentIds<Long> taken = new RecentIds<>(10_000);

    private volatile InboundSink sink;
    private volatile boolean registered;

    /**
     * @param bot the adapter that reads updates and sends replies; started here, in webhook mode
     * @param url where Telegram POSTs updates: https on port 443, 80, 88 or 8443 (Telegram's rule)
     * @param secret the {@code secret_token}, as {@link #SECRET} allows
     */
    TelegramWebhook(TelegramChannel bot, URI url, String secret) {
        if (!SECRET.matcher(secret).matches()) {
            throw new IllegalArgumentException("a webhook secret token is 1 to 256 of A-Z, a-z, 0-9, _ and -");
        }
        this.bot = bot;
        this.url = url;
        this.secret = secret;
    }

    @Override
    public String name() {
        return Telegram.NAME;
    }

    @Override
    public Capabilities capabilities() {
        return bot.capabilities();
    }

    @Override
    public void start(InboundSink sink) {
        this.sink = sink;
        bot.start(sink, this::register);
    }

    /** Whether Telegram accepted the webhook: updates come to {@link #receive} from now on. */
    boolean isRegistered() {
        return registered;
    }

    /** {@code setWebhook}; ends the loop once Telegram accepted it, retries with back-off until then. */
    private Duration register() throws IOException, InterruptedException {
        ObjectNode body = BotApi.object()
                .put("url", url.toString())
                .put("secret_token", secret)
                .put("drop_pending_updates", false)
                // One at a time, as polling reads them: a chat's messages reach the agent in order.
                .put("max_connections", 1);
        TelegramChannel.UPDATES.forEach(body.putArray("allowed_updates")::add);
        return switch (bot.api().call("setWebhook", body, Duration.ofSeconds(30))) {
            case Reply.Ok ok -> {
                registered = true;
                bot.loop().worked();
                LOG.info("Telegram sends this bot's updates to {}", url);
                yield null;
            }
            case Reply.Error e
            when e.code() == 400 ->
                bot.loop()
                        .gaveUp("Telegram refused the webhook " + url + " (" + e.description()
                                + "): channels.telegram.webhook_url must be a public https URL on port 443, 80, 88"
                                + " or 8443 that reaches this daemon's /hooks/telegram");
            case Reply.Error e -> bot.pollFailed(e);
        };
    }

    @Override
    public HookResponse receive(HookRequest request) {
        if (!request.method().equals("POST") || !request.path().isEmpty()) {
            return HookResponse.error(405, "Telegram POSTs updates to /hooks/telegram");
        }
        String given = request.header("X-Telegram-Bot-Api-Secret-Token").orElse("");
        if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), secret.getBytes(StandardCharsets.UTF_8))) {
            LOG.warn("Telegram: an update without this bot's webhook secret token was refused");
            return HookResponse.error(
                    401, "X-Telegram-Bot-Api-Secret-Token is missing or not the one this daemon set with setWebhook");
        }
        InboundSink s = sink;
        if (s == null || !bot.identified()) {
            return HookResponse.error(503, "the bot is starting: Telegram sends the update again");
        }
        JsonNode update;
        try {
            update = BotApi.JSON.readTree(request.body());
        } catch (JacksonException e) {
            update = null;
        }
        if (update == null || !update.path("update_id").isIntegralNumber()) {
            return HookResponse.error(400, "the body is not a Telegram Update (a JSON object with update_id)");
        }
        long id = update.get("update_id").asLong();
        if (taken.contains(id)) {
            return HookResponse.json(200, "duplicate", id);
        }
        try {
            bot.update(update);
        } catch (RuntimeException e) {
            LOG.error("Telegram: update {} could not be stored; Telegram will send it again", id, e);
            return HookResponse.error(500, "the update could not be stored: send it again");
        }
        taken.add(id);
        return HookResponse.json(200, "update", id);
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        return bot.deliver(message);
    }

    @Override
    public void close() {
        sink = null;
        bot.close();
    }
}
