package dev.cordon.testkit;

import com.sun.net.httpserver.HttpExchange;
import dev.cordon.testkit.JsonHttpFake.Answer;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A fake Matrix homeserver on loopback speaking the client-server API v3's JSON, for one bot
 * account: {@code whoami}, {@code /sync} (long poll, {@code since} tokens, {@code limited}
 * timelines, invites, room summaries), {@code join}, {@code send} (idempotent per transaction id),
 * {@code event} and {@code joined_members}. Errors use the standard body {@code
 * {"errcode":"M_...","error":"..."}}: a wrong token gets 401 {@code M_UNKNOWN_TOKEN}, a send to a
 * room the bot is not in 403 {@code M_FORBIDDEN}; {@link #failNext} queues failures such as 429
 * {@code M_LIMIT_EXCEEDED} with {@code retry_after_ms}. {@link #sendFile} sends a person's file,
 * which the authenticated media API ({@code /_matrix/client/v1/media/download}) serves with the
 * token only. Thread-safe.
 */
public final class FakeMatrix implements AutoCloseable {
    private static final JsonMapper JSON = JsonHttpFake.JSON;
    private static final String PREFIX = "/_matrix/client/v3";
    public static final String SERVER = "localhost";

    /** A room event as the homeserver stores it, at its place in the stream. */
    private record Stored(long position, String roomId, ObjectNode event) {}

    /** An event the bot sent. */
    public record Sent(String roomId, String eventId, String txnId, JsonNode content) {
        public String body() {
            return content.path("body").asString();
        }
    }

    private record Failure(int status, String errcode, String error, Long retryAfterMs) {}

    private final JsonHttpFake<Sent> http;
    private final String token;
    private final String bot;
    private final List<Stored> stream = new ArrayList<>();
    private final Map<String, Set<String>> members = new HashMap<>();
    private final Map<String, Set<String>> invited = new HashMap<>();
    private final Map<String, String> transactions = new HashMap<>();
    private final Map<String, Queue<Failure>> failures = new HashMap<>();
    private final List<String> syncs = new ArrayList<>();
    private long nextRoom = 1;
    private long nextEvent = 1;
    private boolean closed;

    private FakeMatrix(String token, String botLocalpart) {
        this.token = token;
        this.bot = "@" + botLocalpart + ":" + SERVER;
        http = new JsonHttpFake<>(this::handle);
        http.serve(MEDIA_DOWNLOAD, this::download);
    }

    /**
     * A homeserver with the bot account {@code @botLocalpart:localhost} and its access {@code token}.
     *
     * @throws UncheckedIOException if no loopback port can be bound
     */
    public static FakeMatrix start(String token, String botLocalpart) {
        return new FakeMatrix(token, botLocalpart);
    }

    public URI url() {
        return http.url();
    }

    /** The bot's user id. */
    public String bot() {
        return bot;
    }

    /** {@code @localpart:localhost}. */
    public static String user(String localpart) {
        return "@" + localpart + ":" + SERVER;
    }

    /** A new room with {@code people} and the bot joined; returns its id. */
    public synchronized String room(String... people) {
        String room = newRoom(people);
        append(room, membership(bot, "join"));
        members.get(room).add(bot);
        return room;
    }

    /** A new room with {@code people} that invites the bot (not yet joined); returns its id. */
    public synchronized String roomInviting(String... people) {
        String room = newRoom(people);
        invited.computeIfAbsent(room, r -> new LinkedHashSet<>()).add(bot);
        notifyAll();
        return room;
    }

    /** The bot is kicked out of {@code room}: its sends there are refused with 403 from now on. */
    public synchronized void kickBot(String room) {
        members.get(room).remove(bot);
        append(room, membership(bot, "leave"));
    }

    /** {@code sender} says {@code body} in {@code room}; returns the event id. */
    public String say(String room, String sender, String body) {
        return send(
                room, sender, JSON.createObjectNode().put("msgtype", "m.text").put("body", body));
    }

    /** {@code sender} says {@code body} mentioning the bot the way clients do ({@code m.mentions}, a pill). */
    public String mention(String room, String sender, String body) {
        ObjectNode content = JSON.createObjectNode()
                .put("msgtype", "m.text")
                .put("body", "cordon: " + body)
                .put("format", "org.matrix.custom.html")
                .put("formatted_body", "<a href=\"https://matrix.to/#/" + bot + "\">cordon</a>: " + body);
        content.putObject("m.mentions").putArray("user_ids").add(bot);
        return send(room, sender, content);
    }

    /** {@code sender} says {@code body} in the thread under {@code root}, mentioning the bot. */
    public String inThread(String room, String sender, String root, String body) {
        ObjectNode content = JSON.createObjectNode().put("msgtype", "m.text").put("body", body);
        content.putObject("m.mentions").putArray("user_ids").add(bot);
        ObjectNode relates = content.putObject("m.relates_to")
                .put("rel_type", "m.thread")
                .put("event_id", root)
                .put("is_falling_back", true);
        relates.putObject("m.in_reply_to").put("event_id", root);
        return send(room, sender, content);
    }

    /** Any {@code m.room.message} content from {@code sender}; returns the event id. */
    public synchronized String send(String room, String sender, ObjectNode content) {
        ObjectNode event = JSON.createObjectNode().put("type", "m.room.message").put("sender", sender);
        event.set("content", content);
        return append(room, event);
    }

    /** The next {@code count} requests to {@code endpoint} ({@code sync}, {@code send}, ...) fail so. */
    public synchronized void failNext(
            String endpoint, int count, int status, String errcode, String error, Long retryAfterMs) {
        for (int i = 0; i < count; i++) {
            failures.computeIfAbsent(endpoint, e -> new ArrayDeque<>())
                    .add(new Failure(status, errcode, error, retryAfterMs));
        }
    }

    /** The next event the bot sends, waiting at most {@code wait}. */
    public Sent nextSent(Duration wait) throws InterruptedException {
        return http.nextSent(wait);
    }

    /** Every event the bot sent, in order (a repeated transaction is not a new event). */
    public List<Sent> sent() {
        return http.sent();
    }

    /** The {@code since} of every sync, in order ({@code -} for none). */
    public synchronized List<String> syncs() {
        return List.copyOf(syncs);
    }

    /** Whether the bot is a member of {@code room}. */
    public synchronized boolean joined(String room) {
        return members.getOrDefault(room, Set.of()).contains(bot);
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        http.close();
    }

    private String newRoom(String... people) {
        String room = "!room" + nextRoom++ + ":" + SERVER;
        members.put(room, new LinkedHashSet<>(List.of(people)));
        for (String p : people) {
            append(room, membership(p, "join"));
        }
        return room;
    }

    private ObjectNode membership(String user, String state) {
        ObjectNode event = JSON.createObjectNode()
                .put("type", "m.room.member")
                .put("sender", user)
                .put("state_key", user);
        event.putObject("content").put("membership", state);
        return event;
    }

    private String append(String room, ObjectNode event) {
        String id = "$event" + nextEvent++ + "_" + Long.toHexString(System.nanoTime());
        event.put("event_id", id).put("origin_server_ts", System.currentTimeMillis());
        event.putObject("unsigned").put("age", 0);
        stream.add(new Stored(stream.size() + 1, room, event));
        notifyAll();
        return id;
    }

    private Answer handle(HttpExchange exchange, ObjectNode body) {
        String auth = exchange.getRequestHeaders().getFirst("Authorization");
        String path = exchange.getRequestURI().getRawPath();
        if (auth == null) {
            return error(401, "M_MISSING_TOKEN", "Missing access token", null);
        } else if (!auth.equals("Bearer " + token)) {
            return error(401, "M_UNKNOWN_TOKEN", "Unknown access token", null);
        } else if (path.equals(MEDIA_UPLOAD)) {
            return upload(exchange);
        } else if (body == null) {
            return error(400, "M_NOT_JSON", "Content not JSON.", null);
        } else if (!path.startsWith(PREFIX + "/")) {
            return error(404, "M_UNRECOGNIZED", "Unrecognized request", null);
        }
        return route(
                exchange.getRequestMethod(),
                path.substring(PREFIX.length() + 1).split("/"),
                query(exchange.getRequestURI().getRawQuery()),
                body);
    }

    private synchronized Answer route(String method, String[] p, Map<String, String> query, ObjectNode body) {
        String endpoint = p[0].equals("rooms") && p.length > 2 ? p[2] : p[0];
        Queue<Failure> queued = failures.get(endpoint);
        if (queued != null && !queued.isEmpty()) {
            Failure f = queued.remove();
            return error(f.status(), f.errcode(), f.error(), f.retryAfterMs());
        }
        if (method.equals("GET") && p.length == 2 && p[0].equals("account") && p[1].equals("whoami")) {
            return new Answer(200, JSON.createObjectNode().put("user_id", bot).put("device_id", "CORDONFAKE"));
        }
        if (method.equals("GET") && p.length == 1 && p[0].equals("sync")) {
            return sync(query);
        }
        if (method.equals("POST") && p.length == 2 && p[0].equals("join")) {
            String room = decode(p[1]);
            if (!invited.getOrDefault(room, Set.of()).remove(bot) && !joined(room)) {
                return error(403, "M_FORBIDDEN", "You are not invited to this room.", null);
            }
            members.get(room).add(bot);
            append(room, membership(bot, "join"));
            return new Answer(200, JSON.createObjectNode().put("room_id", room));
        }
        if (p[0].equals("rooms") && p.length >= 3) {
            String room = decode(p[1]);
            if (!members.containsKey(room)) {
                return error(404, "M_NOT_FOUND", "Unknown room " + room, null);
            }
            if (!joined(room)) {
                return error(403, "M_FORBIDDEN", "User " + bot + " not in room " + room, null);
            }
            if (method.equals("PUT") && p.length == 5 && p[2].equals("send")) {
                return sendByBot(room, decode(p[3]), decode(p[4]), body);
            }
            if (method.equals("GET") && p.length == 4 && p[2].equals("event")) {
                String id = decode(p[3]);
                return stream.stream()
                        .filter(s -> s.roomId().equals(room)
                                && s.event().get("event_id").asString().equals(id))
                        .findFirst()
                        .map(s -> new Answer(200, withRoom(s)))
                        .orElseGet(() -> error(404, "M_NOT_FOUND", "Event not found.", null));
            }
            if (method.equals("GET") && p.length == 3 && p[2].equals("messages")) {
                return messages(room, query);
            }
            if (method.equals("GET") && p.length == 3 && p[2].equals("joined_members")) {
                ObjectNode joined = JSON.createObjectNode();
                members.get(room).forEach(m -> joined.putObject(m).put("display_name", m.substring(1, m.indexOf(':'))));
                ObjectNode answer = JSON.createObjectNode();
                answer.set("joined", joined);
                return new Answer(200, answer);
            }
        }
        return error(404, "M_UNRECOGNIZED", "Unrecognized request", null);
    }

    private static final String MEDIA_UPLOAD = "/_matrix/media/v3/upload";

    /** A file uploaded to the content repository. */
    public record Media(String mxc, String fileName, String mediaType, byte[] bytes) {}

    private final Map<String, Media> media = new java.util.LinkedHashMap<>();
    private long uploadLimit = 50L * 1024 * 1024;

    /** Uploads larger than {@code bytes} are answered 413 {@code M_TOO_LARGE} (the homeserver's {@code m.upload.size}). */
    public synchronized void uploadLimit(long bytes) {
        uploadLimit = bytes;
    }

    /** The file behind {@code mxc}, or null. */
    public synchronized Media media(String mxc) {
        return media.get(mxc);
    }

    /** {@code POST /_matrix/media/v3/upload?filename=}: the raw bytes, typed by Content-Type. */
    private synchronized Answer upload(HttpExchange exchange) {
        Queue<Failure> queued = failures.get("upload");
        if (queued != null && !queued.isEmpty()) {
            Failure f = queued.remove();
            return error(f.status(), f.errcode(), f.error(), f.retryAfterMs());
        }
        if (!exchange.getRequestMethod().equals("POST")) {
            return error(405, "M_UNRECOGNIZED", "Unrecognized request", null);
        }
        byte[] bytes = (byte[]) exchange.getAttribute(JsonHttpFake.RAW_BODY);
        if (bytes.length > uploadLimit) {
            return error(413, "M_TOO_LARGE", "Cannot upload files larger than " + uploadLimit + " bytes", null);
        }
        String type = exchange.getRequestHeaders().getFirst("Content-Type");
        String mxc = "mxc://" + SERVER + "/media" + (media.size() + 1);
        media.put(
                mxc,
                new Media(mxc, query(exchange.getRequestURI().getRawQuery()).get("filename"), type, bytes));
        return new Answer(200, JSON.createObjectNode().put("content_uri", mxc));
    }

    private static final String MEDIA_DOWNLOAD = "/_matrix/client/v1/media/download/";

    /**
     * {@code sender} sends a file in {@code room} as clients do: the bytes uploaded to the content
     * repository, then an {@code msgtype} ({@code m.image}, {@code m.file}, {@code m.audio}, {@code
     * m.video}) event with {@code url}, {@code filename}, {@code info.mimetype}, {@code info.size}
     * and {@code body} (the caption, or the name without one; Matrix 1.10). Returns the event id.
     */
    public synchronized String sendFile(
            String room, String sender, String msgtype, String name, String mediaType, byte[] bytes, String caption) {
        String mxc = "mxc://" + SERVER + "/media" + (media.size() + 1);
        media.put(mxc, new Media(mxc, name, mediaType, bytes));
        ObjectNode content = JSON.createObjectNode()
                .put("msgtype", msgtype)
                .put("body", caption == null ? name : caption)
                .put("filename", name)
                .put("url", mxc);
        content.putObject("info").put("mimetype", mediaType).put("size", bytes.length);
        return send(room, sender, content);
    }

    /**
     * {@code GET /_matrix/client/v1/media/download/SERVER/ID[/NAME]} (authenticated media, Matrix
     * 1.11): the bytes with their type; 401 {@code M_MISSING_TOKEN} / {@code M_UNKNOWN_TOKEN}
     * without the token, 404 {@code M_NOT_FOUND} for unknown media; the failures queued for {@code
     * download} (429 {@code M_LIMIT_EXCEEDED} with {@code retry_after_ms} and {@code Retry-After}).
     */
    private void download(HttpExchange exchange) throws java.io.IOException {
        String auth = exchange.getRequestHeaders().getFirst("Authorization");
        String[] p = exchange.getRequestURI()
                .getRawPath()
                .substring(MEDIA_DOWNLOAD.length())
                .split("/");
        Answer failed;
        Media found = null;
        synchronized (this) {
            downloads.add(auth == null ? "without token" : "download");
            Queue<Failure> queued = failures.get("download");
            if (auth == null) {
                failed = error(401, "M_MISSING_TOKEN", "Missing access token", null);
            } else if (!auth.equals("Bearer " + token)) {
                failed = error(401, "M_UNKNOWN_TOKEN", "Unknown access token", null);
            } else if (queued != null && !queued.isEmpty()) {
                Failure f = queued.remove();
                failed = error(f.status(), f.errcode(), f.error(), f.retryAfterMs());
            } else {
                found = p.length >= 2 ? media.get("mxc://" + decode(p[0]) + "/" + decode(p[1])) : null;
                failed = found == null ? error(404, "M_NOT_FOUND", "Not found", null) : null;
            }
        }
        if (failed != null) {
            JsonNode retry = failed.body().path("retry_after_ms");
            JsonHttpFake.json(
                    exchange,
                    failed.status(),
                    failed.body(),
                    retry.isNumber() ? Map.of("Retry-After", Long.toString(retry.asLong() / 1000)) : Map.of());
        } else {
            exchange.getResponseHeaders()
                    .set("Content-Disposition", "attachment; filename=\"" + found.fileName() + "\"");
            JsonHttpFake.bytes(exchange, 200, found.mediaType(), found.bytes(), Map.of());
        }
    }

    private final List<String> downloads = new ArrayList<>();

    /** The media downloads asked for, in order ({@code download}, or {@code without token}). */
    public synchronized List<String> downloads() {
        return List.copyOf(downloads);
    }

    private Answer sendByBot(String room, String type, String txnId, ObjectNode content) {
        if ("m.file".equals(content.path("msgtype").asString(null))
                && !media.containsKey(content.path("url").asString(""))) {
            return error(400, "M_UNKNOWN", "m.file needs the url of an uploaded file", null);
        }
        if (!type.equals("m.room.message")) {
            return error(400, "M_UNKNOWN", "this fake only sends m.room.message", null);
        }
        if (!content.has("msgtype") || !content.path("body").isString()) {
            return error(400, "M_BAD_JSON", "m.room.message needs msgtype and body", null);
        }
        String earlier = transactions.get(txnId);
        if (earlier != null) {
            return new Answer(200, JSON.createObjectNode().put("event_id", earlier));
        }
        ObjectNode event = JSON.createObjectNode().put("type", type).put("sender", bot);
        event.set("content", content);
        String id = append(room, event);
        transactions.put(txnId, id);
        Sent s = new Sent(room, id, txnId, content);
        http.sent(s);
        return new Answer(200, JSON.createObjectNode().put("event_id", id));
    }

    private Answer sync(Map<String, String> query) {
        String since = query.get("since");
        syncs.add(since == null ? "-" : since);
        long from;
        try {
            from = since == null ? 0 : Long.parseLong(since.substring(1));
        } catch (RuntimeException e) {
            return error(400, "M_INVALID_PARAM", "Invalid since token", null);
        }
        int limit = 10;
        String filter = query.get("filter");
        if (filter != null) {
            limit = JSON.readTree(filter)
                    .path("room")
                    .path("timeline")
                    .path("limit")
                    .asInt(10);
        }
        long deadline =
                System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Long.parseLong(query.getOrDefault("timeout", "0")));
        while (since != null && stream.size() <= from && !pendingInvites() && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        ObjectNode answer = JSON.createObjectNode().put("next_batch", "s" + stream.size());
        ObjectNode rooms = answer.putObject("rooms");
        ObjectNode join = rooms.putObject("join");
        ObjectNode invite = rooms.putObject("invite");
        invited.forEach((room, who) -> {
            if (who.contains(bot)) {
                invite.putObject(room).putObject("invite_state").putArray("events");
            }
        });
        Map<String, List<Stored>> byRoom = new LinkedHashMap<>();
        for (Stored s : stream.subList((int) Math.min(from, stream.size()), stream.size())) {
            if (members.get(s.roomId()).contains(bot)
                    || s.event().path("state_key").asString("").equals(bot)) {
                byRoom.computeIfAbsent(s.roomId(), r -> new ArrayList<>()).add(s);
            }
        }
        int max = limit;
        byRoom.forEach((room, events) -> {
            ObjectNode r = join.putObject(room);
            if (since == null
                    || events.stream()
                            .anyMatch(e -> e.event().get("type").asString().equals("m.room.member"))) {
                r.putObject("summary")
                        .put("m.joined_member_count", members.get(room).size());
            }
            List<Stored> shown = events.subList(Math.max(0, events.size() - max), events.size());
            ObjectNode timeline = r.putObject("timeline").put("limited", events.size() > max);
            var list = timeline.putArray("events");
            shown.forEach(e -> list.add(e.event().deepCopy()));
            // Like a real server's: a token /messages can page backwards from, just before the first shown.
            timeline.put("prev_batch", "s" + (shown.getFirst().position() - 1));
        });
        return new Answer(200, answer);
    }

    /** {@code /messages} backwards ({@code dir=b}): the room's events at or before {@code from} and after {@code to}, newest first. */
    private Answer messages(String room, Map<String, String> query) {
        if (!"b".equals(query.get("dir")) || !query.getOrDefault("from", "").startsWith("s")) {
            return error(400, "M_INVALID_PARAM", "this fake pages backwards from a stream token only", null);
        }
        long from = Long.parseLong(query.get("from").substring(1));
        long to = query.containsKey("to") ? Long.parseLong(query.get("to").substring(1)) : 0;
        int limit = Integer.parseInt(query.getOrDefault("limit", "10"));
        var chunk = JSON.createArrayNode();
        long last = from;
        for (long pos = Math.min(from, stream.size()); pos > to && chunk.size() < limit; pos--) {
            Stored s = stream.get((int) pos - 1);
            if (s.roomId().equals(room)) {
                chunk.add(withRoom(s));
            }
            last = pos - 1;
        }
        ObjectNode answer = JSON.createObjectNode().put("start", "s" + from);
        answer.set("chunk", chunk);
        if (last > to) {
            answer.put("end", "s" + last);
        }
        return new Answer(200, answer);
    }

    private boolean pendingInvites() {
        return invited.values().stream().anyMatch(s -> s.contains(bot));
    }

    private static ObjectNode withRoom(Stored s) {
        ObjectNode event = s.event().deepCopy();
        event.put("room_id", s.roomId());
        return event;
    }

    private static Answer error(int status, String errcode, String error, Long retryAfterMs) {
        ObjectNode body = JSON.createObjectNode().put("errcode", errcode).put("error", error);
        if (retryAfterMs != null) {
            body.put("retry_after_ms", retryAfterMs);
        }
        return new Answer(status, body);
    }

    private static String decode(String segment) {
        return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new HashMap<>();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    out.put(pair.substring(0, eq), decode(pair.substring(eq + 1)));
                }
            }
        }
        return out;
    }
}
