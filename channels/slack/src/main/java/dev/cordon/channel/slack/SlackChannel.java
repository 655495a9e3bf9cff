package dev.cordon.channel.slack;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.Capabilities;
import dev.cordon.core.channel.ChannelService;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.core.channel.WebSocketLink;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The Slack adapter over Socket Mode: an outbound WebSocket, so it works behind NAT with no public
 * URL. Chats are Slack channel ids ({@code C…} channels, {@code G…} private ones, {@code D…} direct
 * messages); senders are user ids ({@code U…}); a message's id is its {@code ts}, with its thread
 * ({@link SlackEvents}). In a channel a message is addressed to the bot when it mentions it
 * ({@code <@BOT>}, or an {@code app_mention} event); a direct message always is.
 *
 * <p>Durable before acknowledged (invariant 6): an {@code events_api} envelope is acknowledged with
 * its {@code envelope_id} only after the sink has decided on its message (stored, held, answered,
 * or dropped and audited). If the sink fails, or the socket drops first, the envelope stays
 * unacknowledged and Slack delivers it again ({@code retry_attempt}). Redeliveries of an event
 * already handled ({@code event_id}), and the second event Slack sends for one mention (a {@code
 * message} and an {@code app_mention} with the same {@code ts}), are acknowledged without reaching
 * the sink again; the host's own dedup on the message id stands behind this.
 *
 * <p>A {@code disconnect} envelope (Slack refreshes connections every few hours) makes the adapter
 * open a new connection at once; a dropped or silent socket, or a failed {@code
 * apps.connections.open}, makes it reconnect with {@link Backoff}. Replies go over the Web API
 * ({@code chat.postMessage}), not the socket, so they do not wait for it.
 *
 * <p>Thread-safe. One virtual thread connects, reads, acknowledges and reconnects; deliveries run
 * on the caller's thread.
 */
final class SlackChannel implements ChannelService {
    private static final Logger LOG = LoggerFactory.getLogger(SlackChannel.class);
    /** Silence after which the adapter pings Slack; twice that without a word means the link is dead. */
    static final Duration IDLE = Duration.ofSeconds(30);
    /** Slack's advice is at most 4,000 characters per message; it cuts at 40,000. */
    static final int MAX_TEXT = 4_000;
    /** Larger Socket Mode messages are refused: Slack's events are far smaller. */
    static final int MAX_MESSAGE = 1024 * 1024;

    private final SlackSettings settings;
    private final SlackApi api;
    private final HttpClient http;
    private final Backoff backoff;
    /** Event dedup and mention detection, shared with the Events API ({@link SlackEventsEndpoint}). */
    private final SlackIntake intake;

    private volatile InboundSink sink;
    private volatile WebSocketLink link;
    private volatile boolean ready;
    private volatile boolean closed;
    private Thread loop;

    SlackChannel(SlackSettings settings, SlackApi api, HttpClient http, Backoff backoff) {
        this.settings = settings;
        this.api = api;
        this.http = http;
        this.backoff = backoff;
        this.intake = new SlackIntake(api);
    }

    @Override
    public String name() {
        return Slack.NAME;
    }

    /** Threads; files; buttons; text up to {@link #MAX_TEXT} characters a message (the host splits longer replies). */
    @Override
    public Capabilities capabilities() {
        return new Capabilities(true, false, false, true, true, false, MAX_TEXT);
    }

    @Override
    public synchronized void start(InboundSink sink) {
        if (loop != null) {
            throw new IllegalStateException("the Slack adapter is already started");
        }
        this.sink = sink;
        loop = Thread.ofVirtual().name("slack-socket-mode").start(this::run);
    }

    /** Whether a Socket Mode connection is open and greeted ({@code hello}) now. */
    boolean isReady() {
        return ready;
    }

