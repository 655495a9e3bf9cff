package dev.cordon.channel.discord;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.Capabilities;
import dev.cordon.core.channel.ChannelService;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.core.channel.PollLoop;
import dev.cordon.core.channel.WebSocketLink;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Discord adapter: a bot on the gateway (v10, JSON over a WebSocket the daemon opens, so no
 * public URL is needed) that answers over REST. Chats are channel ids; a thread is a thread of its
 * parent channel ({@link DiscordMessages}); senders are user ids. In a guild channel a message is
 * addressed to the bot when it mentions it or replies to it; a direct message always is.
 *
 * <p>The gateway: Hello, then Identify (intents GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT) or,
 * with a session to resume, Resume; heartbeats every {@code heartbeat_interval}, the first after a
 * random part of it (Discord's jitter). A heartbeat not acknowledged by the next one means a zombie
 * connection: dropped and resumed. Reconnect (op 7) resumes at once; Invalid Session (op 9)
 * resumes if Discord says it can, else identifies anew after 1–5 s. Close codes 4004 (bad token),
 * 4010–4014 (shards, API version, intents) stop the adapter with the reason ({@link #trouble}):
 * retrying cannot help. Every other drop reconnects with {@link Backoff}.
 *
 * <p>Durable before acknowledged (invariant 6): the gateway has no acknowledgements, but a Resume
 * replays every event after the sequence number it names. The adapter moves that number ({@link
 * GatewaySession}) past an event only once the host has decided on its message. If the host fails,
 * the connection is dropped and resumed from the event before, which Discord then sends again.
 * Redelivered messages are recognised by id (here, and by the host's dedup on the message id).
 * When Discord will not resume a session, the new one first reads each known channel's history
 * after the last message the host decided on ({@link #catchUp}).
 *
 * <p>Thread-safe. One virtual thread ({@link PollLoop}, a step per connection) connects, reads,
 * beats and reconnects; deliveries run on the caller's thread.
 */
final class DiscordChannel implements ChannelService {
    private static final Logger LOG = LoggerFactory.getLogger(DiscordChannel.class);
    /** Discord's limit for one message's {@code content}. */
    static final int MAX_TEXT = 2_000;
    /** GUILD_MESSAGES (1 << 9), DIRECT_MESSAGES (1 << 12), MESSAGE_CONTENT (1 << 15, privileged). */
    static final int INTENTS = (1 << 9) | (1 << 12) | (1 << 15);
    /** Larger gateway messages cost the connection. READY and messages are far smaller. */
    static final int MAX_MESSAGE = 4 * 1024 * 1024;
    /** SUPPRESS_EMBEDS: Discord's servers would otherwise fetch every link an agent writes. */
    private static final int SUPPRESS_EMBEDS = 1 << 2;
    /** Message flag: only the person who clicked sees it. */
    private static final int EPHEMERAL = 1 << 6;

    private static final Duration HELLO_WAIT = Duration.ofSeconds(20);
    /** Catching up reads at most this many pages of 100 messages per channel. */
    static final int MAX_CATCH_UP_PAGES = 20;

    private final DiscordSettings settings;
    private final DiscordRest rest;
    private final HttpClient http;
    private final DiscordAttachments attachments;
    private final PollLoop loop;
    private final RandomGenerator random;
    private final Duration reidentify;
    private final GatewaySession session;
    /** Channel id → where its messages belong. A channel's type never changes, so nothing expires. */
    private final Map<String, DiscordMessages.Place> places = new ConcurrentHashMap<>();
    /**
     * Messages handled lately: a replayed one is not passed on again. Touched by the loop thread
     * only, so not synchronized. Bounded; the host's dedup on the message id covers what it forgot.
     */
    private final Map<String, Boolean> handled = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > 10_000;
        }
    };

    private volatile InboundSink sink;
    private volatile String botId;
    private volatile WebSocketLink link;
    private volatile boolean ready;

    /**
     * @param random draws the heartbeat's first-beat jitter and the wait after an Invalid Session
     * @param reidentify the least wait before identifying after an Invalid Session (Discord: 1 s);
     *     the wait is up to five times it
     */
    DiscordChannel(
            DiscordSettings settings,
            DiscordRest rest,
            HttpClient http,
            Backoff backoff,
            RandomGenerator random,
            Duration reidentify) {
        this.settings = settings;
        this.rest = rest;
        this.http = http;
        this.attachments =
                new DiscordAttachments(http, "http".equals(settings.api().getScheme()));
        this.loop = new PollLoop("Discord", backoff);
        this.random = random;
        this.reidentify = reidentify;
        this.session = GatewaySession.load(settings.sessionFile());
    }

    @Override
    public String name() {
        return Discord.NAME;
    }

    /** Threads; files; buttons; text up to 2,000 characters a message (the host splits longer replies). */
    @Override
    public Capabilities capabilities() {
        return new Capabilities(true, false, false, true, true, false, MAX_TEXT);
    }

    @Override
    public void start(InboundSink sink) {
        this.sink = sink;
        loop.start("discord-gateway", this::connection);
    }

    /** Whether a gateway session is live now (READY or RESUMED on the current connection). */
    boolean isReady() {
        return ready;
    }

    /**
     * Why the adapter stopped for good (a rejected token, intents not enabled in the Developer
     * Portal), or why its last connection failed; null while it works.
     */
    String trouble() {
        return loop.trouble();
    }

    /** Whether the adapter gave up: only a change of configuration and a restart can help. */
    boolean stopped() {
        return loop.gaveUp() && !loop.running();
    }

    /** One step of the loop: a connection, served until it ends; its link is closed whatever happens. */
    private Duration connection() throws InterruptedException {
        try {
            return connectAndServe();
        } catch (IOException e) {
            return loop.troubled("gateway connection lost: " + e.getMessage());
        } finally {
            ready = false;
            WebSocketLink l = link;
            link = null;
            if (l != null) {
                l.close();
            }
        }
    }

    /**
     * One connection, served until it ends; returns the wait before the next (zero: at once), or
     * null to stop for good.
     */
    private Duration connectAndServe() throws IOException, InterruptedException {
        GatewaySession.State resume = session.state();
        URI base;
        if (resume != null) {
            base = resume.resumeUrl();
            botId = resume.botId();
        } else {
            JsonNode gateway = switch (rest.gatewayBot()) {
                case DiscordRest.Answer.Ok ok -> ok.body();
                case DiscordRest.Answer.Retry r -> throw new IOException(r.reason());
                case DiscordRest.Answer.Refused r
                when r.status() == 401 -> {
                    yield null;
                }
                case DiscordRest.Answer.Refused r -> throw new IOException(r.reason());
            };
            if (gateway == null) {
                return stop("Discord rejected the bot token (401 on GET /gateway/bot): store the token from the"
                        + " Developer Portal (Bot → Reset Token) with cordon secret set NAME --host-only and restart");
            }
            JsonNode limit = gateway.path("session_start_limit");
            if (limit.has("remaining") && limit.path("remaining").asInt() == 0) {
                Duration wait = Duration.ofMillis(limit.path("reset_after").asLong(60_000));
                return loop.troubled(
                        "Discord's daily limit of new gateway sessions is spent; the next is allowed in "
                                + wait.toSeconds() + " s",
                        wait);
            }
            base = URI.create(gateway.path("url").asString(""));
        }
        link = WebSocketLink.open(http, gatewayUrl(base), "Discord gateway", MAX_MESSAGE);
        JsonNode hello = read(link.next(HELLO_WAIT));
        if (hello == null || hello.path("op").asInt() != 10) {
            throw new IOException("the gateway did not say Hello first");
        }
        long interval = hello.path("d").path("heartbeat_interval").asLong();
        if (interval <= 0) {
            throw new IOException("the gateway's Hello has no heartbeat_interval");
        }
        if (resume != null) {
            send(op(6).set(
                            "d",
                            DiscordRest.JSON
                                    .createObjectNode()
                                    .put("token", settings.token())
                                    .put("session_id", resume.id())
                                    .put("seq", resume.seq())));
        } else {
            ObjectNode d = DiscordRest.JSON
                    .createObjectNode()
                    .put("token", settings.token())
                    .put("intents", INTENTS);
            d.putObject("properties")
                    .put("os", "linux")
                    .put("browser", "cordon")
                    .put("device", "cordon");
            send(op(2).set("d", d));
        }
        return serve(interval);
    }

    /** Reads and beats until the connection ends; returns as {@link #connectAndServe} does. */
    private Duration serve(long interval) throws IOException, InterruptedException {
        // Discord's jitter: the first beat after a random part of the interval, so that bots cut off
        // together do not all beat together.
        long nextBeat = System.nanoTime() + (long) (interval * 1_000_000L * random.nextDouble());
        boolean acked = true;
        while (!loop.closed()) {
            WebSocketLink.Frame frame = link.next(Duration.ofNanos(nextBeat - System.nanoTime()));
            if (frame == null) {
                if (!acked) {
                    throw new IOException("no heartbeat ACK within " + interval + " ms: a zombie connection, resuming");
                }
                beat();
                acked = false;
                nextBeat = System.nanoTime() + interval * 1_000_000L;
                continue;
            }
            switch (frame) {
                case WebSocketLink.Frame.Pong p -> {}
                case WebSocketLink.Frame.Closed c -> {
                    return closedBy(c);
                }
                case WebSocketLink.Frame.Text t -> {
                    JsonNode payload = read(frame);
                    if (payload == null) {
                        continue;
                    }
                    switch (payload.path("op").asInt(-1)) {
                        case 0 -> dispatch(payload);
                        case 1 -> beat(); // Discord asks for a beat now
                        case 7 -> {
                            LOG.info("Discord asked the adapter to reconnect (op 7); resuming");
                            return Duration.ZERO;
                        }
                        case 9 -> {
                            return invalidSession(payload.path("d").asBoolean(false));
                        }
                        case 11 -> acked = true;
                        default -> {} // Hello again, or ops a bot never gets
                    }
                }
            }
        }
        return null;
    }

    private void beat() throws IOException {
        GatewaySession.State s = session.state();
        ObjectNode beat = op(1);
        if (s == null) {
            beat.putNull("d");
        } else {
            beat.put("d", s.seq());
        }
        send(beat);
    }

    private Duration invalidSession(boolean resumable) {
        if (resumable) {
            LOG.info("Discord invalidated the gateway session but allows resuming it");
            return Duration.ZERO;
        }
        session.forget();
        // Discord's advice: wait a random 1–5 s before identifying again.
        Duration wait = reidentify.plusMillis((long) (reidentify.toMillis() * 4 * random.nextDouble()));
        LOG.info("Discord invalidated the gateway session; identifying anew in {} ms", wait.toMillis());
        return wait;
    }

    private Duration closedBy(WebSocketLink.Frame.Closed c) throws IOException {
        return switch (c.code()) {
            case 4004 ->
                stop("Discord closed the gateway with 4004 (authentication failed): the bot token is wrong or was"
                        + " reset; store the new one with cordon secret set NAME --host-only and restart");
            case 4014 ->
                stop("Discord closed the gateway with 4014 (disallowed intents): turn on MESSAGE CONTENT INTENT in"
                        + " the Developer Portal (your application → Bot → Privileged Gateway Intents) and restart");
            case 4010, 4011, 4012, 4013 ->
                stop("Discord closed the gateway with " + c.code() + " (" + c.why() + "); the adapter stops: its"
                        + " shard, API version or intents are not accepted");
            case 4007, 4009 -> {
                // Invalid sequence, session timed out: this session cannot be resumed.
                session.forget();
                throw new IOException(c.why() + "; identifying anew");
            }
            default -> throw new IOException(c.why());
        };
    }

    private Duration stop(String why) {
        return loop.gaveUp(why);
    }

    private void dispatch(JsonNode payload) throws IOException {
        String type = payload.path("t").asString("");
        long seq = payload.path("s").asLong(0);
        JsonNode d = payload.path("d");
        switch (type) {
            case "READY" -> {
                botId = d.path("user").path("id").asString();
                // Before the session counts as started: if catching up fails, the next one catches up again.
                catchUp();
                session.ready(
                        d.path("session_id").asString(),
                        URI.create(d.path("resume_gateway_url").asString()),
                        botId,
                        seq);
                connected("connected to the Discord gateway as bot user " + botId);
            }
            case "RESUMED" -> connected("resumed the Discord gateway session");
            case "INTERACTION_CREATE" -> clicked(d);
            case "MESSAGE_CREATE" -> {
                message(d, seq);
                if (d.hasNonNull("channel_id") && d.hasNonNull("id")) {
                    session.decided(
                            d.path("channel_id").asString(), d.path("id").asString());
                }
            }
            default -> {}
        }
        session.advance(seq);
    }

    /**
     * A new session brings only what is written from now on: what was written while none was live
     * (Discord forgot the old one) is read from the history of each channel messages came from,
     * after the last one the host decided on, oldest first, and handled like a MESSAGE_CREATE.
     */
    private void catchUp() throws IOException {
        int caught = 0;
        for (Map.Entry<String, String> mark : session.marks().entrySet()) {
            String channel = mark.getKey();
            JsonNode info = readable(channel, rest.channel(channel));
            if (info == null) {
                continue;
            }
            places.putIfAbsent(
                    channel,
                    DiscordMessages.place(
                            channel,
                            info.path("type").asInt(0),
                            info.path("parent_id").asString(null)));
            String guild = info.path("guild_id").asString(null);
            String after = mark.getValue();
            for (int page = 0; page < MAX_CATCH_UP_PAGES; page++) {
                JsonNode batch = readable(channel, rest.messagesAfter(channel, after));
                if (batch == null || batch.isEmpty()) {
                    break;
                }
                List<JsonNode> oldestFirst = new ArrayList<>();
                batch.forEach(oldestFirst::add);
                oldestFirst.sort((a, b) -> DiscordMessages.newer(
                                a.path("id").asString(), b.path("id").asString())
                        ? 1
                        : -1);
                for (JsonNode m : oldestFirst) {
                    ObjectNode event = (ObjectNode) m.deepCopy();
                    if (guild != null) {
                        event.put("guild_id", guild);
                    }
                    message(event, 0);
                    after = m.path("id").asString();
                    session.decided(channel, after);
                    caught++;
                }
                if (batch.size() < 100) {
                    break;
                }
            }
        }
        if (caught > 0) {
            LOG.info("caught up on {} Discord messages written while no gateway session was live", caught);
        }
    }

    /** The answer's body, or null (the channel is forgotten) if Discord refuses: it is gone or hidden. */
    private JsonNode readable(String channel, DiscordRest.Answer answer) throws IOException {
        return switch (answer) {
            case DiscordRest.Answer.Ok ok -> ok.body();
            case DiscordRest.Answer.Retry r -> throw new IOException(r.reason());
            case DiscordRest.Answer.Refused r -> {
                LOG.info("not catching up on Discord channel {} any more: {}", channel, r.reason());
                session.drop(channel);
                yield null;
            }
        };
    }

    private void connected(String what) {
        ready = true;
        loop.worked();
        LOG.info("{}", what);
    }

    private void message(JsonNode d, long seq) throws IOException {
        if (botId == null) {
            session.forget();
            throw new IOException("a message came before READY; identifying anew");
        }
        NewInbound message = DiscordMessages.inbound(d, botId, this::place, attachments);
        if (message == null) {
            return;
        }
        String key = message.platformChatId() + " " + message.platformMessageId();
        if (handled.containsKey(key)) {
            LOG.debug("Discord message {} delivered again (seq {}): already handled", key, seq);
            return;
        }
        try {
            InboundSink.InboundResult result = sink.accept(message);
            if (result instanceof InboundSink.InboundResult.Dropped dropped && message.mentioned()) {
                LOG.info("Discord message {} dropped: {}", key, dropped.reason());
            }
        } catch (RuntimeException e) {
            // The sequence stays before it: the resumed session sends it again.
            LOG.error("could not store the Discord message {}; resuming from before it", key, e);
            throw new IOException("the host could not store message " + key + ": " + e.getMessage());
        }
        handled.put(key, true);
    }

    /**
     * A click on a button: the person's answer, stored, then acknowledged (type 6, nothing changes
     * on screen). A click that is no answer of ours gets a message only its clicker sees, and is
     * dropped. A click Discord redelivers is recognised by the host's dedup on its interaction id.
     */
    private void clicked(JsonNode d) throws IOException {
        String channel = d.path("channel_id").asString(null);
        NewInbound press = channel == null
                ? null
                : DiscordButtons.read(
                        d, d.hasNonNull("guild_id") ? place(channel) : new DiscordMessages.Place(channel, null));
        ObjectNode answer = DiscordRest.JSON.createObjectNode();
        if (press == null) {
            LOG.info(
                    "Discord interaction {} is not a click on Cordon's buttons: dropped",
                    d.path("id").asString());
            answer.put("type", 4)
                    .putObject("data")
                    .put("content", "This button is no longer in use.")
                    .put("flags", EPHEMERAL);
        } else {
            try {
                if (sink.accept(press) instanceof InboundSink.InboundResult.Dropped dropped) {
                    LOG.info("Discord click {} dropped: {}", press.platformMessageId(), dropped.reason());
                }
            } catch (RuntimeException e) {
                throw new IOException(
                        "the host could not store click " + press.platformMessageId() + ": " + e.getMessage());
            }
            answer.put("type", 6);
        }
        if (rest.interactionCallback(d.path("id").asString(), d.path("token").asString(), answer)
                instanceof DiscordRest.Answer.Refused r) {
            // Stored already; only the clicker's spinner shows "interaction failed".
            LOG.info(
                    "Discord refused the answer to interaction {}: {}",
                    d.path("id").asString(),
                    r.reason());
        }
    }

    private DiscordMessages.Place place(String channelId) throws IOException {
        DiscordMessages.Place known = places.get(channelId);
        if (known != null) {
            return known;
        }
        DiscordMessages.Place place = switch (rest.channel(channelId)) {
            case DiscordRest.Answer.Ok ok ->
                DiscordMessages.place(
                        channelId,
                        ok.body().path("type").asInt(0),
                        ok.body().path("parent_id").asString(null));
            case DiscordRest.Answer.Retry r -> throw new IOException(r.reason());
            case DiscordRest.Answer.Refused r -> {
                LOG.warn("cannot look up Discord channel {} ({}); taking it as a channel", channelId, r.reason());
                yield new DiscordMessages.Place(channelId, null);
            }
        };
        places.put(channelId, place);
        return place;
    }

    private static ObjectNode op(int op) {
        return DiscordRest.JSON.createObjectNode().put("op", op);
    }

    private void send(ObjectNode payload) throws IOException {
        WebSocketLink l = link;
        if (l == null) {
            throw new IOException("the gateway connection is closed");
        }
        l.send(payload.toString());
    }

    /** The JSON payload of a text frame; null for one that is not JSON (ignored). */
    private static JsonNode read(WebSocketLink.Frame frame) throws IOException {
        return switch (frame) {
            case null -> null;
            case WebSocketLink.Frame.Text t -> {
                try {
                    yield DiscordRest.JSON.readTree(t.text());
                } catch (JacksonException e) {
                    LOG.warn(
                            "ignoring a gateway message that is not JSON ({} characters)",
                            t.text().length());
                    yield null;
                }
            }
            case WebSocketLink.Frame.Pong p -> null;
            case WebSocketLink.Frame.Closed c -> throw new IOException(c.why());
        };
    }

    /** {@code base} with the version and encoding asked for; wss only (ws on loopback, for tests). */
    private static URI gatewayUrl(URI base) throws IOException {
        boolean ok =
                "wss".equals(base.getScheme()) || ("ws".equals(base.getScheme()) && DiscordSettings.loopback(base));
        if (!ok || base.getHost() == null) {
            throw new IOException("Discord named a gateway that is not a wss:// URL: " + base);
        }
        String path = base.getPath() == null || base.getPath().isEmpty() ? "/" : base.getPath();
        return URI.create(base.getScheme() + "://" + base.getRawAuthority() + path + "?v=10&encoding=json");
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        message = DiscordButtons.fitted(message);
        String replyTo = message.replyToPlatformMessageId();
        String thread = DiscordMessages.threadOf(replyTo);
        String target = thread != null ? thread : message.platformChatId();
        ObjectNode body = DiscordRest.JSON
                .createObjectNode()
                .put("content", message.text())
                // Discord's idempotency: a repeat within minutes returns the message it already made.
                .put("nonce", DiscordMessages.nonce(message.idempotencyKey()))
                .put("enforce_nonce", true)
                .put("flags", SUPPRESS_EMBEDS);
        DiscordButtons.attach(body, message.options());
        // No @everyone, @here, role or user pings from an agent's text; only the person answered is notified.
        ObjectNode mentions = body.putObject("allowed_mentions");
        mentions.putArray("parse");
        mentions.put("replied_user", true);
        if (replyTo != null) {
            body.putObject("message_reference")
                    .put("message_id", DiscordMessages.messageOf(replyTo))
                    .put("fail_if_not_exists", false);
        }
        DiscordRest.Answer answer;
        try {
            answer = message.file() == null
                    ? rest.createMessage(target, body)
                    : rest.createMessage(target, body, message.file());
        } catch (java.io.IOException e) {
            return new DeliveryResult.RetryLater(
                    Duration.ofMinutes(1), "cannot read the file to send: " + e.getMessage());
        }
        return switch (answer) {
            case DiscordRest.Answer.Ok ok ->
                new DeliveryResult.Delivered(ok.body().path("id").asString());
            case DiscordRest.Answer.Retry r -> new DeliveryResult.RetryLater(r.after(), r.reason());
            // A token that does not work (yet): replies wait until it is fixed.
            case DiscordRest.Answer.Refused r
            when r.status() == 401 -> new DeliveryResult.RetryLater(Duration.ofMinutes(1), r.reason());
            case DiscordRest.Answer.Refused r ->
                new DeliveryResult.Failed("to Discord channel " + target + ": " + r.reason());
        };
    }

    /** Stops the loop (interrupting a connection in progress, whose link is then closed) and waits up to 5 s. */
    @Override
    public void close() {
        loop.close();
    }

    @Override
    public String toString() {
        return "DiscordChannel[" + settings + "]";
    }
}
