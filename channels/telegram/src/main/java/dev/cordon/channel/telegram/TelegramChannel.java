package dev.cordon.channel.telegram;

import dev.cordon.channel.telegram.BotApi.Reply;
import dev.cordon.channel.telegram.TelegramMessage.Me;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.Capabilities;
import dev.cordon.core.channel.ChannelService;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.core.channel.PollLoop;
import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Telegram adapter: a bot on the Bot API, reading by long polling ({@code getUpdates}), so no
 * inbound server or public address is needed, and answering with {@code sendMessage}. In webhook
 * mode {@link TelegramWebhook} starts it to register the webhook instead of polling, and hands it the
 * updates Telegram POSTs ({@link #update}).
 *
 * <p>Durable before acknowledged (DESIGN.md invariant 6): Telegram forgets an update only when a
 * {@code getUpdates} asks for an {@code offset} past it. The adapter asks for the next offset only
 * after the host has stored (or decided on) every update of the batch, so the offset Telegram keeps
 * is the durable one: after a crash or restart, whatever was not yet stored comes again, and what
 * was stored but not yet confirmed comes again too and is recognised by the host's dedup on (chat,
 * message id). A store failure stops the batch at that update, which is fetched again after a
 * back-off.
 *
 * <p>Thread-safe. One virtual thread polls ({@link PollLoop}, with back-off after failures);
 * deliveries run on the caller's thread.
 */
final class TelegramChannel implements ChannelService {
    private static final Logger LOG = LoggerFactory.getLogger(TelegramChannel.class);
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);
    /** An upload carries up to the host's file limit (20 MiB by default): more time than a text. */
    private static final Duration UPLOAD_TIMEOUT = Duration.ofMinutes(2);
    /** Telegram's limit for one message's text, in UTF-16 units. */
    static final int MAX_TEXT = 4096;
    /** The kinds of update the bot asks for, by long polling and by webhook alike. */
    static final List<String> UPDATES = List.of("message", "callback_query");

    private final TelegramSettings settings;
    private final BotApi api;
    private final TelegramFiles files;
    private final PollLoop loop;
    private final Backoff sendBackoff;
    private volatile InboundSink sink;
    private volatile Me me;
    /** The next update wanted; 0 before the first batch (Telegram then starts at its oldest unconfirmed). */
    private long offset;
    /** Whether a webhook left from webhook mode was removed: {@code getUpdates} is refused while one is set. */
    private boolean unhooked;

    TelegramChannel(TelegramSettings settings, HttpClient http, Backoff pollBackoff, Backoff sendBackoff) {
        this.settings = settings;
        this.api = new BotApi(settings.apiUrl(), settings.token(), http);
        this.files = new TelegramFiles(api);
        this.loop = new PollLoop("Telegram", pollBackoff);
        this.sendBackoff = sendBackoff;
    }

    @Override
    public String name() {
        return Telegram.NAME;
    }

    /** Text of at most 4,096 characters a message (the host splits longer replies), files, and inline buttons. */
    @Override
    public Capabilities capabilities() {
        return new Capabilities(false, false, false, true, true, false, MAX_TEXT);
    }

    @Override
    public void start(InboundSink sink) {
        start(sink, () -> unhooked ? poll() : unhook());
    }

    /**
     * Starts the loop that first learns who the bot is ({@code getMe}) and then runs {@code next}
     * (long polls; in webhook mode, {@link TelegramWebhook}'s registration) until it ends.
     */
    void start(InboundSink sink, PollLoop.Step next) {
        this.sink = sink;
        loop.start("telegram-poll", () -> me == null ? identify() : next.poll());
    }

    /** The Bot API client, for {@link TelegramWebhook}. */
    BotApi api() {
        return api;
    }

    /** The background loop, for {@link TelegramWebhook}'s registration step. */
    PollLoop loop() {
        return loop;
    }

    /** Whether the bot's id and username are known ({@code getMe} answered): updates can be read. */
    boolean identified() {
        return me != null;
    }

    /**
     * Removes a webhook (one set in webhook mode before a switch back to polling): Telegram refuses
     * {@code getUpdates} while one is set. Updates it holds are kept and come by polling.
     */
    private Duration unhook() throws IOException, InterruptedException {
        return switch (api.call("deleteWebhook", BotApi.object().put("drop_pending_updates", false), SEND_TIMEOUT)) {
            case Reply.Ok ok -> {
                unhooked = true;
                yield Duration.ZERO;
            }
            case Reply.Error e -> pollFailed(e);
        };
    }

    /** Whether the last poll worked: the bot is known and {@code getUpdates} answered (for tests and status). */
    boolean isPolling() {
        return me != null && loop.trouble() == null;
    }

    /** What keeps the adapter from polling now (a conflict, a rejected token, an outage), or null. */
    String trouble() {
        return loop.trouble();
    }

    /** Learns the bot's id and username ({@code getMe}); returns how long to wait before going on. */
    private Duration identify() throws IOException, InterruptedException {
        return switch (api.call("getMe", BotApi.object(), SEND_TIMEOUT)) {
            case Reply.Ok ok -> {
                me = new Me(
                        ok.result().path("id").asLong(),
                        ok.result().path("username").asString(""));
                LOG.info("Telegram bot @{} (id {}) is polling for updates", me.username(), me.id());
                yield Duration.ZERO;
            }
            case Reply.Error e -> pollFailed(e);
        };
    }

    /** One long poll and the batch it brought; returns how long to wait before the next. */
    private Duration poll() throws IOException, InterruptedException {
        ObjectNode body = BotApi.object();
        if (offset > 0) {
            body.put("offset", offset);
        }
        body.put("timeout", settings.pollTimeout().toSeconds());
        UPDATES.forEach(body.putArray("allowed_updates")::add);
        Reply reply = api.call("getUpdates", body, settings.pollTimeout().plusSeconds(15));
        if (reply instanceof Reply.Error e) {
            return pollFailed(e);
        }
        loop.worked();
        for (JsonNode update : ((Reply.Ok) reply).result()) {
            if (loop.closed()) {
                break;
            }
            long id = update.path("update_id").asLong();
            try {
                update(update);
            } catch (RuntimeException e) {
                // Not stored: the offset stays before it, so Telegram hands it out again.
                return loop.troubled("the host could not store update " + id + " (it is fetched again): " + e);
            }
            offset = id + 1;
        }
        return Duration.ZERO;
    }

    /**
     * Hands the message an update carries to the sink and returns once the host decided on it;
     * updates of other kinds are passed over. Blocks while the sink stores.
     *
     * @throws RuntimeException if the host could not store it: the update must not be confirmed
     */
    void update(JsonNode update) {
        if (update.has("message")) {
            inbound(update.get("message"));
        } else if (update.has("callback_query")) {
            pressed(update.get("callback_query"));
        }
    }

    private void inbound(JsonNode message) {
        Optional<NewInbound> read = TelegramMessage.read(message, me, files);
        if (read.isEmpty()) {
            return;
        }
        NewInbound m = read.get();
        if (sink.accept(m) instanceof InboundSink.InboundResult.Dropped d && m.mentioned()) {
            LOG.info(
                    "Telegram message {} from {} in chat {} dropped: {}",
                    m.platformMessageId(),
                    m.senderId(),
                    m.platformChatId(),
                    d.reason());
        }
    }

    /**
     * A tap on a button: the person's answer, stored, then the tap is answered (Telegram shows a
     * spinner until it is). A tap that is no answer of ours is answered with an alert and dropped.
     */
    private void pressed(JsonNode query) {
        Optional<NewInbound> read = TelegramButtons.read(query);
        ObjectNode answer =
                BotApi.object().put("callback_query_id", query.path("id").asString());
        if (read.isEmpty()) {
            LOG.info("Telegram button press {} is not one of Cordon's (stale or foreign): dropped", query.path("id"));
            answer.put("text", "This button is no longer in use.").put("show_alert", true);
        } else if (sink.accept(read.get()) instanceof InboundSink.InboundResult.Dropped d) {
            LOG.info("Telegram button press {} dropped: {}", query.path("id"), d.reason());
            answer.put("text", "Not passed on.").put("show_alert", true);
        }
        try {
            if (api.call("answerCallbackQuery", answer, SEND_TIMEOUT) instanceof Reply.Error e) {
                // The answer is stored; only the spinner on the person's screen lasts a little longer.
                LOG.info("Telegram refused answerCallbackQuery: {} {}", e.code(), e.description());
            }
        } catch (IOException e) {
            LOG.info("Telegram's answerCallbackQuery failed (the answer is stored): {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Records a Bot API error of the loop's call as its trouble; returns how long to wait. */
    Duration pollFailed(Reply.Error e) {
        return switch (e.code()) {
            case 409 ->
                loop.troubled("Telegram refused getUpdates with 409 (" + e.description()
                        + "): another program is reading this bot's updates (a second daemon with the same token?) or a"
                        + " webhook is set (remove it with deleteWebhook); retrying");
            case 401, 404 ->
                loop.troubled("Telegram rejected the bot token (" + e.code() + " " + e.description()
                        + "): store the token from @BotFather with cordon secret set NAME --host-only and restart");
            case 429 ->
                e.retryAfter() == null
                        ? loop.troubled("Telegram flood control: " + e.description())
                        : loop.troubled("Telegram flood control: " + e.description(), e.retryAfter());
            default -> loop.troubled("Telegram answered " + e.code() + ": " + e.description());
        };
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        ObjectNode body = BotApi.object();
        String chat = message.platformChatId();
        if (chat.matches("-?[0-9]{1,20}")) {
            body.put("chat_id", Long.parseLong(chat));
        } else {
            body.put("chat_id", chat);
        }
        body.put("text", message.text());
        TelegramButtons.attach(body, message);
        String replyTo = message.replyToPlatformMessageId();
        if (replyTo != null && replyTo.matches("[0-9]{1,18}")) {
            // If the message was deleted meanwhile the answer still goes out, just not as a reply.
            body.putObject("reply_parameters")
                    .put("message_id", Long.parseLong(replyTo))
                    .put("allow_sending_without_reply", true);
        }
        Reply reply;
        try {
            reply = message.file() == null
                    ? api.call("sendMessage", body, SEND_TIMEOUT)
                    : api.upload("sendDocument", TelegramDocument.form(body, message.file()), UPLOAD_TIMEOUT);
        } catch (IOException e) {
            // Telegram has no idempotency key: if only its answer was lost, the retry shows the message twice.
            return new DeliveryResult.RetryLater(sendBackoff.next(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new DeliveryResult.RetryLater(Duration.ofSeconds(5), "interrupted");
        }
        return switch (reply) {
            case Reply.Ok ok -> {
                sendBackoff.reset();
                yield new DeliveryResult.Delivered(
                        ok.result().path("message_id").asString());
            }
            case Reply.Error e -> sendFailed(chat, e);
        };
    }

    private DeliveryResult sendFailed(String chat, Reply.Error e) {
        String said = "Telegram answered " + e.code() + " (" + e.description() + ")";
        if (e.code() == 429) {
            return new DeliveryResult.RetryLater(e.retryAfter() == null ? sendBackoff.next() : e.retryAfter(), said);
        }
        if (e.code() >= 500 || e.code() == 401 || e.code() == 404) {
            // An outage, or a token that does not work (yet): the replies wait until it is fixed.
            return new DeliveryResult.RetryLater(sendBackoff.next(), said);
        }
        if (e.migrateTo() != null) {
            return new DeliveryResult.Failed(said + ": the group became supergroup " + e.migrateTo()
                    + "; wire telegram:" + e.migrateTo() + " to the agent");
        }
        // 403 (blocked by the user, kicked from the group) and 400 (chat not found, ...) do not heal.
        return new DeliveryResult.Failed(said + " for chat " + chat);
    }

    @Override
    public void close() {
        loop.close();
    }
}