    private void run() {
        while (!closed) {
            boolean refresh = false;
            try {
                refresh = connectAndServe();
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.warn("Slack Socket Mode connection lost: {}", e.toString());
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                ready = false;
                WebSocketLink l = link;
                link = null;
                if (l != null) {
                    l.close();
                }
            }
            if (closed) {
                return;
            }
            if (refresh) {
                continue;
            }
            Duration wait = backoff.next();
            LOG.info("reconnecting to Slack in {} ms", wait.toMillis());
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One connection, served until it ends; true if Slack asked for a new one (no back-off). */
    private boolean connectAndServe() throws IOException, InterruptedException {
        // Known before the first event: a bot token Slack refuses fails here, with Slack's reason.
        intake.botUserId();
        URI url = URI.create(expectOk(api.openConnection()).path("url").asString());
        link = WebSocketLink.open(http, url, "Socket Mode", MAX_MESSAGE);
        boolean pinged = false;
        while (!closed) {
            WebSocketLink.Frame frame = link.next(IDLE);
            if (frame == null) {
                if (pinged) {
                    throw new IOException(
                            "Slack said nothing for " + IDLE.multipliedBy(2).toSeconds() + " s");
                }
                link.ping();
                pinged = true;
                continue;
            }
            pinged = false;
            switch (frame) {
                case WebSocketLink.Frame.Pong p -> {}
                case WebSocketLink.Frame.Closed c -> throw new IOException(c.why());
                case WebSocketLink.Frame.Text t -> {
                    if (handle(t.text())) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static JsonNode expectOk(SlackApi.Answer answer) throws IOException {
        return switch (answer) {
            case SlackApi.Answer.Ok ok -> ok.body();
            case SlackApi.Answer.Retry r -> throw new IOException(r.reason());
            case SlackApi.Answer.Refused r -> throw new IOException(r.reason());
        };
    }

    /** Handles one Socket Mode message; true if it is a {@code disconnect} (refresh). */
    private boolean handle(String text) throws IOException {
        JsonNode envelope;
        try {
            envelope = SlackApi.JSON.readTree(text);
        } catch (JacksonException e) {
            LOG.warn("ignoring a Socket Mode message that is not JSON ({} characters)", text.length());
            return false;
        }
        String type = envelope.path("type").asString("");
        switch (type) {
            case "hello" -> {
                ready = true;
                backoff.reset();
                LOG.info("connected to Slack over Socket Mode as bot user {}", intake.botUserId());
            }
            case "disconnect" -> {
                LOG.info(
                        "Slack asked for a new connection: {}",
                        envelope.path("reason").asString(""));
                return !envelope.path("reason").asString("").equals("link_disabled");
            }
            case "events_api" -> event(envelope);
            case "interactive" -> clicked(envelope);
            default -> {
                // Slash commands are not used: acknowledged so Slack does not retry.
                if (envelope.hasNonNull("envelope_id")) {
                    ack(envelope);
                }
            }
        }
        return false;
    }

    private void event(JsonNode envelope) throws IOException {
        if (intake.take(envelope.path("payload"), sink, "retry " + envelope.path("retry_attempt"))) {
            ack(envelope);
        }
    }

    /**
     * A click on a button ({@code block_actions}): the person's answer, acknowledged once stored (a
     * redelivery is recognised by the host's dedup on the action's time stamp). A click that is no
     * answer of ours is acknowledged and dropped.
     */
    private void clicked(JsonNode envelope) throws IOException {
        if (intake.click(
                envelope.path("payload"),
                sink,
                "envelope " + envelope.path("envelope_id").asString(""))) {
            ack(envelope);
        }
    }

    private void ack(JsonNode envelope) throws IOException {
        WebSocketLink l = link;
        if (l != null) {
            l.send(SlackApi.JSON
                    .createObjectNode()
                    .put("envelope_id", envelope.path("envelope_id").asString())
                    .toString());
        }
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        String thread = SlackEvents.threadOf(message.replyToPlatformMessageId());
        if (message.file() != null) {
            return new SlackUpload(api, http)
                    .send(message.platformChatId(), thread, SlackEvents.escape(message.text()), message.file());
        }
        OutgoingMessage shown = SlackButtons.fitted(message);
        String text = SlackEvents.escape(shown.text());
        SlackApi.Answer answer = api.postMessage(
                message.platformChatId(),
                text,
                thread,
                shown.options().isEmpty() ? null : SlackButtons.blocks(text, shown.options()));
        return switch (answer) {
            case SlackApi.Answer.Ok ok ->
                new DeliveryResult.Delivered(ok.body().path("ts").asString());
            case SlackApi.Answer.Retry r -> new DeliveryResult.RetryLater(r.after(), r.reason());
            case SlackApi.Answer.Refused r ->
                new DeliveryResult.Failed("to Slack channel " + message.platformChatId() + ": " + r.reason());
        };
    }

    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = loop;
        }
        WebSocketLink l = link;
        if (l != null) {
            l.close();
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "SlackChannel[" + settings + "]";
    }
}
