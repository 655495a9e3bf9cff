package dev.cordon.channel.matrix;

import dev.cordon.channel.matrix.ClientApi.Reply;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Matrix adapter: one account on one homeserver, reading with {@code /sync} long polls and
 * sending with {@code PUT /rooms/{roomId}/send/m.room.message/{txnId}}.
 *
 * <p>Durable before acknowledged (DESIGN.md invariant 6): Matrix has no acknowledgement, only the
 * {@code since} token a client sends. The adapter saves a batch's {@code next_batch} ({@link
 * SyncToken}) only after the host stored every event of it, and starts from the saved token after a
 * restart: an event not yet stored comes again, one stored but not yet covered by the saved token
 * comes again too and the host's dedup on its event id keeps it from being answered twice. On the
 * account's very first start there is no token: that sync only sets the starting point, and what
 * was said before it is not answered.
 *
 * <p>Idempotent delivery: the transaction id of a send is the reply's idempotency key, and a
 * homeserver answers a repeated transaction id with the event it already made, so a reply whose
 * confirmation was lost is not shown twice when it is sent again, even after a restart.
 *
 * <p>Thread-safe. One virtual thread syncs ({@link PollLoop}, with back-off after failures);
 * deliveries run on the caller's thread.
 */
final class MatrixChannel implements ChannelService {
    private static final Logger LOG = LoggerFactory.getLogger(MatrixChannel.class);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** An upload carries up to the host's file limit (20 MiB by default). */
    private static final Duration UPLOAD_TIMEOUT = Duration.ofMinutes(2);
    /** Events of a gap (a limited timeline) fetched with {@code /messages}; older ones are not answered. */
    static final int MAX_GAP = 1_000;
    /** Below Matrix's 65,536-byte event limit even when every character takes four bytes in UTF-8. */
    static final int MAX_TEXT = 15_000;

    private final MatrixSettings settings;
    private final ClientApi api;
    private final MatrixMedia media;
    private final SyncToken syncToken;
    /** Events per room per sync ({@code /sync}'s filter) and per page of a gap. */
    private final int timelineLimit;

    private final PollLoop loop;
    private final Backoff sendBackoff;
    /** Joined members per room, to tell direct rooms (two members) from groups. */
    private final Map<String, Integer> members = new ConcurrentHashMap<>();
    /** Thread root (or "" for none) and sender of events replied to. */
    private final Map<String, Replied> replied = new ConcurrentHashMap<>();

    private volatile InboundSink sink;
    private volatile String me;
    private volatile boolean synced;

    private record Replied(String threadRoot, String sender) {}

    MatrixChannel(MatrixSettings settings, HttpClient http, Backoff syncBackoff, Backoff sendBackoff) {
        this(settings, http, syncBackoff, sendBackoff, 100);
    }

    MatrixChannel(
            MatrixSettings settings, HttpClient http, Backoff syncBackoff, Backoff sendBackoff, int timelineLimit) {
        this.timelineLimit = timelineLimit;
        this.settings = settings;
        this.api = new ClientApi(settings.homeserver(), settings.token(), http);
        this.media = new MatrixMedia(api);
        this.syncToken = new SyncToken(settings.syncToken());
        this.loop = new PollLoop("Matrix", syncBackoff);
        this.sendBackoff = sendBackoff;
    }

    @Override
    public String name() {
        return Matrix.NAME;
    }

    /** Text up to {@link #MAX_TEXT} characters, in threads. */
    @Override
    public Capabilities capabilities() {
        return new Capabilities(true, false, false, true, false, false, MAX_TEXT);
    }

    @Override
    public void start(InboundSink sink) {
        this.sink = sink;
        loop.start("matrix-sync", () -> me == null ? identify() : sync());
    }

    /** Whether the last sync worked (for tests and status). */
    boolean isSyncing() {
        return synced && loop.trouble() == null;
    }

    /** What keeps the adapter from syncing now (a rejected token, an outage), or null. */
    String trouble() {
        return loop.trouble();
    }

    private Duration identify() throws IOException, InterruptedException {
        return switch (api.call("GET", "/account/whoami", null, REQUEST_TIMEOUT)) {
            case Reply.Ok ok -> {
                me = ok.body().path("user_id").asString();
                LOG.info("Matrix account {} on {} is syncing", me, settings.homeserver());
                yield Duration.ZERO;
            }
            case Reply.Error e -> failed(e);
        };
    }

