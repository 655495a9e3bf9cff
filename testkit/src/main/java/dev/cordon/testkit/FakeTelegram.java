package dev.cordon.testkit;

import com.sun.net.httpserver.HttpExchange;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A fake Telegram Bot API on loopback speaking the real wire format: {@code POST
 * /bot<token>/<method>} with a JSON body, answered by {@code {"ok":true,"result":...}} or {@code
 * {"ok":false,"error_code":N,"description":"...","parameters":{...}}}. It models what a bot
 * depends on:
 *
 * <ul>
 *   <li>{@code getUpdates} long polls up to {@code timeout} seconds; an update is forgotten only
 *       when a later call asks for an {@code offset} past it, so unconfirmed updates come again; a
 *       second concurrent poll ends the first with 409 "terminated by other getUpdates request";
 *       with a webhook set it answers 409 too.
 *   <li>{@code sendMessage} checks the chat exists (400 "chat not found"), the sender has not blocked
 *       the bot (403), the text (1 to 4,096 characters) and the replied-to message.
 *   <li>a wrong token gets 401 "Unauthorized", an unknown method 404 "Not Found"; {@link #failNext}
 *       queues failures (429 with {@code retry_after}, 5xx) for the next calls of a method.
 * </ul>
 *
 * Thread-safe; every method may be called from a test while the bot polls.
 */
public final class FakeTelegram implements AutoCloseable {
    private static final JsonMapper JSON = JsonHttpFake.JSON;
    private static final Pattern MENTION = Pattern.compile("@[A-Za-z0-9_]{3,32}");
    private static final Pattern COMMAND = Pattern.compile("^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?");

    /** A Telegram user. */
    public record User(long id, String firstName, String username) {}

    /** A chat: {@code private} (its id is the user's), {@code group} or {@code supergroup}. */
    public record Chat(long id, String type, String title) {}

    /**
     * A message the bot sent, as Telegram stored it.
     *
     * @param parseMode the {@code parse_mode} it asked for ({@code MarkdownV2}, {@code HTML}), or null
     *     for plain text, shown exactly as written
     */
    public record Sent(long chatId, long messageId, String text, Long replyTo, String parseMode) {}

    /** An injected failure of one method call. */
    private record Failure(int code, String description, Integer retryAfter) {}

    private final JsonHttpFake<Sent> http;
    private final String token;
    private final User bot;
    private final Queue<ObjectNode> updates = new ArrayDeque<>();
    private final Map<Long, Chat> chats = new HashMap<>();
    private final Map<Long, Long> lastMessageId = new HashMap<>();
    private final Map<Long, Map<Long, ObjectNode>> history = new HashMap<>();
    private final Set<Long> blockedBy = new HashSet<>();
    private final Map<String, Queue<Failure>> failures = new HashMap<>();
    private final List<String> calls = new ArrayList<>();
    private long nextUpdateId = 700_000_001;
    private long nextUserId = 1000;
    private long nextGroupId = 1;
    private long pollGeneration;
    private boolean webhook;
    private boolean closed;
    private long uploadLimit = 50L * 1024 * 1024;
    private final java.util.concurrent.LinkedBlockingQueue<Document> documents =
            new java.util.concurrent.LinkedBlockingQueue<>();

    private FakeTelegram(String token, String botUsername) {
        this.token = token;
        this.bot = new User(Long.parseLong(token.substring(0, token.indexOf(':'))), "Cordon", botUsername);
        http = new JsonHttpFake<>(this::handle);
    }

    /**
     * Starts a Bot API for the bot with {@code token} ({@code ID:SECRET}) and {@code botUsername}.
     *
     * @throws UncheckedIOException if no loopback port can be bound
     */
    public static FakeTelegram start(String token, String botUsername) {
        return new FakeTelegram(token, botUsername);
    }

    /** The base URL, in place of {@code https://api.telegram.org}. */
    public URI url() {
        return http.url();
    }

    public User bot() {
        return bot;
    }

    /** A new person with a fresh id. */
    public synchronized User user(String username) {
        return new User(nextUserId++, Character.toUpperCase(username.charAt(0)) + username.substring(1), username);
    }

    /** The private chat between {@code user} and the bot (its id is the user's). */
    public synchronized Chat privateChat(User user) {
        return chats.computeIfAbsent(user.id(), id -> new Chat(id, "private", null));
    }

    /** A new supergroup the bot is a member of (ids like {@code -1001234567890}). */
    public synchronized Chat group(String title) {
        Chat chat = new Chat(-1_001_000_000_000L - nextGroupId++, "supergroup", title);
        chats.put(chat.id(), chat);
        return chat;
    }

    /** {@code from} writes {@code text} in {@code chat}; returns the new message's id. */
    public long say(Chat chat, User from, String text) {
        return reply(chat, from, text, 0);
    }

    /** {@code from} answers message {@code replyTo} (0: none) of {@code chat}; returns the new message's id. */
    public synchronized long reply(Chat chat, User from, String text, long replyTo) {
        ObjectNode message = message(chat, from, text);
        if (replyTo != 0) {
            message.set("reply_to_message", history.get(chat.id()).get(replyTo).deepCopy());
        }
        ArrayNode entities = JSON.createArrayNode();
        Matcher command = COMMAND.matcher(text);
        int searchFrom = 0;
        if (command.find()) {
            searchFrom = command.end();
            entities.addObject().put("offset", 0).put("length", searchFrom).put("type", "bot_command");
        }
        Matcher mention = MENTION.matcher(text);
        while (mention.find(searchFrom)) {
            searchFrom = mention.end();
            entities.addObject()
                    .put("offset", mention.start())
                    .put("length", mention.end() - mention.start())
                    .put("type", "mention");
        }
        if (!entities.isEmpty()) {
            message.set("entities", entities);
        }
        ObjectNode update = JSON.createObjectNode().put("update_id", nextUpdateId++);
        update.set("message", message);
        updates.add(update);
        notifyAll();
        return message.get("message_id").asLong();
    }

    /** The user blocks the bot: what the bot sends them is refused with 403 from now on. */
    public synchronized void block(User user) {
        blockedBy.add(user.id());
    }

    /** The next {@code count} calls of {@code method} fail with {@code code} and {@code description}. */
    public synchronized void failNext(String method, int count, int code, String description, Integer retryAfter) {
        for (int i = 0; i < count; i++) {
            failures.computeIfAbsent(method, m -> new ArrayDeque<>()).add(new Failure(code, description, retryAfter));
        }
    }

    /** A webhook is set (or deleted): {@code getUpdates} is refused with 409 while it is. */
    public synchronized void webhook(boolean set) {
        webhook = set;
        notifyAll();
    }

    /** The next message the bot sends, waiting at most {@code wait}. */
    public Sent nextSent(Duration wait) throws InterruptedException {
        return http.nextSent(wait);
    }

    /** Every message the bot sent, in order. */
    public List<Sent> sent() {
        return http.sent();
    }

    /** The methods called, in order (with a wrong token: {@code 401 METHOD}). */
    public synchronized List<String> calls() {
        return List.copyOf(calls);
    }

    /** How many updates Telegram still holds: not yet confirmed by an offset past them. */
    public synchronized int unconfirmed() {
        return updates.size();
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        http.close();
    }

    private ObjectNode message(Chat chat, User from, String text) {
        long id = lastMessageId.merge(chat.id(), 1L, Long::sum);
        ObjectNode message = JSON.createObjectNode().put("message_id", id);
        message.set("from", userJson(from));
        ObjectNode c = message.putObject("chat").put("id", chat.id()).put("type", chat.type());
        if (chat.title() != null) {
            c.put("title", chat.title());
        } else {
            c.put("first_name", from.firstName()).put("username", from.username());
        }
        message.put("date", System.currentTimeMillis() / 1000).put("text", text);
        history.computeIfAbsent(chat.id(), k -> new HashMap<>()).put(id, message);
        return message;
    }

    private ObjectNode userJson(User u) {
        return JSON.createObjectNode()
                .put("id", u.id())
                .put("is_bot", u.equals(bot))
                .put("first_name", u.firstName())
                .put("username", u.username());
    }

    private JsonHttpFake.Answer handle(HttpExchange exchange, ObjectNode body) {
        String path = exchange.getRequestURI().getPath();
        String prefix = "/bot" + token + "/";
        ObjectNode answer;
        if (!path.startsWith(prefix)) {
            synchronized (this) {
                calls.add("401 " + path.substring(path.lastIndexOf('/') + 1));
            }
            answer = error(401, "Unauthorized", null);
        } else if (body == null && path.endsWith("/sendDocument")) {
            answer = sendDocument(exchange.getRequestHeaders().getFirst("Content-Type"), (byte[])
                    exchange.getAttribute(JsonHttpFake.RAW_BODY));
        } else if (body == null) {
            answer = error(400, "Bad Request: the body is not a JSON object", null);
        } else {
            answer = call(path.substring(prefix.length()), body);
        }
        return new JsonHttpFake.Answer(
                answer.get("ok").asBoolean() ? 200 : answer.get("error_code").asInt(), answer);
    }

    private synchronized ObjectNode call(String method, JsonNode body) {
        calls.add(method);
        Queue<Failure> queued = failures.get(method);
        if (queued != null && !queued.isEmpty()) {
            Failure f = queued.remove();
            return error(f.code(), f.description(), f.retryAfter());
        }
        return switch (method) {
            case "getMe" -> ok(userJson(bot).put("can_join_groups", true).put("can_read_all_group_messages", true));
            case "getUpdates" -> getUpdates(body);
            case "sendMessage" -> sendMessage(body);
            case "deleteWebhook" -> {
                webhook = false;
                yield ok(JSON.booleanNode(true));
            }
            default -> error(404, "Not Found", null);
        };
    }

    private ObjectNode getUpdates(JsonNode body) {
        if (webhook) {
            return error(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the"
                            + " webhook first",
                    null);
        }
        long offset = body.path("offset").asLong(0);
        // Asking for an offset confirms every update before it: Telegram forgets them for good.
        while (offset > 0
                && !updates.isEmpty()
                && updates.peek().get("update_id").asLong() < offset) {
            updates.remove();
        }
        long generation = ++pollGeneration;
        notifyAll();
        long deadline = System.nanoTime()
                + TimeUnit.SECONDS.toNanos(body.path("timeout").asLong(0));
        while (updates.isEmpty() && !closed) {
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
            if (generation != pollGeneration) {
                return error(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only one bot instance"
                                + " is running",
                        null);
            }
        }
        ArrayNode result = JSON.createArrayNode();
        int limit = body.path("limit").asInt(100);
        for (ObjectNode u : updates) {
            if (result.size() == limit) {
                break;
            }
            result.add(u.deepCopy());
        }
        return ok(result);
    }

    private ObjectNode sendMessage(JsonNode body) {
        JsonNode chatId = body.path("chat_id");
        Chat chat = chatId.isIntegralNumber()
                        || chatId.isString() && chatId.asString().matches("-?[0-9]+")
                ? chats.get(Long.parseLong(chatId.asString()))
                : null;
        if (chat == null) {
            return error(400, "Bad Request: chat not found", null);
        }
        if (chat.type().equals("private") && blockedBy.contains(chat.id())) {
            return error(403, "Forbidden: bot was blocked by the user", null);
        }
        String text = body.path("text").asString("");
        if (text.isBlank()) {
            return error(400, "Bad Request: message text is empty", null);
        }
        if (text.length() > 4096) {
            return error(400, "Bad Request: message is too long", null);
        }
        JsonNode replyParameters = body.path("reply_parameters");
        Long replyTo = null;
        if (replyParameters.has("message_id")) {
            long id = replyParameters.get("message_id").asLong();
            if (history.getOrDefault(chat.id(), Map.of()).containsKey(id)) {
                replyTo = id;
            } else if (!replyParameters.path("allow_sending_without_reply").asBoolean(false)) {
                return error(400, "Bad Request: message to be replied not found", null);
            }
        }
        ObjectNode message = message(chat, bot, text);
        if (replyTo != null) {
            message.set("reply_to_message", history.get(chat.id()).get(replyTo).deepCopy());
        }
        Sent s = new Sent(
                chat.id(),
                message.get("message_id").asLong(),
                text,
                replyTo,
                body.path("parse_mode").asString(null));
        http.sent(s);
        return ok(message);
    }

    /**
     * {@code sendDocument} as multipart/form-data: {@code chat_id}, a {@code document} file part,
     * optional {@code caption} (at most 1,024 characters) and {@code reply_parameters} (JSON text).
     * A file over the upload limit is a 413, as the Bot API answers.
     */
    private synchronized ObjectNode sendDocument(String contentType, byte[] raw) {
        calls.add("sendDocument");
        Queue<Failure> queued = failures.get("sendDocument");
        if (queued != null && !queued.isEmpty()) {
            Failure f = queued.remove();
            return error(f.code(), f.description(), f.retryAfter());
        }
        if (raw.length > uploadLimit) {
            return error(413, "Request Entity Too Large", null);
        }
        MultipartForm form;
        try {
            form = MultipartForm.parse(contentType, raw);
        } catch (IllegalArgumentException e) {
            return error(400, "Bad Request: " + e.getMessage(), null);
        }
        String chatId = form.field("chat_id");
        Chat chat = chatId != null && chatId.matches("-?[0-9]+") ? chats.get(Long.parseLong(chatId)) : null;
        if (chat == null) {
            return error(400, "Bad Request: chat not found", null);
        }
        if (chat.type().equals("private") && blockedBy.contains(chat.id())) {
            return error(403, "Forbidden: bot was blocked by the user", null);
        }
        MultipartForm.Part document = form.part("document").orElse(null);
        if (document == null || document.fileName() == null) {
            return error(400, "Bad Request: there is no document in the request", null);
        }
        if (document.bytes().length == 0) {
            return error(400, "Bad Request: file must be non-empty", null);
        }
        String caption = form.field("caption");
        if (caption != null && caption.length() > 1024) {
            return error(400, "Bad Request: message caption is too long", null);
        }
        Long replyTo = null;
        String parameters = form.field("reply_parameters");
        if (parameters != null) {
            JsonNode p = JSON.readTree(parameters);
            long id = p.path("message_id").asLong();
            if (history.getOrDefault(chat.id(), Map.of()).containsKey(id)) {
                replyTo = id;
            } else if (!p.path("allow_sending_without_reply").asBoolean(false)) {
                return error(400, "Bad Request: message to be replied not found", null);
            }
        }
        ObjectNode message = message(chat, bot, caption == null ? "" : caption);
        message.remove("text");
        if (caption != null) {
            message.put("caption", caption);
        }
        message.putObject("document")
                .put("file_name", document.fileName())
                .put("mime_type", document.mediaType())
                .put("file_size", document.bytes().length)
                .put("file_id", "BQAC" + message.get("message_id").asLong());
        documents.add(new Document(
                chat.id(),
                message.get("message_id").asLong(),
                document.fileName(),
                document.mediaType(),
                document.bytes(),
                caption,
                replyTo));
        return ok(message);
    }

    /** A document the bot sent. */
    public record Document(
            long chatId,
            long messageId,
            String fileName,
            String mediaType,
            byte[] bytes,
            String caption,
            Long replyTo) {}

    /** The next document the bot sent, waiting at most {@code wait}. */
    public Document nextDocument(Duration wait) throws InterruptedException {
        Document d = documents.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        if (d == null) {
            throw new AssertionError("the bot sent no document within " + wait);
        }
        return d;
    }

    /** Requests larger than {@code bytes} are answered 413, as the Bot API does past its 50 MB. */
    public synchronized void uploadLimit(long bytes) {
        uploadLimit = bytes;
    }

    private static ObjectNode ok(JsonNode result) {
        ObjectNode answer = JSON.createObjectNode().put("ok", true);
        answer.set("result", result);
        return answer;
    }

    private static ObjectNode error(int code, String description, Integer retryAfter) {
        ObjectNode answer =
                JSON.createObjectNode().put("ok", false).put("error_code", code).put("description", description);
        if (retryAfter != null) {
            answer.putObject("parameters").put("retry_after", retryAfter);
        }
        return answer;
    }
}
