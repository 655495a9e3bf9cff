package dev.cordon.testkit;

import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.websocket.api.Session;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A Discord on loopback that speaks Discord's real JSON: the gateway (v10) over a real WebSocket
 * (Jetty) and the REST calls a bot makes ({@code GET /gateway/bot}, {@code GET /channels/{id}},
 * {@code GET} and {@code POST /channels/{id}/messages}).
 *
 * <p>The gateway says Hello, checks Identify (the token, else close 4004; the privileged
 * MESSAGE_CONTENT intent only if {@link #messageContentIntent enabled}, else 4014), sends READY
 * with a {@code session_id} and {@code resume_gateway_url}, numbers every dispatch ({@code s}),
 * acknowledges heartbeats (op 11) and, like Discord, keeps a session's events while its socket is
 * down: a Resume with the last sequence a bot saw replays the rest, then RESUMED; a Resume of an
 * unknown or expired session gets Invalid Session (op 9, {@code false}). Messages go to the live
 * session only if its intents cover them (GUILD_MESSAGES, DIRECT_MESSAGES); without
 * MESSAGE_CONTENT a guild message that does not mention the bot has empty {@code content}. The
 * bot's own posts come back as MESSAGE_CREATE, as on Discord.
 *
 * <p>REST checks the {@code Bot} token (401), the channel (404 {@code 10003} Unknown Channel, 403
 * {@code 50001} Missing Access), the content (1 to 2,000 characters, else 400 {@code 50006} or
 * {@code 50035}), a {@code nonce} of at most 25 characters; with {@code enforce_nonce} a repeated
 * nonce returns the message already created. Each channel's bucket allows {@link #rateLimit} posts
 * per window and says so in {@code X-RateLimit-*} headers; message {@code components} are checked
 * as Discord does (at most 5 action rows of at most 5 buttons, labels of at most 80 characters, a
 * {@code custom_id} of 1 to 100 characters unique in the message, else 400 {@code 50035}).
 * {@link #press} sends the INTERACTION_CREATE (type 3, MESSAGE_COMPONENT) a click makes; its
 * answer, {@code POST /interactions/{id}/{token}/callback}, must come once (else 400 {@code 40060}
 * "Interaction has already been acknowledged"; an unknown one 404 {@code 10062}) with a known
 * callback type. {@link #sayWithFile} attaches a person's file; the CDN serves it only by its
 * signed URL (404 "This content is no longer available." when unsigned, forged or expired). Each
 * channel's bucket says so in {@code X-RateLimit-*} headers; a post into a spent bucket gets 429
 * with {@code retry_after} (seconds, a float). Tests script more: 429s and 5xx ({@link #failNext}),
 * dropped sockets, op 7 Reconnect, op 9, close codes, silence to heartbeats.
 *
 * <p>Thread-safe. Needs {@code org.eclipse.jetty.websocket:jetty-websocket-jetty-server} on the test
 * class path (an optional dependency of the testkit).
 */
public final class FakeDiscord implements AutoCloseable {
    public static final String TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GfAkEt.fake-bot-token-for-tests_0123456789";
    public static final String BOT_ID = "1000000000000000001";
    public static final String GUILD = "1100000000000000001";
    /** A guild text channel the bot can see and write in. */
    public static final String GENERAL = "1200000000000000001";

    public static final int GUILD_MESSAGES = 1 << 9;
    public static final int DIRECT_MESSAGES = 1 << 12;
    public static final int MESSAGE_CONTENT = 1 << 15;

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern MENTION = Pattern.compile("<@!?(\\d{1,20})>");

    /** A person on the fake Discord. */
    public record User(String id, String username) {}

    /** A message the bot posted, as Discord stored it. */
    public record Posted(String channelId, String id, String content, String nonce, String replyTo, JsonNode request) {}

    /** An answer to an interaction: its id, the callback {@code type}, and the body sent. */
    public record Callback(String interactionId, int type, JsonNode body) {}

    /** Channel types as Discord numbers them: GUILD_TEXT 0, DM 1, PUBLIC_THREAD 11. */
    private record Channel(String id, int type, String guildId, String parentId, boolean botCanSee) {
        ObjectNode json() {
            ObjectNode c = JSON.createObjectNode().put("id", id).put("type", type);
            if (guildId != null) {
                c.put("guild_id", guildId).put("name", "channel-" + id.substring(id.length() - 4));
            }
            if (parentId != null) {
                c.put("parent_id", parentId);
            }
            return c;
        }
    }

    /** A gateway session: its events, numbered, kept for a Resume. */
    private static final class GatewaySession {
        final String id = UUID.randomUUID().toString().replace("-", "");
        final int intents;
        final List<ObjectNode> events = new ArrayList<>();
        Session socket;
        boolean valid = true;

        GatewaySession(int intents) {
            this.intents = intents;
        }
    }

    private record Failure(int status, String retryAfter) {}

    private final JettyFake jetty;
    private final com.sun.net.httpserver.HttpServer cdn;
    private final String cdnKey = UUID.randomUUID().toString();
    private final Map<String, byte[]> cdnFiles = new HashMap<>();
    private final Deque<Failure> cdnFailures = new ArrayDeque<>();
    private final List<String> attachmentUrls = new ArrayList<>();
    /** Links issued before this (epoch seconds) are expired. */
    private long issuedBefore;

    private final Map<String, Channel> channels = new HashMap<>();
    private final Map<String, ObjectNode> messages = new HashMap<>();
    private final Map<String, String> nonces = new HashMap<>();
    private final Map<String, Deque<Failure>> failures = new HashMap<>();
    private final Map<String, long[]> buckets = new HashMap<>();
    private final Map<Session, GatewaySession> identified = new HashMap<>();
    private final Map<String, GatewaySession> sessions = new HashMap<>();
    private final Set<Session> open = new HashSet<>();
    private final List<Posted> posted = new ArrayList<>();
    private final List<String> calls = new ArrayList<>();
    private final Map<String, String> interactions = new HashMap<>();
    private final List<Callback> callbacks = new ArrayList<>();
    private GatewaySession live;
    private long nextId = 1_300_000_000_000_000_001L;
    private long heartbeatInterval = 41_250;
    private boolean acking = true;
    private boolean contentIntent = true;
    private int sessionStarts = 999;
    private long sessionStartsResetAfter = 14_400_000;
    private int bucketSize = 5;
    private long bucketWindowMillis = 5_000;
    private int connections;
    private int identifies;
    private int resumes;
    private int heartbeats;
    private int rateLimited;
    private long lastResumeSeq = -1;

    private FakeDiscord() throws Exception {
        jetty = new JettyFake(
                "Discord",
                "/api/v10/",
                (method, path, authorization, contentType, body) -> {
                    Answer a = call(method, path, authorization, contentType, body);
                    return new JettyFake.Answer(a.status(), a.body().toString(), a.headers());
                },
                new JettyFake.Sockets() {
                    @Override
                    public void opened(Session session, String query) {
                        FakeDiscord.this.opened(session, query);
                    }

                    @Override
                    public void received(Session session, String text) {
                        FakeDiscord.this.received(session, text);
                    }

                    @Override
                    public void closed(Session session) {
                        FakeDiscord.this.closed(session);
                    }
                },
                "/gateway",
                "/resume");
        channels.put(GENERAL, new Channel(GENERAL, 0, GUILD, null, true));
        cdn = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        cdn.createContext("/attachments/", this::download);
        cdn.start();
    }

    /** A Discord with one guild and its text channel {@link #GENERAL}, on a free loopback port. */
    public static FakeDiscord start() throws Exception {
        return new FakeDiscord();
    }

    /** The REST API's base URL, as the adapter's {@code api_url}. */
    public URI api() {
        return URI.create("http://127.0.0.1:" + port() + "/api/v10/");
    }

    private int port() {
        return jetty.port();
    }

    /** The Hello's {@code heartbeat_interval} for connections opened from now on (Discord: 41,250 ms). */
    public synchronized void heartbeatInterval(long millis) {
        heartbeatInterval = millis;
    }

    /** Whether the application may use the privileged MESSAGE_CONTENT intent (Developer Portal → Bot). */
    public synchronized void messageContentIntent(boolean enabled) {
        contentIntent = enabled;
    }

    /**
     * What {@code GET /gateway/bot} says of the day's new sessions: {@code remaining} left, the
     * count refilled after {@code resetAfterMillis}. Discord allows 1,000 a day; a bot that
     * identifies with none left is locked out until the reset.
     */
    public synchronized void sessionStartLimit(int remaining, long resetAfterMillis) {
        sessionStarts = remaining;
        sessionStartsResetAfter = resetAfterMillis;
    }

    /** Each channel's bucket allows {@code posts} messages per {@code windowMillis}. */
    public synchronized void rateLimit(int posts, long windowMillis) {
        bucketSize = posts;
        bucketWindowMillis = windowMillis;
    }

    /** A new person. */
    public synchronized User user(String username) {
        return new User(Long.toString(nextId++), username);
    }

    /** A new guild text channel the bot can see. */
    public synchronized String textChannel() {
        String id = Long.toString(nextId++);
        channels.put(id, new Channel(id, 0, GUILD, null, true));
        return id;
    }

    /** A new public thread of {@code parent}; returns its channel id. */
    public synchronized String thread(String parent) {
        String id = Long.toString(nextId++);
        channels.put(id, new Channel(id, 11, GUILD, parent, true));
        return id;
    }

    /** The direct-message channel between {@code user} and the bot; returns its id. */
    public synchronized String dm(User user) {
        String id = "9" + user.id().substring(1);
        channels.putIfAbsent(id, new Channel(id, 1, null, null, true));
        return id;
    }

    /** Takes the bot's View Channel away: no more events from it; posts get 403 Missing Access. */
    public synchronized void revokeAccess(String channelId) {
        Channel c = channels.get(channelId);
        channels.put(channelId, new Channel(c.id(), c.type(), c.guildId(), c.parentId(), false));
    }

    /** Deletes a channel: posts to it get 404 Unknown Channel. */
    public synchronized void delete(String channelId) {
        channels.remove(channelId);
    }

    /** {@code user} writes {@code text} in {@code channelId}; returns the message's id. */
    public String say(User user, String channelId, String text) {
        return reply(user, channelId, text, null);
    }

    /** {@code user} answers message {@code replyTo} (null: none) in {@code channelId}; returns the new message's id. */
    public synchronized String reply(User user, String channelId, String text, String replyTo) {
        return write(user, channelId, text, replyTo, null);
    }

    /**
     * {@code user} writes {@code text} (may be empty) in {@code channelId} with a file attached, as
     * Discord's client uploads it: an {@code attachments[]} entry with {@code id}, {@code filename},
     * {@code size}, {@code content_type}, and a signed {@code url} (and {@code proxy_url}) on the
     * CDN. Returns the message's id.
     */
    public synchronized String sayWithFile(
            User user, String channelId, String text, String fileName, String contentType, byte[] bytes) {
        String id = Long.toString(nextId++);
        String path = "/attachments/" + channelId + "/" + id + "/" + fileName;
        cdnFiles.put(path, bytes);
        String expires = Long.toHexString(System.currentTimeMillis() / 1000 + 86_400);
        String issued = Long.toHexString(System.currentTimeMillis() / 1000);
        String url = "http://127.0.0.1:" + cdn.getAddress().getPort() + path + "?ex=" + expires + "&is=" + issued
                + "&hm=" + FakeGitHub.hmac(cdnKey, path + expires + issued) + "&";
        attachmentUrls.add(url);
        ArrayNode attachments = JSON.createArrayNode();
        attachments
                .addObject()
                .put("id", id)
                .put("filename", fileName)
                .put("size", bytes.length)
                .put("url", url)
                .put("proxy_url", url.replace("127.0.0.1", "localhost"))
                .put("content_type", contentType);
        return write(user, channelId, text, null, attachments);
    }

    /** The signed CDN URLs of the files people attached, in order. */
    public synchronized List<String> attachmentUrls() {
        return List.copyOf(attachmentUrls);
    }

    /** Every attachment link handed out so far expires: the CDN answers 404 to it, as after about a day. */
    public synchronized void expireAttachmentLinks() {
        issuedBefore = System.currentTimeMillis() / 1000 + 1;
    }

    /** The next CDN download is answered with {@code status} (429 with {@code Retry-After} seconds, 5xx). */
    public synchronized void failNextDownload(int status, String retryAfter) {
        cdnFailures.add(new Failure(status, retryAfter));
    }

    /**
     * The CDN ({@code cdn.discordapp.com}): a file by its signed URL; a missing, forged or expired
     * signature (or an unknown path) gets 404 "This content is no longer available.", as Discord's
     * CDN answers. No token: the signature is the credential.
     */
    private void download(com.sun.net.httpserver.HttpExchange exchange) throws java.io.IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            Map<String, String> q = JsonHttpFake.query(exchange.getRequestURI().getRawQuery());
            Failure failure;
            byte[] bytes;
            boolean valid;
            synchronized (this) {
                failure = cdnFailures.poll();
                bytes = cdnFiles.get(path);
                String ex = q.getOrDefault("ex", "");
                valid = ex.matches("[0-9a-f]{1,12}")
                        && Long.parseLong(ex, 16) > System.currentTimeMillis() / 1000
                        && q.getOrDefault("is", "").matches("[0-9a-f]{1,12}")
                        && Long.parseLong(q.get("is"), 16) >= issuedBefore
                        && FakeGitHub.hmac(cdnKey, path + ex + q.getOrDefault("is", ""))
                                .equals(q.get("hm"));
                calls.add(valid ? "cdn" : "cdn unsigned");
                if (exchange.getRequestHeaders().containsKey("Authorization")) {
                    calls.add("cdn with a token");
                }
            }
            String type = "text/plain; charset=utf-8";
            if (failure != null) {
                String said = failure.status() == 429 ? "You are being rate limited." : "";
                JsonHttpFake.bytes(
                        exchange,
                        failure.status(),
                        type,
                        said.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        failure.retryAfter() == null ? Map.of() : Map.of("Retry-After", failure.retryAfter()));
            } else if (!valid || bytes == null) {
                JsonHttpFake.bytes(
                        exchange,
                        404,
                        type,
                        "This content is no longer available.".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        Map.of());
            } else {
                JsonHttpFake.bytes(exchange, 200, "application/octet-stream", bytes, Map.of());
            }
        }
    }

    private String write(User user, String channelId, String text, String replyTo, ArrayNode attachments) {
        Channel c = channels.get(channelId);
        if (c == null) {
            throw new IllegalArgumentException("no channel " + channelId + " on the fake Discord");
        }
        ObjectNode author = JSON.createObjectNode()
                .put("id", user.id())
                .put("username", user.username())
                .put("global_name", user.username());
        ObjectNode message = message(c, author, text, replyTo);
        if (attachments != null) {
            message.set("attachments", attachments);
        }
        ArrayNode mentions = message.putArray("mentions");
        Matcher m = MENTION.matcher(text);
        while (m.find()) {
            mentions.addObject()
                    .put("id", m.group(1))
                    .put("username", m.group(1).equals(BOT_ID) ? "cordon" : "someone");
        }
        created(c, message);
        return message.path("id").asString();
    }

    private ObjectNode message(Channel c, ObjectNode author, String text, String replyTo) {
        String id = Long.toString(nextId++);
        ObjectNode message = JSON.createObjectNode()
                .put("id", id)
                .put("channel_id", c.id())
                .put("type", replyTo == null ? 0 : 19)
                .put("content", text)
                .put("timestamp", "2026-12-06T12:00:00.000000+00:00")
                .put("tts", false)
                .put("mention_everyone", false)
                .put("pinned", false);
        message.set("author", author);
        message.putArray("attachments");
        message.putArray("embeds");
        message.putArray("mentions");
        message.putArray("mention_roles");
        if (replyTo != null) {
            message.putObject("message_reference")
                    .put("type", 0)
                    .put("message_id", replyTo)
                    .put("channel_id", c.id());
            ObjectNode referenced = messages.get(replyTo);
            if (referenced != null) {
                message.set("referenced_message", referenced.deepCopy());
            }
        }
        messages.put(id, message);
        return message;
    }

    /**
     * {@code user} clicks the button labelled {@code label} on message {@code messageId}; returns the
     * interaction's id.
     *
     * @throws IllegalArgumentException if the message has no such button
     */
    public synchronized String press(User user, String messageId, String label) {
        for (JsonNode row : messages.get(messageId).path("components")) {
            for (JsonNode button : row.path("components")) {
                if (label.equals(button.path("label").asString(null))) {
                    return pressCustomId(
                            user, messageId, button.path("custom_id").asString());
                }
            }
        }
        throw new IllegalArgumentException("message " + messageId + " has no button '" + label + "'");
    }

    /** An INTERACTION_CREATE for a click with any {@code customId}, as a stale or forged client could cause. */
    public synchronized String pressCustomId(User user, String messageId, String customId) {
        ObjectNode message = messages.get(messageId);
        Channel c = channels.get(message.path("channel_id").asString());
        String id = Long.toString(nextId++);
        String token =
                "aW50ZXJhY3Rpb246" + id + "_tok-" + UUID.randomUUID().toString().replace("-", "");
        interactions.put(id, token);
        ObjectNode d = JSON.createObjectNode()
                .put("id", id)
                .put("application_id", BOT_ID)
                .put("type", 3)
                .put("token", token)
                .put("version", 1)
                .put("channel_id", c.id());
        ObjectNode who = JSON.createObjectNode()
                .put("id", user.id())
                .put("username", user.username())
                .put("global_name", user.username());
        if (c.guildId() != null) {
            d.put("guild_id", c.guildId());
            d.putObject("member").set("user", who);
        } else {
            d.set("user", who);
        }
        d.set("channel", c.json());
        d.set("message", message.deepCopy());
        d.putObject("data").put("custom_id", customId).put("component_type", 2);
        GatewaySession s = live;
        if (s != null && s.valid) {
            dispatch(s, "INTERACTION_CREATE", d);
        }
        return id;
    }

    /** Every answer to an interaction, in order. */
    public synchronized List<Callback> callbacks() {
        return List.copyOf(callbacks);
    }

    private Answer callback(String id, String token, String body) {
        if (!token.equals(interactions.get(id))) {
            return new Answer(404, error("Unknown interaction", 10062), Map.of());
        }
        JsonNode request;
        try {
            request = JSON.readTree(body);
        } catch (JacksonException e) {
            return new Answer(400, error("400: Bad Request", 50109), Map.of());
        }
        int type = request.path("type").asInt(-1);
        if (!Set.of(1, 4, 5, 6, 7, 9, 10, 12).contains(type)) {
            return invalidForm("type", "BASE_TYPE_CHOICES", "Value must be one of {1, 4, 5, 6, 7, 9, 10, 12}.");
        }
        if (type == 4 && request.path("data").path("content").asString("").isEmpty()) {
            return new Answer(400, error("Cannot send an empty message", 50006), Map.of());
        }
        if (callbacks.stream().anyMatch(c -> c.interactionId().equals(id))) {
            return new Answer(400, error("Interaction has already been acknowledged.", 40060), Map.of());
        }
        callbacks.add(new Callback(id, type, request));
        return new Answer(204, JSON.createObjectNode(), Map.of());
    }

    /** Discord's complaint about a message's {@code components}, or null if they are well formed. */
    private static Answer components(JsonNode rows) {
        if (!rows.isArray() || rows.size() > 5) {
            return invalidForm("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
        }
        Set<String> ids = new HashSet<>();
        for (int r = 0; r < rows.size(); r++) {
            JsonNode row = rows.get(r);
            String at = "components." + r;
            if (row.path("type").asInt(-1) != 1) {
                return invalidForm(at + ".type", "BASE_TYPE_CHOICES", "Value must be one of {1}.");
            }
            JsonNode buttons = row.path("components");
            if (!buttons.isArray() || buttons.isEmpty() || buttons.size() > 5) {
                return invalidForm(at + ".components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.");
            }
            for (int b = 0; b < buttons.size(); b++) {
                JsonNode button = buttons.get(b);
                String field = at + ".components." + b;
                if (button.path("type").asInt(-1) != 2) {
                    return invalidForm(field + ".type", "BASE_TYPE_CHOICES", "Value must be one of {2}.");
                }
                if (button.path("label").asString("").length() > 80) {
                    return invalidForm(field + ".label", "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.");
                }
                int style = button.path("style").asInt(-1);
                String custom = button.path("custom_id").asString("");
                if (style >= 1 && style <= 4) {
                    if (custom.isEmpty() || custom.length() > 100) {
                        return invalidForm(
                                field + ".custom_id", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
                    }
                    if (!ids.add(custom)) {
                        return invalidForm(
                                field + ".custom_id",
                                "COMPONENT_CUSTOM_ID_DUPLICATED",
                                "Component custom id cannot be duplicated");
                    }
                } else if (style != 5 || !button.path("url").isString()) {
                    return invalidForm(
                            field + ".style", "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}.");
                }
            }
        }
        return null;
    }

    /** MESSAGE_CREATE to the live session, if its intents (and the bot's access) cover the message. */
    private void created(Channel c, ObjectNode message) {
        ObjectNode event = message.deepCopy();
        if (c.guildId() != null) {
            event.put("guild_id", c.guildId());
        }
        GatewaySession s = live;
        if (s == null || !s.valid || !c.botCanSee()) {
            return;
        }
        int needed = c.guildId() == null ? DIRECT_MESSAGES : GUILD_MESSAGES;
        if ((s.intents & needed) == 0) {
            return;
        }
        boolean forTheBot = c.guildId() == null
                || message.path("content").asString().contains("<@" + BOT_ID + ">")
                || message.path("author").path("id").asString().equals(BOT_ID);
        if ((s.intents & MESSAGE_CONTENT) == 0 && !forTheBot) {
            event.put("content", "");
            event.putArray("attachments");
            event.putArray("embeds");
        }
        dispatch(s, "MESSAGE_CREATE", event);
    }

    private void dispatch(GatewaySession s, String type, ObjectNode d) {
        ObjectNode payload = JSON.createObjectNode().put("op", 0).put("t", type).put("s", s.events.size() + 1);
        payload.set("d", d);
        s.events.add(payload);
        if (s.socket != null && s.socket.isOpen()) {
            s.socket.sendText(payload.toString(), org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
    }

    /** The next post to {@code channelId} is answered with {@code status} (429 with {@code retryAfter} seconds, 5xx). */
    public synchronized void failNext(String channelId, int status, String retryAfter) {
        failures.computeIfAbsent(channelId, k -> new ArrayDeque<>()).add(new Failure(status, retryAfter));
    }

    /** Cuts the gateway connection without a closing handshake, as a network failure does; the session stays resumable. */
    public synchronized void dropSocket() {
        for (Session s : List.copyOf(open)) {
            s.disconnect();
        }
    }

    /** Closes the gateway connection with {@code code} and {@code reason}, as Discord does. */
    public synchronized void closeSocket(int code, String reason) {
        for (Session s : List.copyOf(open)) {
            s.close(code, reason, org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
    }

    /** Sends op 7 Reconnect. */
    public synchronized void askToReconnect() {
        sendAll("{\"op\":7,\"d\":null}");
    }

    /** Sends op 9 Invalid Session; unless {@code resumable}, the session is gone for good. */
    public synchronized void invalidateSession(boolean resumable) {
        if (!resumable && live != null) {
            live.valid = false;
        }
        sendAll("{\"op\":9,\"d\":" + resumable + "}");
    }

    /** Forgets every session, as Discord does some time after a bot went away: a Resume gets op 9. */
    public synchronized void expireSessions() {
        sessions.values().forEach(s -> s.valid = false);
    }

    /** Sends op 1: Discord wants a heartbeat now. */
    public synchronized void requestHeartbeat() {
        sendAll("{\"op\":1,\"d\":null}");
    }

    /** Whether heartbeats are acknowledged (op 11); off, the connection turns into a zombie for the bot. */
    public synchronized void acknowledgeHeartbeats(boolean ack) {
        acking = ack;
    }

    /**
     * Sends the MESSAGE_CREATE of {@code messageId} again with its old sequence number, as Discord
     * may after a hiccup on its side: at least once, not exactly once.
     */
    public synchronized void redeliver(String messageId) {
        if (live == null || live.socket == null) {
            throw new IllegalStateException("no live gateway connection");
        }
        ObjectNode event = live.events.stream()
                .filter(e -> e.path("t").asString().equals("MESSAGE_CREATE")
                        && e.path("d").path("id").asString().equals(messageId))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no MESSAGE_CREATE for " + messageId));
        live.socket.sendText(event.toString(), org.eclipse.jetty.websocket.api.Callback.NOOP);
    }

    /** Sends {@code text} over the gateway connection as it is: for malformed or oversized messages. */
    public synchronized void sendRaw(String text) {
        sendAll(text);
    }

    private void sendAll(String text) {
        for (Session s : open) {
            s.sendText(text, org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
    }

    /** What the bot posted, in order (a repeated nonce adds nothing). */
    public synchronized List<Posted> posted() {
        return List.copyOf(posted);
    }

    /** The REST calls made, in order, as {@code METHOD path}. */
    public synchronized List<String> calls() {
        return List.copyOf(calls);
    }

    /** How many gateway connections were opened. */
    public synchronized int connections() {
        return connections;
    }

    /** How many Identify payloads were accepted (new sessions). */
    public synchronized int identifies() {
        return identifies;
    }

    /** How many Resumes were accepted. */
    public synchronized int resumes() {
        return resumes;
    }

    /** The sequence number named by the last Resume, or -1. */
    public synchronized long lastResumeSeq() {
        return lastResumeSeq;
    }

    /** How many heartbeats (op 1) the bot sent. */
    public synchronized int heartbeats() {
        return heartbeats;
    }

    /** How many posts went into a spent bucket and got an unscripted 429. */
    public synchronized int rateLimited() {
        return rateLimited;
    }

    /** Whether a gateway connection is open with a live session. */
    public synchronized boolean connected() {
        return live != null && live.valid && live.socket != null && live.socket.isOpen();
    }

    private synchronized void opened(Session socket, String query) {
        connections++;
        open.add(socket);
        if (query == null || !query.contains("v=10") || !query.contains("encoding=json")) {
            socket.close(4012, "Invalid API version", org.eclipse.jetty.websocket.api.Callback.NOOP);
            return;
        }
        socket.sendText(
                "{\"op\":10,\"d\":{\"heartbeat_interval\":" + heartbeatInterval + "},\"s\":null,\"t\":null}",
                org.eclipse.jetty.websocket.api.Callback.NOOP);
    }

    private synchronized void received(Session socket, String text) {
        JsonNode payload;
        try {
            payload = JSON.readTree(text);
        } catch (JacksonException e) {
            socket.close(4002, "Error while decoding payload.", org.eclipse.jetty.websocket.api.Callback.NOOP);
            return;
        }
        JsonNode d = payload.path("d");
        switch (payload.path("op").asInt(-1)) {
            case 1 -> {
                heartbeats++;
                if (acking) {
                    socket.sendText("{\"op\":11}", org.eclipse.jetty.websocket.api.Callback.NOOP);
                }
            }
            case 2 -> identify(socket, d);
            case 6 -> resume(socket, d);
            default -> socket.close(4001, "Unknown opcode.", org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
    }

    private void identify(Session socket, JsonNode d) {
        if (identified.containsKey(socket)) {
            socket.close(4005, "Already authenticated.", org.eclipse.jetty.websocket.api.Callback.NOOP);
            return;
        }
        if (!TOKEN.equals(d.path("token").asString(""))) {
            socket.close(4004, "Authentication failed.", org.eclipse.jetty.websocket.api.Callback.NOOP);
            return;
        }
        int intents = d.path("intents").asInt(-1);
        if (intents < 0 || intents >= 1 << 26) {
            socket.close(4013, "Invalid intent(s).", org.eclipse.jetty.websocket.api.Callback.NOOP);
            return;
        }
        if ((intents & MESSAGE_CONTENT) != 0 && !contentIntent) {
            socket.close(4014, "Disallowed intent(s).", org.eclipse.jetty.websocket.api.Callback.NOOP);
            return;
        }
        identifies++;
        GatewaySession s = new GatewaySession(intents);
        sessions.put(s.id, s);
        if (live != null) {
            live.valid = false;
        }
        live = s;
        attach(socket, s);
        ObjectNode ready = JSON.createObjectNode()
                .put("v", 10)
                .put("session_id", s.id)
                .put("session_type", "normal")
                .put("resume_gateway_url", "ws://127.0.0.1:" + port() + "/resume");
        ready.putObject("user")
                .put("id", BOT_ID)
                .put("username", "cordon")
                .put("discriminator", "0")
                .put("bot", true);
        ready.putArray("guilds").addObject().put("id", GUILD).put("unavailable", true);
        ready.putObject("application").put("id", BOT_ID).put("flags", 0);
        dispatch(s, "READY", ready);
    }

    private void resume(Session socket, JsonNode d) {
        if (!TOKEN.equals(d.path("token").asString(""))) {
            socket.close(4004, "Authentication failed.", org.eclipse.jetty.websocket.api.Callback.NOOP);
            return;
        }
        GatewaySession s = sessions.get(d.path("session_id").asString(""));
        long seq = d.path("seq").asLong(-1);
        if (s == null || !s.valid) {
            socket.sendText("{\"op\":9,\"d\":false}", org.eclipse.jetty.websocket.api.Callback.NOOP);
            return;
        }
        if (seq < 0 || seq > s.events.size()) {
            socket.close(4007, "Invalid seq.", org.eclipse.jetty.websocket.api.Callback.NOOP);
            return;
        }
        resumes++;
        lastResumeSeq = seq;
        live = s;
        attach(socket, s);
        for (ObjectNode event : s.events.subList((int) seq, s.events.size())) {
            socket.sendText(event.toString(), org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
        dispatch(s, "RESUMED", JSON.createObjectNode());
    }

    private void attach(Session socket, GatewaySession s) {
        if (s.socket != null && s.socket != socket) {
            s.socket.close(4000, "Replaced by a new connection", org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
        s.socket = socket;
        identified.put(socket, s);
    }

    private synchronized void closed(Session socket) {
        open.remove(socket);
        GatewaySession s = identified.remove(socket);
        if (s != null && s.socket == socket) {
            s.socket = null;
        }
    }

    private synchronized Answer call(
            String method, String pathAndQuery, String authorization, String contentType, String body) {
        calls.add(method + " " + pathAndQuery);
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        Map<String, String> query = new HashMap<>();
        if (q >= 0) {
            for (String pair : pathAndQuery.substring(q + 1).split("&")) {
                int eq = pair.indexOf('=');
                query.put(eq < 0 ? pair : pair.substring(0, eq), eq < 0 ? "" : pair.substring(eq + 1));
            }
        }
        Matcher interaction = Pattern.compile("interactions/(\\d{1,20})/([A-Za-z0-9_-]{1,500})/callback")
                .matcher(path);
        if (method.equals("POST") && interaction.matches()) {
            // Interaction callbacks need no bot token: the interaction's own token authorises them.
            return callback(interaction.group(1), interaction.group(2), body);
        }
        if (!("Bot " + TOKEN).equals(authorization)) {

            return new Answer(401, error("401: Unauthorized", 0), Map.of());
        }
        if (method.equals("GET") && path.equals("gateway/bot")) {
            ObjectNode gateway = JSON.createObjectNode()
                    .put("url", "ws://127.0.0.1:" + port() + "/gateway")
                    .put("shards", 1);
            gateway.putObject("session_start_limit")
                    .put("total", 1000)
                    .put("remaining", sessionStarts)
                    .put("reset_after", sessionStartsResetAfter)
                    .put("max_concurrency", 1);
            return new Answer(200, gateway, Map.of());
        }
        Matcher channel = Pattern.compile("channels/(\\d{1,20})(/messages)?").matcher(path);
        if (!channel.matches()) {
            return new Answer(404, error("404: Not Found", 0), Map.of());
        }
        Channel c = channels.get(channel.group(1));
        if (c == null) {
            return new Answer(404, error("Unknown Channel", 10003), Map.of());
        }
        if (!c.botCanSee()) {
            return new Answer(403, error("Missing Access", 50001), Map.of());
        }
        if (channel.group(2) == null && method.equals("GET")) {
            return new Answer(200, c.json(), Map.of());
        }
        if (channel.group(2) != null && method.equals("POST")) {
            return contentType != null && contentType.startsWith("multipart/")
                    ? postWithFile(c, contentType, body)
                    : post(c, body, false);
        }
        if (channel.group(2) != null && method.equals("GET")) {
            return history(c, query);
        }
        return new Answer(405, error("405: Method Not Allowed", 0), Map.of());
    }

    /**
     * {@code GET /channels/{id}/messages}: with {@code after}, the {@code limit} (1 to 100, default
     * 50) messages right after it, newest first, as Discord lists them; without it, the latest.
     */
    private Answer history(Channel c, Map<String, String> query) {
        int limit;
        try {
            limit = Integer.parseInt(query.getOrDefault("limit", "50"));
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 1 || limit > 100) {
            return invalidForm("limit", "NUMBER_TYPE_MAX", "int value should be less than or equal to 100.");
        }
        long after = Long.parseLong(query.getOrDefault("after", "0"));
        List<ObjectNode> page = messages.values().stream()
                .filter(m -> m.path("channel_id").asString().equals(c.id()))
                .filter(m -> Long.parseLong(m.path("id").asString()) > after)
                .sorted(java.util.Comparator.comparingLong(
                        m -> Long.parseLong(m.path("id").asString())))
                .toList();
        page = query.containsKey("after")
                ? page.subList(0, Math.min(limit, page.size()))
                : page.subList(Math.max(0, page.size() - limit), page.size());
        ArrayNode out = JSON.createArrayNode();
        for (int i = page.size() - 1; i >= 0; i--) {
            out.add(page.get(i));
        }
        return new Answer(200, out, Map.of());
    }

    /** A file a message carries: {@code files[0]} of a multipart request. */
    public record Upload(String messageId, String fileName, String mediaType, byte[] bytes, String content) {}

    private final List<Upload> uploads = new ArrayList<>();
    private long uploadLimit = 10L * 1024 * 1024;

    /** Requests larger than {@code bytes} are answered 413 (Discord's is 10 MiB for a bot without boosts). */
    public synchronized void uploadLimit(long bytes) {
        uploadLimit = bytes;
    }

    /** The files posted so far, in order. */
    public synchronized List<Upload> uploads() {
        return List.copyOf(uploads);
    }

    /**
     * {@code POST /channels/{id}/messages} as multipart/form-data: the message as JSON in {@code
     * payload_json}, whose {@code attachments} name each file part {@code files[N]} by {@code id} N.
     */
    private Answer postWithFile(Channel c, String contentType, String body) {
        byte[] raw = body.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        if (raw.length > uploadLimit) {
            return new Answer(413, error("Request entity too large", 40005), Map.of());
        }
        MultipartForm form;
        try {
            form = MultipartForm.parse(contentType, raw);
        } catch (IllegalArgumentException e) {
            return new Answer(400, error("400: Bad Request", 50109), Map.of());
        }
        String payload = form.field("payload_json");
        MultipartForm.Part file = form.part("files[0]").orElse(null);
        if (payload == null || file == null || file.fileName() == null) {
            return invalidForm("files", "BASE_TYPE_REQUIRED", "This field is required");
        }
        JsonNode request = JSON.readTree(payload);
        JsonNode attachment = request.path("attachments").path(0);
        if (attachment.path("id").asInt(-1) != 0) {
            return invalidForm("attachments", "ATTACHMENT_NOT_FOUND", "attachment 0 does not name files[0]");
        }
        Answer answer = post(c, payload, true);
        if (answer.status() == 200 && answer.body() instanceof ObjectNode message) {
            String name = attachment.path("filename").asString(file.fileName());
            message.putArray("attachments")
                    .addObject()
                    .put("id", "9" + message.path("id").asString())
                    .put("filename", name)
                    .put("size", file.bytes().length)
                    .put("content_type", file.mediaType())
                    .put("url", "https://cdn.discordapp.com/attachments/" + c.id() + "/" + name);
            uploads.add(new Upload(
                    message.path("id").asString(),
                    name,
                    file.mediaType(),
                    file.bytes(),
                    request.path("content").asString("")));
        }
        return answer;
    }

    /** {@code hasFile}: a message may then be a file alone, without content. */
    private Answer post(Channel c, String body, boolean hasFile) {
        Deque<Failure> scripted = failures.get(c.id());
        Failure failure = scripted == null ? null : scripted.poll();
        if (failure != null) {
            return failure.status() == 429
                    ? tooMany(Double.parseDouble(failure.retryAfter()), false)
                    : new Answer(failure.status(), error(failure.status() + ": Internal Server Error", 0), Map.of());
        }
        long now = System.currentTimeMillis();
        long[] bucket = buckets.computeIfAbsent(c.id(), k -> new long[] {0, now + bucketWindowMillis});
        if (now >= bucket[1]) {
            bucket[0] = 0;
            bucket[1] = now + bucketWindowMillis;
        }
        if (bucket[0] >= bucketSize) {
            rateLimited++;
            return tooMany((bucket[1] - now) / 1000.0, true);
        }
        JsonNode request;
        try {
            request = JSON.readTree(body);
        } catch (JacksonException e) {
            return new Answer(400, error("400: Bad Request", 50109), Map.of());
        }
        String content = request.path("content").asString("");
        String nonce = request.path("nonce").asString(null);
        if (content.isEmpty() && !hasFile) {
            return new Answer(400, error("Cannot send an empty message", 50006), Map.of());
        }
        if (content.length() > 2000) {
            return invalidForm("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.");
        }
        if (nonce != null && nonce.length() > 25) {
            return invalidForm("nonce", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
        }
        if (request.has("components")) {
            Answer bad = components(request.get("components"));
            if (bad != null) {
                return bad;
            }
        }
        String replyTo = request.path("message_reference").path("message_id").asString(null);
        if (replyTo != null
                && !messages.containsKey(replyTo)
                && request.path("message_reference").path("fail_if_not_exists").asBoolean(true)) {
            return invalidForm("message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message");
        }
        bucket[0]++;
        Map<String, String> headers = limitHeaders(c.id(), bucket, now);
        if (nonce != null && request.path("enforce_nonce").asBoolean(false)) {
            String earlier = nonces.get(c.id() + " " + nonce);
            if (earlier != null) {
                return new Answer(200, messages.get(earlier), headers);
            }
        }
        ObjectNode author = JSON.createObjectNode()
                .put("id", BOT_ID)
                .put("username", "cordon")
                .put("bot", true);
        ObjectNode message =
                message(c, author, content, replyTo != null && messages.containsKey(replyTo) ? replyTo : null);
        if (request.has("components")) {
            message.set("components", request.get("components").deepCopy());
        }
        if (nonce != null) {
            message.put("nonce", nonce);
            nonces.put(c.id() + " " + nonce, message.path("id").asString());
        }
        posted.add(new Posted(c.id(), message.path("id").asString(), content, nonce, replyTo, request));
        created(c, message);
        return new Answer(200, message, headers);
    }

    private Map<String, String> limitHeaders(String channelId, long[] bucket, long now) {
        double resetAfter = Math.max(0, bucket[1] - now) / 1000.0;
        return Map.of(
                "X-RateLimit-Limit", Integer.toString(bucketSize),
                "X-RateLimit-Remaining", Long.toString(Math.max(0, bucketSize - bucket[0])),
                "X-RateLimit-Reset", String.format(Locale.ROOT, "%.3f", bucket[1] / 1000.0),
                "X-RateLimit-Reset-After", String.format(Locale.ROOT, "%.3f", resetAfter),
                "X-RateLimit-Bucket", "bucket-" + channelId);
    }

    private static Answer tooMany(double retryAfter, boolean shared) {
        ObjectNode body = JSON.createObjectNode()
                .put("message", "You are being rate limited.")
                .put("retry_after", retryAfter)
                .put("global", false);
        return new Answer(
                429,
                body,
                Map.of(
                        "Retry-After",
                        Long.toString((long) Math.ceil(retryAfter)),
                        "X-RateLimit-Remaining",
                        "0",
                        "X-RateLimit-Reset-After",
                        String.format(Locale.ROOT, "%.3f", retryAfter),
                        "X-RateLimit-Scope",
                        shared ? "user" : "shared"));
    }

    private static Answer invalidForm(String field, String code, String message) {
        ObjectNode body = error("Invalid Form Body", 50035);
        body.putObject("errors")
                .putObject(field)
                .putArray("_errors")
                .addObject()
                .put("code", code)
                .put("message", message);
        return new Answer(400, body, Map.of());
    }

    private static ObjectNode error(String message, int code) {
        return JSON.createObjectNode().put("message", message).put("code", code);
    }

    private record Answer(int status, JsonNode body, Map<String, String> headers) {}

    @Override
    public void close() {
        cdn.stop(0);
        jetty.close();
    }
}