    private Duration sync() throws IOException, InterruptedException {
        String since = syncToken.read();
        String filter = "{\"room\":{\"timeline\":{\"limit\":" + timelineLimit + "}}}";
        String query = "?timeout=" + settings.pollTimeout().toMillis() + "&filter=" + ClientApi.segment(filter)
                + (since == null ? "" : "&since=" + ClientApi.segment(since));
        Reply reply =
                api.call("GET", "/sync" + query, null, settings.pollTimeout().plusSeconds(30));
        if (reply instanceof Reply.Error e) {
            return failed(e);
        }
        JsonNode body = ((Reply.Ok) reply).body();
        JsonNode rooms = body.path("rooms");
        if (settings.joinOnInvite()) {
            for (String room : rooms.path("invite").propertyNames()) {
                join(room);
            }
        }
        for (var joined : rooms.path("join").properties()) {
            String room = joined.getKey();
            JsonNode count = joined.getValue().path("summary").path("m.joined_member_count");
            if (count.isIntegralNumber()) {
                members.put(room, count.asInt());
            }
            if (since != null) {
                timeline(room, joined.getValue().path("timeline"), since);
            }
        }
        // Only now, with every event of the batch stored, does the next sync start after it.
        syncToken.write(body.path("next_batch").asString());
        loop.worked();
        synced = true;
        return Duration.ZERO;
    }

    private void timeline(String room, JsonNode timeline, String since) throws IOException, InterruptedException {
        List<JsonNode> events = new ArrayList<>();
        if (timeline.path("limited").asBoolean(false)
                && timeline.path("prev_batch").isString()) {
            events.addAll(gap(room, timeline.get("prev_batch").asString(), since));
        }
        timeline.path("events").forEach(events::add);
        for (JsonNode event : events) {
            if (loop.closed()) {
                throw new InterruptedException("closing");
            }
            if ("m.room.encrypted".equals(event.path("type").asString())) {
                LOG.warn("Matrix room {} is end-to-end encrypted; Cordon cannot read it", room);
                continue;
            }
            Optional<NewInbound> read = MatrixEvent.read(room, event, me, isDirect(room), media);
            if (read.isPresent()) {
                NewInbound m = read.get();
                // Throws if the host could not store it: the sync token stays, and the batch comes again.
                if (sink.accept(m) instanceof InboundSink.InboundResult.Dropped d && m.mentioned()) {
                    LOG.info(
                            "Matrix event {} from {} in {} dropped: {}",
                            m.platformMessageId(),
                            m.senderId(),
                            room,
                            d.reason());
                }
            }
        }
    }

    /**
     * The events a limited timeline left out: those after {@code since} and before {@code
     * prevBatch}, fetched backwards with {@code /messages} and returned oldest first. At most
     * {@link #MAX_GAP}; the log says if more were skipped.
     */
    private List<JsonNode> gap(String room, String prevBatch, String since) throws IOException, InterruptedException {
        List<JsonNode> newestFirst = new ArrayList<>();
        String from = prevBatch;
        while (from != null && newestFirst.size() < MAX_GAP) {
            Reply reply = api.call(
                    "GET",
                    "/rooms/" + ClientApi.segment(room) + "/messages?dir=b&limit=" + timelineLimit + "&from="
                            + ClientApi.segment(from) + "&to=" + ClientApi.segment(since),
                    null,
                    REQUEST_TIMEOUT);
            if (!(reply instanceof Reply.Ok ok)) {
                throw new IOException("cannot fetch the missed events of Matrix room " + room + ": " + reply);
            }
            JsonNode chunk = ok.body().path("chunk");
            chunk.forEach(newestFirst::add);
            String end = ok.body().path("end").asString(null);
            from = chunk.isEmpty() || from.equals(end) ? null : end;
        }
        if (from != null) {
            LOG.warn(
                    "more than {} events in Matrix room {} since the last sync; the older ones are not answered",
                    MAX_GAP,
                    room);
        }
        return newestFirst.reversed();
    }

    private boolean isDirect(String room) throws IOException, InterruptedException {
        Integer count = members.get(room);
        if (count == null) {
            // Summaries come only when they change: after a restart ask for the room's members.
            Reply reply =
                    api.call("GET", "/rooms/" + ClientApi.segment(room) + "/joined_members", null, REQUEST_TIMEOUT);
            count = reply instanceof Reply.Ok ok ? ok.body().path("joined").size() : 0;
            members.put(room, count);
        }
        return count == 2;
    }

