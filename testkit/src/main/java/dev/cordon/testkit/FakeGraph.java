package dev.cordon.testkit;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A fake of Meta's WhatsApp Cloud API on loopback, both halves:
 *
 * <ul>
 *   <li>the Graph API's {@code POST /v21.0/PHONE_NUMBER_ID/messages}, answering as Meta does:
 *       {@code {"messaging_product":"whatsapp","contacts":[...],"messages":[{"id":"wamid..."}]}}, or
 *       {@code {"error":{"message","type","code","error_data","fbtrace_id"}}}: 190 {@code
 *       OAuthException} for another token; 100 for an unknown phone number id or a malformed
 *       message (text 1 to 4,096 characters; interactive: a body up to 1,024, 1 to 3 reply buttons
 *       with titles of 1 to 20 characters and distinct ids); 131047 when the person has not written
 *       in the last 24 hours ({@link #expireWindow}); {@link #failNext} queues others (130429, 5xx);
 *   <li>{@code POST /v21.0/PHONE_NUMBER_ID/media} (multipart: {@code messaging_product}, {@code
 *       type}, {@code file}) answering {@code {"id"}}, checking the media type and the size limit
 *       (131053), and {@code document} messages that name an uploaded id;
 *   <li>media people send ({@link #sendsMedia}): {@code GET /v21.0/MEDIA_ID} answers the lookup
 *       ({@code url}, {@code mime_type}, {@code sha256}, {@code file_size}), and the media host
 *       serves the {@code url} for five minutes with the token (401 without, 404 after);
 *   <li>the webhook sender: {@link #says} builds the {@code messages} payload a person's message
 *       makes, {@link #post} POSTs it signed with {@code X-Hub-Signature-256} (HMAC-SHA256 of the
 *       body with the app secret, computed with the JDK alone), {@link #subscribe} makes the {@code
 *       GET} handshake.
 * </ul>
 *
 * Thread-safe.
 */
public final class FakeGraph implements AutoCloseable {
    /**
     * A message the business sent, as Meta took it: {@code buttons} empty but for interactive ones;
     * a {@code document}'s caption is its {@code text}, its file {@code document} (null for others).
     */
    public record Sent(
            String to, String id, String type, String text, List<String> buttons, String contextId, Media document) {}

    /** A file in the media store: {@code fileName} is the name a document message gave it (null as uploaded). */
    public record Media(String id, String fileName, String mediaType, byte[] bytes) {}

    /** The media types WhatsApp takes (documents, images, audio, video, stickers). */
    private static final Set<String> MEDIA_TYPES = Set.of(
            "text/plain",
            "application/pdf",
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "image/jpeg",
            "image/png",
            "image/webp",
            "audio/aac",
            "audio/amr",
            "audio/mpeg",
            "audio/mp4",
            "audio/ogg",
            "video/mp4",
            "video/3gpp");

    private record Failure(int status, int code, String message) {}

    private final JsonHttpFake<Sent> http;
    private final String token;
    private final String phoneNumberId;
    private final Clock clock;
    private final Map<String, Instant> lastWrote = new HashMap<>();
    private final Set<String> expired = new HashSet<>();
    private final Queue<Failure> failures = new ArrayDeque<>();
    private final Map<String, Media> media = new HashMap<>();
    private final Queue<Failure> downloadFailures = new ArrayDeque<>();
    private final List<String> calls = new ArrayList<>();
    private long expiredBy;
    private long mediaLimit = 100L * 1024 * 1024;
    private final HttpClient client = HttpClient.newHttpClient();
    private long next = 1;

    private FakeGraph(String token, String phoneNumberId) {
        this.token = token;
        this.phoneNumberId = phoneNumberId;
        this.clock = Clock.systemUTC();
        http = new JsonHttpFake<>(this::handle);
        http.serve("/whatsapp_business/attachments/", this::download);
    }

    /**
     * Starts a Graph API that accepts {@code token} for business number {@code phoneNumberId}.
     *
     * @throws UncheckedIOException if no loopback port can be bound
     */
    public static FakeGraph start(String token, String phoneNumberId) {
        return new FakeGraph(token, phoneNumberId);
    }

    /** The Graph API's base with its version, in place of {@code https://graph.facebook.com/v21.0}. */
    public URI url() {
        return http.url().resolve("/v21.0");
    }

    /** The person's 24-hour customer service window is over: sends to them fail with 131047. */
    public synchronized void expireWindow(String waId) {
        expired.add(waId);
    }

    /** Files over {@code bytes} are refused, as WhatsApp refuses documents over 100 MB (tests lower it). */
    public synchronized void mediaLimit(long bytes) {
        mediaLimit = bytes;
    }

    /** The files uploaded, by media id. */
    public synchronized Map<String, Media> media() {
        return Map.copyOf(media);
    }

    /**
     * {@code POST /PHONE_NUMBER_ID/media} as multipart/form-data: {@code messaging_product=whatsapp},
     * {@code type} (the file's media type, one WhatsApp takes) and a {@code file} part of that type,
     * at most the media limit. Answers {@code {"id":"MEDIA_ID"}}.
     */
    private JsonHttpFake.Answer upload(String contentType, byte[] raw) {
        MultipartForm form;
        try {
            form = MultipartForm.parse(contentType, raw);
        } catch (IllegalArgumentException e) {
            return error(400, 100, "OAuthException", "(#100) " + e.getMessage());
        }
        if (!"whatsapp".equals(form.field("messaging_product"))) {
            return error(400, 100, "OAuthException", "(#100) The parameter messaging_product is required.");
        }
        MultipartForm.Part file = form.part("file").orElse(null);
        String type = form.field("type");
        if (file == null || file.fileName() == null || file.bytes().length == 0) {
            return error(400, 100, "OAuthException", "(#100) The parameter file is required.");
        }
        if (type == null || !MEDIA_TYPES.contains(type) || !type.equals(file.mediaType())) {
            return error(
                    400,
                    100,
                    "OAuthException",
                    "(#100) Param file must be a file with one of the following types: "
                            + new java.util.TreeSet<>(MEDIA_TYPES) + ". Received file of type '" + file.mediaType()
                            + "'.");
        }
        if (file.bytes().length > mediaLimit) {
            ObjectNode e = errorNode(
                    131053,
                    "OAuthException",
                    "Media upload error",
                    "Media file size too big. Max file size we currently support: " + mediaLimit + " bytes.");
            return new JsonHttpFake.Answer(400, e);
        }
        String id = Long.toString(1_000_000_000_000_000L + next++);
        media.put(id, new Media(id, null, type, file.bytes()));
        return new JsonHttpFake.Answer(200, JsonHttpFake.JSON.createObjectNode().put("id", id));
    }

    /**
     * {@code GET /v21.0/MEDIA_ID} (the media lookup): {@code {"messaging_product", "url", "mime_type",
     * "sha256", "file_size", "id"}}, the {@code url} on the media host and valid for five minutes;
     * another token 401 (190), an unknown id 400 (100, subcode 33); queued failures first.
     */
    private JsonHttpFake.Answer lookup(HttpExchange exchange, String id) {
        if (!("Bearer " + token).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
            return error(401, 190, "OAuthException", "Invalid OAuth access token - Cannot parse access token");
        }
        calls.add("lookup");
        Failure f = failures.poll();
        if (f != null) {
            return error(f.status(), f.code(), "OAuthException", f.message());
        }
        Media m = media.get(id);
        if (m == null) {
            ObjectNode e = errorNode(
                    100,
                    "GraphMethodException",
                    "Unsupported get request. Object with ID '" + id + "' does not exist, cannot be loaded due to"
                            + " missing permissions, or does not support this operation.",
                    null);
            ((ObjectNode) e.get("error")).put("error_subcode", 33);
            return new JsonHttpFake.Answer(400, e);
        }
        long expires = clock.instant().getEpochSecond() + 300;
        String url = http.url() + "/whatsapp_business/attachments/?mid=" + id + "&ext=" + expires + "&hash="
                + FakeGitHub.hmac(token + "media", id + ":" + expires);
        return new JsonHttpFake.Answer(
                200,
                JsonHttpFake.JSON
                        .createObjectNode()
                        .put("messaging_product", "whatsapp")
                        .put("url", url)
                        .put("mime_type", m.mediaType())
                        .put("sha256", sha256(m.bytes()))
                        .put("file_size", m.bytes().length)
                        .put("id", id));
    }

    /**
     * The media host ({@code lookaside.fbsbx.com}): the bytes of a URL the lookup gave, with the
     * access token; 401 without it or with another, 404 once the URL's five minutes are over or
     * for one the lookup never gave; a queued download failure first.
     */
    private void download(HttpExchange exchange) throws IOException {
        Map<String, String> q = JsonHttpFake.query(exchange.getRequestURI().getRawQuery());
        Media m;
        Failure f;
        synchronized (this) {
            calls.add("download");
            m = media.get(q.getOrDefault("mid", ""));
            f = downloadFailures.poll();
        }
        String ext = q.getOrDefault("ext", "");
        boolean valid = m != null
                && ext.matches("[0-9]{1,12}")
                && Long.parseLong(ext) > clock.instant().getEpochSecond() + expiredBy
                && FakeGitHub.hmac(token + "media", m.id() + ":" + ext).equals(q.get("hash"));
        if (!("Bearer " + token).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
            JsonHttpFake.json(
                    exchange,
                    401,
                    errorNode(190, "OAuthException", "Invalid OAuth access token - Cannot parse access token", null),
                    Map.of());
        } else if (f != null) {
            JsonHttpFake.json(
                    exchange,
                    f.status(),
                    errorNode(f.code(), "OAuthException", f.message(), null),
                    f.status() == 429 ? Map.of("Retry-After", "60") : Map.of());
        } else if (!valid) {
            JsonHttpFake.bytes(exchange, 404, "text/plain", "Not Found".getBytes(StandardCharsets.UTF_8), Map.of());
        } else {
            JsonHttpFake.bytes(exchange, 200, m.mediaType(), m.bytes(), Map.of());
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of()
                    .formatHex(
                            java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The next {@code count} downloads from the media host fail with {@code status} and Graph error {@code code}. */
    public synchronized void failNextDownload(int count, int status, int code, String message) {
        for (int i = 0; i < count; i++) {
            downloadFailures.add(new Failure(status, code, message));
        }
    }

    /** Media URLs handed out so far are past their five minutes: the media host answers 404. */
    public synchronized void expireMediaUrls() {
        expiredBy = 301;
    }

    /** The lookups and downloads of media, in order ({@code lookup}, {@code download}). */
    public synchronized List<String> mediaCalls() {
        return List.copyOf(calls);
    }

    /**
     * The {@code messages} payload of person {@code waId} sending a file: {@code kind} is {@code
     * image}, {@code document}, {@code audio}, {@code video} or {@code sticker}, with WhatsApp's
     * fields ({@code id}, {@code mime_type}, {@code sha256}; {@code filename} for a document, null
     * for others; {@code caption}, null for none); the bytes go to the media store under that id.
     */
    public synchronized String sendsMedia(
            String waId, String name, String kind, String fileName, String mediaType, byte[] bytes, String caption) {
        String id = Long.toString(2_000_000_000_000_000L + next++);
        media.put(id, new Media(id, fileName, mediaType, bytes));
        ObjectNode m = message(waId, kind);
        ObjectNode file =
                m.putObject(kind).put("id", id).put("mime_type", mediaType).put("sha256", sha256(bytes));
        if (fileName != null) {
            file.put("filename", fileName);
        }
        if (caption != null) {
            file.put("caption", caption);
        }
        if (kind.equals("audio")) {
            file.put("voice", mediaType.startsWith("audio/ogg"));
        } else if (kind.equals("sticker")) {
            file.put("animated", false);
        }
        return payload(waId, name, m);
    }

    /** The next {@code count} sends fail with HTTP {@code status} and Graph error {@code code}. */
    public synchronized void failNext(int count, int status, int code, String message) {
        for (int i = 0; i < count; i++) {
            failures.add(new Failure(status, code, message));
        }
    }

    private JsonHttpFake.Answer handle(HttpExchange exchange, ObjectNode body) {
        synchronized (this) {
            String path = exchange.getRequestURI().getPath();
            if (exchange.getRequestMethod().equals("GET") && path.matches("/v21\\.0/[0-9]+")) {
                return lookup(exchange, path.substring("/v21.0/".length()));
            }
            if (!exchange.getRequestMethod().equals("POST") || !path.matches("/v21\\.0/[0-9]+/(messages|media)")) {
                return error(400, 100, "OAuthException", "Unknown path components: " + path);
            }
            if (!("Bearer " + token).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                return error(401, 190, "OAuthException", "Invalid OAuth access token - Cannot parse access token");
            }
            if (!path.startsWith("/v21.0/" + phoneNumberId + "/")) {
                return error(
                        400,
                        100,
                        "GraphMethodException",
                        "Unsupported post request. Object with ID '"
                                + path.split("/")[2] + "' does not exist, cannot be loaded due to missing permissions,"
                                + " or does not support this operation.");
            }
            Failure f = failures.poll();
            if (f != null) {
                return error(f.status(), f.code(), "OAuthException", f.message());
            }
            if (path.endsWith("/media")) {
                return upload(exchange.getRequestHeaders().getFirst("Content-Type"), (byte[])
                        exchange.getAttribute(JsonHttpFake.RAW_BODY));
            }
            if (body == null
                    || !"whatsapp".equals(body.path("messaging_product").asString(""))) {
                return error(400, 100, "OAuthException", "(#100) The parameter messaging_product is required.");
            }
            String to = body.path("to").asString("");
            Instant wrote = lastWrote.get(to);
            if (wrote == null
                    || expired.contains(to)
                    || wrote.isBefore(clock.instant().minus(Duration.ofHours(24)))) {
                ObjectNode e = errorNode(
                        131047,
                        "OAuthException",
                        "Re-engagement message",
                        "Message failed to send because more than 24 hours have passed since the customer last"
                                + " replied to this number.");
                return new JsonHttpFake.Answer(400, e);
            }
            String type = body.path("type").asString("");
            String text;
            Media document = null;
            List<String> buttons = new ArrayList<>();
            switch (type) {
                case "text" -> {
                    text = body.path("text").path("body").asString("");
                    if (text.isEmpty() || text.length() > 4096) {
                        return error(400, 100, "OAuthException", "(#100) Param text['body'] must be 1-4096 characters");
                    }
                }
                case "interactive" -> {
                    JsonNode i = body.path("interactive");
                    text = i.path("body").path("text").asString("");
                    JsonNode b = i.path("action").path("buttons");
                    if (!"button".equals(i.path("type").asString(""))
                            || text.isEmpty()
                            || text.length() > 1024
                            || !b.isArray()
                            || b.isEmpty()
                            || b.size() > 3) {
                        return error(400, 100, "OAuthException", "(#100) Invalid parameter");
                    }
                    Set<String> ids = new HashSet<>();
                    for (JsonNode button : b) {
                        String title = button.path("reply").path("title").asString("");
                        if (title.isEmpty()
                                || title.length() > 20
                                || !ids.add(button.path("reply").path("id").asString(""))) {
                            return error(400, 131009, "OAuthException", "(#131009) Parameter value is not valid");
                        }
                        buttons.add(title);
                    }
                }
                case "document" -> {
                    JsonNode d = body.path("document");
                    document = media.get(d.path("id").asString(""));
                    text = d.path("caption").asString("");
                    if (document == null) {
                        return error(
                                400, 131053, "OAuthException", "(#131053) Media upload error: no media with that id");
                    }
                    if (text.length() > 1024) {
                        return error(
                                400,
                                100,
                                "OAuthException",
                                "(#100) Param document['caption'] must be at most 1024 characters");
                    }
                    document = new Media(
                            document.id(), d.path("filename").asString(null), document.mediaType(), document.bytes());
                }
                default -> {
                    return error(400, 131051, "OAuthException", "(#131051) Message type unknown");
                }
            }
            String id = "wamid.HBgM" + (next++) + "AA";
            http.sent(new Sent(
                    to,
                    id,
                    type,
                    text,
                    List.copyOf(buttons),
                    body.path("context").path("message_id").asString(null),
                    document));
            ObjectNode ok = JsonHttpFake.JSON.createObjectNode().put("messaging_product", "whatsapp");
            ok.putArray("contacts").addObject().put("input", to).put("wa_id", to);
            ok.putArray("messages").addObject().put("id", id);
            return new JsonHttpFake.Answer(200, ok);
        }
    }

    private static ObjectNode errorNode(int code, String type, String message, String details) {
        ObjectNode e = JsonHttpFake.JSON.createObjectNode();
        ObjectNode error = e.putObject("error")
                .put("message", message)
                .put("type", type)
                .put("code", code)
                .put("fbtrace_id", "A" + UUID.randomUUID().toString().substring(0, 20));
        if (details != null) {
            error.putObject("error_data").put("messaging_product", "whatsapp").put("details", details);
        }
        return e;
    }

    private static JsonHttpFake.Answer error(int status, int code, String type, String message) {
        return new JsonHttpFake.Answer(status, errorNode(code, type, message, null));
    }

    /**
     * The {@code messages} webhook payload of person {@code waId} (named {@code name}) writing
     * {@code text} to the business number; opens their 24-hour window. Returns the JSON to {@link #post}.
     */
    public String says(String waId, String name, String text) {
        return payload(
                waId,
                name,
                message(waId, "text")
                        .set("text", JsonHttpFake.JSON.createObjectNode().put("body", text)));
    }

    /** The payload of {@code waId} pressing reply button {@code title} ({@code id}) under message {@code context}. */
    public String pressed(String waId, String name, String context, String id, String title) {
        ObjectNode m = message(waId, "interactive");
        m.putObject("context").put("from", phoneNumberId).put("id", context);
        m.putObject("interactive")
                .put("type", "button_reply")
                .putObject("button_reply")
                .put("id", id)
                .put("title", title);
        return payload(waId, name, m);
    }

    /** A status update (a sent message was delivered): no message for anyone. */
    public String delivered(String waId, String wamid) {
        ObjectNode value = value();
        value.putArray("statuses")
                .addObject()
                .put("id", wamid)
                .put("status", "delivered")
                .put("timestamp", Long.toString(clock.instant().getEpochSecond()))
                .put("recipient_id", waId);
        return envelope(value);
    }

    private synchronized ObjectNode message(String waId, String type) {
        lastWrote.put(waId, clock.instant());
        expired.remove(waId);
        return JsonHttpFake.JSON
                .createObjectNode()
                .put("from", waId)
                .put("id", "wamid.HBgL" + waId + "FQIAEhgU" + (next++))
                .put("timestamp", Long.toString(clock.instant().getEpochSecond()))
                .put("type", type);
    }

    private ObjectNode value() {
        ObjectNode value = JsonHttpFake.JSON.createObjectNode().put("messaging_product", "whatsapp");
        value.putObject("metadata").put("display_phone_number", "15550001111").put("phone_number_id", phoneNumberId);
        return value;
    }

    private String payload(String waId, String name, JsonNode message) {
        ObjectNode value = value();
        value.putArray("contacts")
                .addObject()
                .put("wa_id", waId)
                .putObject("profile")
                .put("name", name);
        ArrayNode messages = value.putArray("messages");
        messages.add(message);
        return envelope(value);
    }

    private static String envelope(ObjectNode value) {
        ObjectNode root = JsonHttpFake.JSON.createObjectNode().put("object", "whatsapp_business_account");
        ObjectNode change = root.putArray("entry")
                .addObject()
                .put("id", "102290129340398")
                .putArray("changes")
                .addObject();
        change.set("value", value);
        change.put("field", "messages");
        return JsonHttpFake.JSON.writeValueAsString(root);
    }

    /** POSTs {@code payload} to {@code hookUrl} signed with {@code appSecret}, as Meta does. */
    public HttpResponse<String> post(URI hookUrl, String payload, String appSecret) {
        return post(hookUrl, payload, "sha256=" + FakeGitHub.hmac(appSecret, payload), true);
    }

    /** POSTs {@code payload} with {@code signature} as given, or none (attacks, tests). */
    public HttpResponse<String> post(URI hookUrl, String payload, String signature, boolean withSignature) {
        HttpRequest.Builder r = HttpRequest.newBuilder(hookUrl)
                .header("Content-Type", "application/json")
                .header("User-Agent", "facebookexternalua")
                .POST(HttpRequest.BodyPublishers.ofString(payload));
        if (withSignature) {
            r.header("X-Hub-Signature-256", signature);
        }
        return send(r.build());
    }

    /** The subscription handshake: {@code GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...}. */
    public HttpResponse<String> subscribe(URI hookUrl, String verifyToken, String challenge) {
        String query = "hub.mode=subscribe&hub.verify_token=" + URLEncoder.encode(verifyToken, StandardCharsets.UTF_8)
                + "&hub.challenge=" + URLEncoder.encode(challenge, StandardCharsets.UTF_8);
        return send(
                HttpRequest.newBuilder(URI.create(hookUrl + "?" + query)).GET().build());
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The next message the business sent that no test has taken yet, waiting at most {@code wait}. */
    public Sent nextSent(Duration wait) throws InterruptedException {
        return http.nextSent(wait);
    }

    public List<Sent> sent() {
        return http.sent();
    }

    @Override
    public void close() {
        http.close();
    }
}
