package dev.cordon.testkit;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.eclipse.jetty.websocket.api.Session;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A Slack workspace on loopback that speaks Slack's real JSON: the Web API methods a Socket Mode
 * bot calls ({@code auth.test}, {@code apps.connections.open}, {@code chat.postMessage}) over HTTP,
 * and Socket Mode itself over a real WebSocket (Jetty): {@code hello}, {@code events_api} envelopes
 * that must be acknowledged with their {@code envelope_id}, {@code disconnect}. Like Slack it
 * checks tokens, channel membership and archiving, emits an {@code app_mention} beside the {@code
 * message} event when the bot is mentioned in a channel, echoes the bot's own posts as events, keeps
 * events that arrive while no socket is open, and sends unacknowledged envelopes again (with {@code
 * retry_attempt}) on the next connection. {@code blocks} on {@code chat.postMessage} are checked
 * against Block Kit's limits ({@code invalid_blocks}), and {@link #press} sends the {@code
 * interactive} envelope ({@code block_actions}) a click on a button makes. {@link #share} sends
 * a person's file ({@code file_share}) that files.slack.com then serves with the bot token only
 * (Slack's login page, 200 HTML, without it). Tests script its failures: HTTP 429 with {@code
 * Retry-After}, 5xx, {@code ok:false} errors, dropped sockets, refresh requests, redeliveries.
 *
 * <p>Thread-safe. Needs {@code org.eclipse.jetty.websocket:jetty-websocket-jetty-server} on the test
 * class path (an optional dependency of the testkit).
 */
public final class FakeSlack implements AutoCloseable {
    public static final String APP_TOKEN = "xapp-1-A0FAKE-1-fakeapptoken";
    public static final String BOT_TOKEN = "xoxb-1-fakebottoken";
    public static final String BOT_USER = "U0BOT";
    public static final String BOT_ID = "B0BOT";
    public static final String TEAM = "T0FAKE";
    /** Slack cuts messages longer than this. */
    public static final int MAX_TEXT = 40_000;

    private static final ObjectMapper JSON = JsonMapper.builder().build();

    /** A message the bot posted. */
    public record Posted(String channel, String text, String threadTs, String ts, JsonNode blocks) {}

    /** A scripted answer to the next call of a method: an HTTP status, a Retry-After, an {@code ok:false} error. */
    public record Failure(int status, String retryAfter, String error) {
        public static Failure rateLimited(int seconds) {
            return new Failure(429, Integer.toString(seconds), null);
        }

        public static Failure error(String error) {
            return new Failure(200, null, error);
        }

        public static Failure status(int status) {
            return new Failure(status, null, null);
        }
    }

    private record Channel(String id, String type, boolean botIsMember, boolean archived) {}

    private final JettyFake jetty;
    private final Map<String, Channel> channels = new HashMap<>();
    private final Map<String, Deque<Failure>> failures = new HashMap<>();
    private final Set<String> tickets = new HashSet<>();
    /** Envelopes sent or waiting to be sent, not yet acknowledged: envelope id → envelope. */
    private final Map<String, ObjectNode> unacked = new LinkedHashMap<>();

    private final List<Posted> posted = new ArrayList<>();
    private final List<String> acked = new ArrayList<>();
    private final List<ObjectNode> sent = new ArrayList<>();
    private final List<String> calls = new ArrayList<>();
    /** The bot's messages with blocks, by channel and ts: what a click's payload carries. */
    private final Map<String, ObjectNode> withBlocks = new HashMap<>();

    private Session socket;
    private int connections;
    private long clock;
    private FakeSlackEvents events;

    private FakeSlack() throws Exception {
        jetty = new JettyFake(
                "Slack",
                "/api/",
                this::http,
                new JettyFake.Sockets() {
                    @Override
                    public void opened(Session session, String query) {
                        FakeSlack.this.opened(session, query == null ? "" : query.replace("ticket=", ""));
                    }

                    @Override
                    public void received(Session session, String text) {
                        FakeSlack.this.received(session, text);
                    }

                    @Override
                    public void closed(Session session) {
                        FakeSlack.this.closed(session);
                    }
                },
                "/link/");
        uploads = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        uploads.createContext("/upload/v1/", this::upload);
        uploads.createContext("/files-pri/", this::download);
        uploads.start();
    }

    /** A file shared in a channel through {@code files.completeUploadExternal}. */
    public record SharedFile(
            String channel,
            String fileId,
            String title,
            String fileName,
            byte[] bytes,
            String comment,
            String threadTs) {}

    /** An upload between {@code files.getUploadURLExternal} and its completion. */
    private record Pending(String fileName, long length, byte[] bytes) {}

    private final com.sun.net.httpserver.HttpServer uploads;
    private final Map<String, Pending> pending = new HashMap<>();
    private final List<SharedFile> shared = new ArrayList<>();
    private long uploadLimit = 1L << 30;

    /** Uploads larger than {@code bytes} are answered 413 by the upload URL. */
    public synchronized void uploadLimit(long bytes) {
        uploadLimit = bytes;
    }

    /** The files shared so far, in order. */
    public synchronized List<SharedFile> files() {
        return List.copyOf(shared);
    }

    /** Files people shared, by id: what {@code url_private_download} serves. */
    private final Map<String, byte[]> personFiles = new HashMap<>();

    /**
     * {@code user} shares a file in {@code channel} with {@code text} (may be empty), as Slack's
     * client does: a {@code message} event with subtype {@code file_share} and a {@code files[]}
     * entry ({@code id}, {@code name}, {@code title}, {@code mimetype}, {@code filetype}, {@code
     * size}, {@code url_private}, {@code url_private_download} on files.slack.com, here loopback).
     * Returns the file's id.
     */
    public synchronized String share(
            String user, String channel, String name, String mimetype, byte[] bytes, String text) {
        Channel c = channels.get(channel);
        String id = "F0" + String.format("%08d", ++clock);
        personFiles.put(id, bytes);
        String base = "http://127.0.0.1:" + uploads.getAddress().getPort() + "/files-pri/" + TEAM + "-" + id;
        String ts = nextTs();
        ObjectNode event = JSON.createObjectNode()
                .put("type", "message")
                .put("subtype", "file_share")
                .put("channel", channel)
                .put("user", user)
                .put("text", text)
                .put("ts", ts)
                .put("event_ts", ts)
                .put("channel_type", c.type())
                .put("upload", false)
                .put("display_as_bot", false);
        event.putArray("files")
                .addObject()
                .put("id", id)
                .put("created", 1_700_000_000 + clock)
                .put("name", name)
                .put("title", name)
                .put("mimetype", mimetype)
                .put("filetype", name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : "binary")
                .put("user", user)
                .put("mode", "hosted")
                .put("is_external", false)
                .put("size", bytes.length)
                .put("url_private", base + "/" + name)
                .put("url_private_download", base + "/download/" + name);
        if (c.botIsMember()) {
            emit(event);
        }
        return id;
    }

    /**
     * {@code GET /files-pri/TEAM-ID/[download/]NAME} (files.slack.com): the bytes with the bot
     * token; without it, or with another, Slack's login page (200, {@code text/html}); 404 for an
     * unknown file; failures queued for {@code files.download} (429 with {@code Retry-After}).
     */
    private void download(com.sun.net.httpserver.HttpExchange exchange) throws java.io.IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath().substring("/files-pri/".length());
            String id = path.substring(path.indexOf('-') + 1, Math.max(path.indexOf('/'), path.indexOf('-') + 1));
            boolean authorised =
                    ("Bearer " + BOT_TOKEN).equals(exchange.getRequestHeaders().getFirst("Authorization"));
            Failure failure;
            byte[] bytes;
            synchronized (this) {
                calls.add(authorised ? "files.download" : "files.download without token");
                Deque<Failure> scripted = failures.get("files.download");
                failure = scripted == null ? null : scripted.poll();
                bytes = personFiles.get(id);
            }
            if (failure != null) {
                answerFile(
                        exchange,
                        failure.status(),
                        "text/plain",
                        "error",
                        failure.retryAfter() == null ? Map.of() : Map.of("Retry-After", failure.retryAfter()));
            } else if (!authorised) {
                answerFile(
                        exchange,
                        200,
                        "text/html; charset=utf-8",
                        "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>",
                        Map.of());
            } else if (bytes == null) {
                answerFile(exchange, 404, "text/plain", "file_not_found", Map.of());
            } else {
                JsonHttpFake.bytes(exchange, 200, "application/octet-stream", bytes, Map.of());
            }
        }
    }

    private static void answerFile(
            com.sun.net.httpserver.HttpExchange exchange,
            int status,
            String type,
            String text,
            Map<String, String> headers)
            throws java.io.IOException {
        JsonHttpFake.bytes(exchange, status, type, text.getBytes(StandardCharsets.UTF_8), headers);
    }

    /** The upload URL (Slack's files.slack.com): the raw bytes, as many as getUploadURLExternal was told. */
    private void upload(com.sun.net.httpserver.HttpExchange exchange) throws java.io.IOException {
        try (exchange) {
            String id = exchange.getRequestURI().getPath().substring("/upload/v1/".length());
            byte[] bytes = exchange.getRequestBody().readAllBytes();
            int status;
            synchronized (this) {
                calls.add("upload");
                Pending p = pending.get(id);
                if (!exchange.getRequestMethod().equals("POST") || p == null) {
                    status = 404;
                } else if (bytes.length > uploadLimit) {
                    status = 413;
                } else if (bytes.length != p.length()) {
                    status = 400;
                } else {
                    pending.put(id, new Pending(p.fileName(), p.length(), bytes));
                    status = 200;
                }
            }
            byte[] out = (status == 200 ? "OK - " + bytes.length : "error").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, out.length);
            exchange.getResponseBody().write(out);
        }
    }

    private static Map<String, String> form(String contentType, String body) {
        if (contentType == null || !contentType.startsWith("application/x-www-form-urlencoded")) {
            return null;
        }
        Map<String, String> fields = new HashMap<>();
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                fields.put(
                        java.net.URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return fields;
    }

    /** {@code files.getUploadURLExternal}: form fields {@code filename} and {@code length} (JSON is not accepted). */
    private Answer uploadUrl(String token, String contentType, String body) {
        if (!token.equals(BOT_TOKEN)) {
            return new Answer(200, null, error("invalid_auth"));
        }
        Map<String, String> f = form(contentType, body);
        if (f == null) {
            return new Answer(200, null, error("invalid_form_data"));
        }
        String name = f.get("filename");
        String length = f.get("length");
        if (name == null || name.isBlank() || length == null || !length.matches("[0-9]{1,12}")) {
            return new Answer(200, null, error("invalid_arguments"));
        }
        String id = "F0" + String.format("%08d", ++clock);
        pending.put(id, new Pending(name, Long.parseLong(length), null));
        return ok(JSON.createObjectNode()
                .put("upload_url", "http://127.0.0.1:" + uploads.getAddress().getPort() + "/upload/v1/" + id)
                .put("file_id", id));
    }

    /** {@code files.completeUploadExternal}: {@code files} (JSON array of id and title), {@code channel_id} … */
    private Answer completeUpload(String token, String contentType, String body) {
        if (!token.equals(BOT_TOKEN)) {
            return new Answer(200, null, error("invalid_auth"));
        }
        Map<String, String> f = form(contentType, body);
        if (f == null || f.get("files") == null) {
            return new Answer(200, null, error(f == null ? "invalid_form_data" : "invalid_arguments"));
        }
        JsonNode files = JSON.readTree(f.get("files"));
        if (!files.isArray() || files.isEmpty()) {
            return new Answer(200, null, error("invalid_arguments"));
        }
        Channel c = channels.get(f.getOrDefault("channel_id", ""));
        String error = c == null
                ? "channel_not_found"
                : c.archived() ? "is_archived" : !c.botIsMember() ? "not_in_channel" : null;
        if (error != null) {
            return new Answer(200, null, error(error));
        }
        ArrayNode done = JSON.createArrayNode();
        for (JsonNode file : files) {
            Pending p = pending.get(file.path("id").asString(""));
            if (p == null) {
                return new Answer(200, null, error("file_not_found"));
            }
            if (p.bytes() == null) {
                return new Answer(200, null, error("file_upload_not_completed"));
            }
        }
        for (JsonNode file : files) {
            String id = file.path("id").asString();
            Pending p = pending.remove(id);
            String title = file.path("title").asString(p.fileName());
            shared.add(new SharedFile(
                    c.id(), id, title, p.fileName(), p.bytes(), f.get("initial_comment"), f.get("thread_ts")));
            done.add(JSON.createObjectNode().put("id", id).put("title", title));
        }
        ObjectNode answer = JSON.createObjectNode();
        answer.set("files", done);
        return ok(answer);
    }

    /** A workspace with a public channel {@code C0GENERAL} the bot is in, on a free loopback port. */
    public static FakeSlack start() throws Exception {
        FakeSlack slack = new FakeSlack();
        slack.channel("C0GENERAL", true);
        return slack;
    }

    /**
     * Switches the app to the Events API: from now on events are POSTed to {@code requestUrl},
     * signed with {@code signingSecret}, instead of going over Socket Mode.
     */
    public synchronized FakeSlackEvents eventsTo(URI requestUrl, String signingSecret) {
        events = new FakeSlackEvents(requestUrl, signingSecret);
        return events;
    }

    /** The Web API's base URL, as the adapter's {@code api_url}. */
    public URI api() {
        return URI.create("http://127.0.0.1:" + jetty.port() + "/api/");
    }

    /** Adds a public channel ({@code C…}) or a direct-message channel ({@code D…}). */
    public synchronized void channel(String id, boolean botIsMember) {
        channels.put(
                id, new Channel(id, id.startsWith("D") ? "im" : "channel", botIsMember || id.startsWith("D"), false));
    }

    /** Removes the bot from a channel (someone ran /kick): no more events from it, posts fail with {@code not_in_channel}. */
    public synchronized void removeBot(String id) {
        Channel c = channels.get(id);
        channels.put(id, new Channel(id, c.type(), false, c.archived()));
    }

    /** Archives a channel: posts to it fail with {@code is_archived}. */
    public synchronized void archive(String id) {
        Channel c = channels.get(id);
        channels.put(id, new Channel(id, c.type(), c.botIsMember(), true));
    }

    /** {@code user} writes {@code text} in {@code channel}; returns its {@code ts}. */
    public String say(String user, String channel, String text) {
        return sayInThread(user, channel, null, text);
    }

    /** {@code user} writes {@code text} in the thread {@code threadTs} of {@code channel} (null: not in one). */
    public synchronized String sayInThread(String user, String channel, String threadTs, String text) {
        Channel c = channels.get(channel);
        if (c == null) {
            throw new IllegalArgumentException("no channel " + channel + " in the fake workspace");
        }
        String ts = nextTs();
        String escaped = text.replace("&", "&amp;")
                .replace("<@" + BOT_USER + ">", "\u0000")
                .replace("<", "&lt;")
                .replace(">", "&gt;")
                .replace("\u0000", "<@" + BOT_USER + ">");
        ObjectNode event = JSON.createObjectNode()
                .put("type", "message")
                .put("channel", channel)
                .put("user", user)
                .put("text", escaped)
                .put("ts", ts)
                .put("event_ts", ts)
                .put("channel_type", c.type());
        if (threadTs != null) {
            event.put("thread_ts", threadTs);
        }
        if (c.botIsMember()) {
            emit(event);
        }
        if (!c.type().equals("im") && escaped.contains("<@" + BOT_USER + ">")) {
            ObjectNode mention = event.deepCopy();
            mention.put("type", "app_mention");
            mention.remove("channel_type");
            emit(mention);
        }
        return ts;
    }

    /**
     * {@code user} clicks the button labelled {@code label} on the bot's message {@code ts} in
     * {@code channel}: an {@code interactive} envelope with a {@code block_actions} payload, as
     * Slack sends it over Socket Mode. Returns the envelope's id ({@link #acknowledged} lists it once
     * the bot acknowledges it). Over the Events API the payload is POSTed to the Interactivity Request
     * URL instead ({@link FakeSlackEvents#interactivity}), and this returns its {@code trigger_id}
     * ({@link FakeSlackEvents#answers} lists the app's answer to it).
     *
     * @throws IllegalArgumentException if that message has no such button
     */
    public synchronized String press(String user, String channel, String ts, String label) {
        ObjectNode message = withBlocks.get(channel + " " + ts);
        for (JsonNode block : message == null ? JSON.createArrayNode() : message.path("blocks")) {
            for (JsonNode element : block.path("elements")) {
                if (label.equals(element.path("text").path("text").asString(null))) {
                    return pressAction(
                            user, channel, ts, element.path("action_id").asString());
                }
            }
        }
        throw new IllegalArgumentException("message " + ts + " in " + channel + " has no button '" + label + "'");
    }

    /** A {@code block_actions} click with any {@code actionId}, as another app's button or a stale one makes. */
    public synchronized String pressAction(String user, String channel, String ts, String actionId) {
        ObjectNode message = withBlocks.getOrDefault(
                channel + " " + ts, JSON.createObjectNode().put("ts", ts));
        clock++;
        String actionTs = String.format("%d.%06d", 1_700_000_000 + clock, clock);
        ObjectNode payload = JSON.createObjectNode()
                .put("type", "block_actions")
                .put("api_app_id", "A0FAKE")
                .put("token", "verification-token-not-used-in-socket-mode")
                .put("trigger_id", clock + ".1.fake")
                .put("response_url", "https://hooks.slack.com/actions/T0FAKE/" + clock + "/fake");
        payload.putObject("user")
                .put("id", user)
                .put("username", user.toLowerCase(java.util.Locale.ROOT))
                .put("team_id", TEAM);
        payload.putObject("team").put("id", TEAM).put("domain", "fake");
        payload.putObject("container")
                .put("type", "message")
                .put("message_ts", ts)
                .put("channel_id", channel)
                .put("is_ephemeral", false);
        payload.putObject("channel").put("id", channel).put("name", "channel-" + channel);
        payload.set("message", message.deepCopy());
        ObjectNode action = payload.putArray("actions")
                .addObject()
                .put("action_id", actionId)
                .put("block_id", "cordon-options")
                .put("type", "button")
                .put("action_ts", actionTs);
        for (JsonNode block : message.path("blocks")) {
            for (JsonNode element : block.path("elements")) {
                if (actionId.equals(element.path("action_id").asString(null))) {
                    action.set("text", element.path("text").deepCopy());
                    action.put("value", element.path("value").asString(""));
                }
            }
        }
        if (events != null) {
            events.interact(payload);
            return payload.path("trigger_id").asString();
        }
        ObjectNode envelope = JSON.createObjectNode()
                .put("envelope_id", UUID.randomUUID().toString())
                .put("type", "interactive")
                .put("accepts_response_payload", false);
        envelope.set("payload", payload);
        unacked.put(envelope.path("envelope_id").asString(), envelope);
        send(envelope);
        return envelope.path("envelope_id").asString();
    }

    /** The next call of {@code method} ({@code chat.postMessage} …) answers with {@code failure}. */
    public synchronized void failNext(String method, Failure failure) {
        failures.computeIfAbsent(method, m -> new ArrayDeque<>()).add(failure);
    }

    /** Cuts the Socket Mode connection without a closing handshake, as a network failure does. */
    public synchronized void dropSocket() {
        if (socket != null) {
            socket.disconnect();
            socket = null;
        }
    }

    /** Sends {@code text} over the Socket Mode connection as it is: for malformed or oversized messages. */
    public synchronized void sendRaw(String text) {
        if (socket != null) {
            socket.sendText(text, org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
    }

    /** Sends {@code disconnect} with {@code refresh_requested}, as Slack does every few hours. */
    public synchronized void askToReconnect() {
        if (socket != null) {
            socket.sendText(
                    JSON.createObjectNode()
                            .put("type", "disconnect")
                            .put("reason", "refresh_requested")
                            .set("debug_info", JSON.createObjectNode().put("host", "fake-slack"))
                            .toString(),
                    org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
    }

    /** Sends the envelope of event {@code eventId} again, with {@code retry_attempt} one higher, acknowledged or not. */
    public synchronized void redeliver(String eventId) {
        ObjectNode envelope = sent.stream()
                .filter(e -> e.path("payload").path("event_id").asString().equals(eventId))
                .reduce((a, b) -> b)
                .orElseThrow(() -> new IllegalArgumentException("no event " + eventId + " was sent"))
                .deepCopy();
        envelope.put("retry_attempt", envelope.path("retry_attempt").asInt() + 1)
                .put("retry_reason", "timeout");
        unacked.put(envelope.path("envelope_id").asString(), envelope);
        send(envelope);
    }

    /** What the bot posted, in order. */
    public synchronized List<Posted> posted() {
        return List.copyOf(posted);
    }

    /** The event ids of the envelopes the bot acknowledged, in order, redeliveries included. */
    public synchronized List<String> acknowledged() {
        return List.copyOf(acked);
    }

    /** The envelopes sent over Socket Mode, in order. */
    public synchronized List<ObjectNode> envelopes() {
        return List.copyOf(sent);
    }

    /** The Web API methods called, in order. */
    public synchronized List<String> calls() {
        return List.copyOf(calls);
    }

    /** How many Socket Mode connections were opened so far. */
    public synchronized int connections() {
        return connections;
    }

    /** Whether a Socket Mode connection is open now. */
    public synchronized boolean connected() {
        return socket != null && socket.isOpen();
    }

    private String nextTs() {
        clock++;
        return String.format("%d.%06d", 1_700_000_000 + clock, clock);
    }

    private void emit(ObjectNode event) {
        clock++;
        ObjectNode payload = JSON.createObjectNode()
                .put("token", "verification-token-not-used-in-socket-mode")
                .put("team_id", TEAM)
                .put("api_app_id", "A0FAKE")
                .put("type", "event_callback")
                .put("event_id", "Ev" + String.format("%08d", clock))
                .put("event_time", 1_700_000_000 + clock);
        payload.set("event", event);
        payload.putArray("authorizations")
                .addObject()
                .putNull("enterprise_id")
                .put("team_id", TEAM)
                .put("user_id", BOT_USER)
                .put("is_bot", true)
                .put("is_enterprise_install", false);
        payload.put("is_ext_shared_channel", false).put("event_context", "4-fake-" + clock);
        if (events != null) {
            events.deliver(payload);
            return;
        }
        ObjectNode envelope = JSON.createObjectNode()
                .put("envelope_id", UUID.randomUUID().toString())
                .put("type", "events_api")
                .put("accepts_response_payload", false)
                .put("retry_attempt", 0)
                .put("retry_reason", "");
        envelope.set("payload", payload);
        unacked.put(envelope.path("envelope_id").asString(), envelope);
        send(envelope);
    }

    private void send(ObjectNode envelope) {
        if (socket != null && socket.isOpen()) {
            sent.add(envelope);
            socket.sendText(envelope.toString(), org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
    }

    private synchronized void opened(Session session, String ticket) {
        if (!tickets.remove(ticket)) {
            session.close(4001, "invalid ticket", org.eclipse.jetty.websocket.api.Callback.NOOP);
            return;
        }
        if (socket != null) {
            socket.close(1000, "replaced", org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
        socket = session;
        connections++;
        session.sendText("""
                {"type":"hello","num_connections":1,"debug_info":{"host":"fake-slack","build_number":1,\
                "approximate_connection_time":18060},"connection_info":{"app_id":"A0FAKE"}}""", org.eclipse.jetty.websocket.api.Callback.NOOP);
        // What was never acknowledged, or came while no socket was open, goes out again.
        for (ObjectNode envelope : List.copyOf(unacked.values())) {
            if (sent.contains(envelope)) {
                envelope = envelope.deepCopy()
                        .put("retry_attempt", envelope.path("retry_attempt").asInt() + 1)
                        .put("retry_reason", "timeout");
                unacked.put(envelope.path("envelope_id").asString(), envelope);
            }
            send(envelope);
        }
    }

    private synchronized void received(Session session, String text) {
        JsonNode ack = JSON.readTree(text);
        ObjectNode envelope = unacked.remove(ack.path("envelope_id").asString());
        if (envelope != null) {
            acked.add(
                    envelope.path("type").asString().equals("interactive")
                            ? envelope.path("envelope_id").asString()
                            : envelope.path("payload").path("event_id").asString());
        }
    }

    private synchronized void closed(Session session) {
        if (socket == session) {
            socket = null;
        }
    }

    private synchronized Answer call(String method, String authorization, String contentType, String body) {
        calls.add(method);
        Deque<Failure> scripted = failures.get(method);
        Failure failure = scripted == null ? null : scripted.poll();
        if (failure != null) {
            return failure.error() == null
                    ? new Answer(failure.status(), failure.retryAfter(), "{\"ok\":false}")
                    : new Answer(failure.status(), failure.retryAfter(), error(failure.error()));
        }
        String token = authorization == null ? "" : authorization.replace("Bearer ", "");
        return switch (method) {
            case "auth.test" ->
                token.equals(BOT_TOKEN)
                        ? ok(JSON.createObjectNode()
                                .put("url", "https://fake.slack.com/")
                                .put("team", "Fake")
                                .put("user", "cordonbot")
                                .put("team_id", TEAM)
                                .put("user_id", BOT_USER)
                                .put("bot_id", BOT_ID))
                        : new Answer(200, null, error("invalid_auth"));
            case "apps.connections.open" -> {
                if (!token.equals(APP_TOKEN)) {
                    yield new Answer(
                            200, null, error(token.startsWith("xoxb-") ? "not_allowed_token_type" : "invalid_auth"));
                }
                String ticket = UUID.randomUUID().toString();
                tickets.add(ticket);
                URI api = api();
                yield ok(JSON.createObjectNode()
                        .put("url", "ws://" + api.getHost() + ":" + api.getPort() + "/link/?ticket=" + ticket));
            }
            case "chat.postMessage" -> post(token, contentType, body);
            case "files.getUploadURLExternal" -> uploadUrl(token, contentType, body);
            case "files.completeUploadExternal" -> completeUpload(token, contentType, body);
            default -> new Answer(200, null, error("unknown_method"));
        };
    }

    private Answer post(String token, String contentType, String body) {
        if (!token.equals(BOT_TOKEN)) {
            return new Answer(200, null, error("invalid_auth"));
        }
        if (contentType == null || !contentType.startsWith("application/json")) {
            return new Answer(200, null, error("invalid_form_data"));
        }
        JsonNode request = JSON.readTree(body);
        Channel c = channels.get(request.path("channel").asString(""));
        String text = request.path("text").asString("");
        String error = c == null
                ? "channel_not_found"
                : c.archived()
                        ? "is_archived"
                        : !c.botIsMember()
                                ? "not_in_channel"
                                : text.isEmpty() ? "no_text" : text.length() > MAX_TEXT ? "msg_too_long" : null;
        if (error == null && request.has("blocks")) {
            error = blocksError(request.get("blocks"));
        }
        if (error != null) {
            return new Answer(200, null, error(error));
        }
        String ts = nextTs();
        String thread = request.path("thread_ts").asString(null);
        posted.add(new Posted(c.id(), text, thread, ts, request.get("blocks")));
        ObjectNode message = JSON.createObjectNode()
                .put("type", "message")
                .put("user", BOT_USER)
                .put("bot_id", BOT_ID)
                .put("app_id", "A0FAKE")
                .put("text", text)
                .put("ts", ts);
        if (thread != null) {
            message.put("thread_ts", thread);
        }
        if (request.has("blocks")) {
            message.set("blocks", request.get("blocks").deepCopy());
            withBlocks.put(c.id() + " " + ts, message.deepCopy());
        }
        // Slack echoes the bot's own message to an app subscribed to the channel's messages.
        ObjectNode echo = message.deepCopy().put("channel", c.id()).put("channel_type", c.type());
        emit(echo);
        ObjectNode answer = JSON.createObjectNode().put("channel", c.id()).put("ts", ts);
        answer.set("message", message);
        return ok(answer);
    }

    /**
     * Slack's {@code invalid_blocks} for what Block Kit refuses (at most 50 blocks; a section's text
     * at most 3,000 characters; an actions block of 1 to 25 elements; a button's plain_text of 1 to
     * 75 characters, an action_id of at most 255 unique in the message, a value of at most 2,000),
     * else null.
     */
    private static String blocksError(JsonNode blocks) {
        if (!blocks.isArray() || blocks.size() > 50) {
            return "invalid_blocks";
        }
        Set<String> ids = new HashSet<>();
        for (JsonNode block : blocks) {
            switch (block.path("type").asString("")) {
                case "section" -> {
                    String t = block.path("text").path("text").asString("");
                    if (t.isEmpty() || t.length() > 3000) {
                        return "invalid_blocks";
                    }
                }
                case "actions" -> {
                    JsonNode elements = block.path("elements");
                    if (!elements.isArray() || elements.isEmpty() || elements.size() > 25) {
                        return "invalid_blocks";
                    }
                    for (JsonNode e : elements) {
                        String label = e.path("text").path("text").asString("");
                        String id = e.path("action_id").asString("");
                        if (!e.path("type").asString("").equals("button")
                                || !e.path("text").path("type").asString("").equals("plain_text")
                                || label.isEmpty()
                                || label.length() > 75
                                || id.isEmpty()
                                || id.length() > 255
                                || !ids.add(id)
                                || e.path("value").asString("").length() > 2000) {
                            return "invalid_blocks";
                        }
                    }
                }
                default -> {
                    return "invalid_blocks";
                }
            }
        }
        return null;
    }

    private static Answer ok(ObjectNode body) {
        ObjectNode all = JSON.createObjectNode().put("ok", true);
        all.setAll(body);
        return new Answer(200, null, all.toString());
    }

    private static String error(String error) {
        return JSON.createObjectNode().put("ok", false).put("error", error).toString();
    }

    private record Answer(int status, String retryAfter, String body) {}

    /** The Web API: POST /api/METHOD. */
    private JettyFake.Answer http(String method, String path, String authorization, String contentType, String body) {
        if (!method.equals("POST")) {
            return new JettyFake.Answer(404, "{}", java.util.Map.of());
        }
        Answer answer = call(path, authorization, contentType, body);
        return new JettyFake.Answer(
                answer.status(),
                answer.body(),
                answer.retryAfter() == null
                        ? java.util.Map.of()
                        : java.util.Map.of("Retry-After", answer.retryAfter()));
    }

    @Override
    public void close() {
        FakeSlackEvents e;
        synchronized (this) {
            e = events;
        }
        if (e != null) {
            e.close();
        }
        uploads.stop(0);
        jetty.close();
    }
}