    private void join(String room) throws IOException, InterruptedException {
        Reply reply = api.call("POST", "/join/" + ClientApi.segment(room), ClientApi.object(), REQUEST_TIMEOUT);
        switch (reply) {
            case Reply.Ok ok -> LOG.info("joined Matrix room {} on invitation", room);
            case Reply.Error e -> LOG.warn("could not join Matrix room {}: {}", room, e);
        }
    }

    private Duration failed(Reply.Error e) {
        if (e.status() == 401) {
            return loop.troubled("the homeserver rejected the access token (" + e
                    + "): store a valid one with cordon secret set NAME --host-only and restart");
        }
        if (e.status() == 429 && e.retryAfter() != null) {
            return loop.troubled("rate-limited by the homeserver (" + e + ")", e.retryAfter());
        }
        return loop.troubled("the homeserver answered " + e);
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        String room = message.platformChatId();
        ObjectNode content = ClientApi.object().put("msgtype", "m.text").put("body", message.text());
        try {
            if (message.file() != null) {
                // Uploaded again on a retry (a spare copy on the homeserver), shown once: same transaction id.
                Reply uploaded = api.upload(message.file(), UPLOAD_TIMEOUT);
                if (!(uploaded instanceof Reply.Ok ok)) {
                    return sendFailed(room, (Reply.Error) uploaded);
                }
                content = MatrixFile.content(
                        message.text(),
                        message.file(),
                        ok.body().path("content_uri").asString());
            }
            String replyTo = message.replyToPlatformMessageId();
            if (replyTo != null) {
                relate(content, room, replyTo);
            }
            Reply reply = api.call(
                    "PUT",
                    "/rooms/" + ClientApi.segment(room) + "/send/m.room.message/"
                            + ClientApi.segment(message.idempotencyKey()),
                    content,
                    REQUEST_TIMEOUT);
            return switch (reply) {
                case Reply.Ok ok -> {
                    sendBackoff.reset();
                    yield new DeliveryResult.Delivered(
                            ok.body().path("event_id").asString());
                }
                case Reply.Error e -> sendFailed(room, e);
            };
        } catch (IOException e) {
            // Sent again with the same transaction id: the homeserver will not show it twice.
            return new DeliveryResult.RetryLater(sendBackoff.next(), "cannot reach the homeserver: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new DeliveryResult.RetryLater(Duration.ofSeconds(5), "interrupted");
        }
    }

    /**
     * Makes {@code content} a reply to {@code eventId}, in its thread if it is in one. The event is
     * fetched once; if it cannot be (redacted, no access) the reply goes out without the relation.
     */
    private void relate(ObjectNode content, String room, String eventId) throws IOException, InterruptedException {
        Replied r = replied.get(eventId);
        if (r == null) {
            Reply reply = api.call(
                    "GET",
                    "/rooms/" + ClientApi.segment(room) + "/event/" + ClientApi.segment(eventId),
                    null,
                    REQUEST_TIMEOUT);
            if (!(reply instanceof Reply.Ok ok)) {
                return;
            }
            JsonNode relates = ok.body().path("content").path("m.relates_to");
            r = new Replied(
                    "m.thread".equals(relates.path("rel_type").asString(""))
                            ? relates.path("event_id").asString("")
                            : "",
                    ok.body().path("sender").asString(""));
            replied.put(eventId, r);
        }
        ObjectNode relation = content.putObject("m.relates_to");
        if (!r.threadRoot().isEmpty()) {
            relation.put("rel_type", "m.thread").put("event_id", r.threadRoot()).put("is_falling_back", false);
        }
        relation.putObject("m.in_reply_to").put("event_id", eventId);
        ObjectNode mentions = content.putObject("m.mentions");
        if (!r.sender().isEmpty()) {
            mentions.putArray("user_ids").add(r.sender());
        }
    }

    private DeliveryResult sendFailed(String room, Reply.Error e) {
        String said = "the homeserver answered " + e;
        if (e.status() == 429) {
            return new DeliveryResult.RetryLater(e.retryAfter() == null ? sendBackoff.next() : e.retryAfter(), said);
        }
        if (e.status() >= 500 || e.status() == 401) {
            // An outage, or a token that does not work (yet): the replies wait until it is fixed.
            return new DeliveryResult.RetryLater(sendBackoff.next(), said);
        }
        // M_FORBIDDEN (not in the room, no power to speak), M_NOT_FOUND, M_UNKNOWN: they do not heal.
        return new DeliveryResult.Failed(said + " for room " + room);
    }

    @Override
    public void close() {
        loop.close();
    }
}
