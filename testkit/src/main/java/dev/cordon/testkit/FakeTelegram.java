package dev.cordon.testkit;

import com.sun.net.httpserver.HttpExchange;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
 *   <li>{@code setWebhook} (an https URL, or http on loopback here; a {@code secret_token} of 1 to 256
 *       of {@code A-Z a-z 0-9 _ -}) makes it POST each update, oldest first, to that URL with {@code
 *       X-Telegram-Bot-Api-Secret-Token}; an update is forgotten only when answered 2xx, else sent
 *       again after {@link #webhookRetry} (Telegram backs off), and {@code getWebhookInfo} reports
 *       the last error; {@code deleteWebhook} stops it.
 *   <li>{@code reply_markup.inline_keyboard} on {@code sendMessage} is checked as Telegram does: rows
 *       of buttons, each with a non-empty {@code text} and {@code callback_data} of 1 to 64 bytes
 *       (UTF-8) or a {@code url} (400 "BUTTON_DATA_INVALID" otherwise). {@link #press} makes the
 *       {@code callback_query} update a person's tap sends, carrying the message with its keyboard;
 *       {@code answerCallbackQuery} must answer each query once (400 "query is too old ..."
 *       otherwise), with at most 200 characters of text. {@code allowed_updates} filters updates.
 *   <li>{@link #sendFile} makes the message a person's photo, document, audio, video, voice note,
 *       video note or animation is, with Telegram's fields for each; {@code getFile} answers its
 *       {@code file_path} (400 "invalid file_id", 400 "file is too big" past the 20 MB a bot may
 *       download) and {@code GET /file/bot<token>/<file_path>} serves the bytes (401 for another
 *       token, 404 for an unknown path; {@code failNext("download", ...)} scripts others).
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
    public record Sent(
            long chatId, long messageId, String text, Long replyTo, String parseMode, List<String> buttons) {}

    /** The bot's answer to a button press ({@code answerCallbackQuery}). */
    public record CallbackAnswer(String queryId, String text, boolean showAlert) {}

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
    private final Map<String, Boolean> queries = new HashMap<>();
    private final List<CallbackAnswer> callbackAnswers = new ArrayList<>();
    private long nextUpdateId = 700_000_001;
    private long nextUserId = 1000;
    private long nextGroupId = 1;
    private long pollGeneration;
    private boolean webhook;
    private URI webhookUrl;
    private String webhookSecret;
    private String lastWebhookError;
    private int webhookConnections = 40;
    private Duration webhookRetry = Duration.ofSeconds(1);
    private final Map<Long, ObjectNode> pushed = new HashMap<>();
    private final List<Integer> webhookAnswers = new ArrayList<>();
    private final HttpClient client = HttpClient.newHttpClient();
    private boolean closed;
    private long uploadLimit = 50L * 1024 * 1024;
    private final java.util.concurrent.LinkedBlockingQueue<Document> documents =
            new java.util.concurrent.LinkedBlockingQueue<>();

    private FakeTelegram(String token, String botUsername) {
        this.token = token;
        this.bot = new User(Long.parseLong(token.substring(0, token.indexOf(':'))), "Cordon", botUsername);
        http = new JsonHttpFake<>(this::handle);
        http.serve("/file/", this::download);
        Thread.ofVirtual().name("fake-telegram-webhook").start(this::pushUpdates);
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

    /**
     * {@code from} taps the button labelled {@code label} under the bot's message {@code messageId}
     * in {@code chat}; returns the callback query's id.
     *
     * @throws IllegalArgumentException if that message has no such button
     */
    public synchronized String press(Chat chat, User from, long messageId, String label) {
        ObjectNode message = history.get(chat.id()).get(messageId);
        for (JsonNode row : message.path("reply_markup").path("inline_keyboard")) {
            for (JsonNode button : row) {
                if (button.path("text").asString().equals(label)) {
                    return pressData(
                            chat, from, messageId, button.path("callback_data").asString());
                }
            }
        }
        throw new IllegalArgumentException("message " + messageId + " has no button '" + label + "'");
    }

    /**
     * A {@code callback_query} with any {@code data} for message {@code messageId}, as a forged or
     * stale client could send (Telegram passes on whatever data the button had); returns its id.
     */
    public synchronized String pressData(Chat chat, User from, long messageId, String data) {
        String id = Long.toString(4_000_000_000_000L + nextUpdateId);
        ObjectNode query = JSON.createObjectNode().put("id", id);
        query.set("from", userJson(from));
        query.set("message", history.get(chat.id()).get(messageId).deepCopy());
        query.put("chat_instance", Long.toString(chat.id() * 31)).put("data", data);
        queries.put(id, false);
        ObjectNode update = JSON.createObjectNode().put("update_id", nextUpdateId++);
        update.set("callback_query", query);
        updates.add(update);
        notifyAll();
        return id;
    }

    /** Every answer to a button press, in order. */
    public synchronized List<CallbackAnswer> callbackAnswers() {
        return List.copyOf(callbackAnswers);
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

    /** How long Telegram waits before sending an update the webhook did not take again. */
    public synchronized void webhookRetry(Duration wait) {
        webhookRetry = wait;
    }

    /** The {@code max_connections} of the webhook: how many updates Telegram may send at once (this fake sends one). */
    public synchronized int webhookConnections() {
        return webhookConnections;
    }

    /** The webhook URL set with {@code setWebhook}, or null. */
    public synchronized URI webhookUrl() {
        return webhookUrl;
    }

    /** The HTTP statuses the webhook answered, in order (0: no answer). */
    public synchronized List<Integer> webhookAnswers() {
        return List.copyOf(webhookAnswers);
    }

    /**
     * POSTs update {@code updateId} to the webhook again, as Telegram does when it missed the
     * answer; returns the status.
     */
    public int pushAgain(long updateId) {
        ObjectNode update;
        URI url;
        String secret;
        synchronized (this) {
            update = pushed.get(updateId);
            url = webhookUrl;
            secret = webhookSecret;
        }
        return push(url, secret, update.toString()).statusCode();
    }

    /** POSTs {@code body} to the webhook with {@code secret} as the secret token header (null: none), for attacks. */
    public HttpResponse<String> push(String body, String secret) {
        URI url;
        synchronized (this) {
            url = webhookUrl;
        }
        return push(url, secret, body);
    }

    /** The updates taken by the webhook (answered 2xx), by id. */
    public synchronized List<Long> pushedIds() {
        return List.copyOf(pushed.keySet());
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
            case "getFile" -> getFile(body);
            case "getMe" -> ok(userJson(bot).put("can_join_groups", true).put("can_read_all_group_messages", true));
            case "getUpdates" -> getUpdates(body);
            case "sendMessage" -> sendMessage(body);
            case "answerCallbackQuery" -> answerCallbackQuery(body);
            case "deleteWebhook" -> {
                webhook = false;
                webhookUrl = null;
                webhookSecret = null;
                if (body.path("drop_pending_updates").asBoolean(false)) {
                    updates.clear();
                }
                yield ok(JSON.booleanNode(true));
            }
            case "setWebhook" -> setWebhook(body);
            case "getWebhookInfo" -> {
                ObjectNode info = JSON.createObjectNode()
                        .put("url", webhookUrl == null ? "" : webhookUrl.toString())
                        .put("has_custom_certificate", false)
                        .put("pending_update_count", updates.size())
                        .put("max_connections", webhookConnections);
                if (lastWebhookError != null) {
                    info.put("last_error_date", System.currentTimeMillis() / 1000)
                            .put("last_error_message", lastWebhookError);
                }
                yield ok(info);
            }
            default -> error(404, "Not Found", null);
        };
    }

    private ObjectNode setWebhook(JsonNode body) {
        URI url;
        try {
            url = new URI(body.path("url").asString(""));
        } catch (java.net.URISyntaxException e) {
            return error(400, "Bad Request: bad webhook: invalid URL", null);
        }
        boolean loopbackHttp = "http".equals(url.getScheme()) && "127.0.0.1".equals(url.getHost());
        if (!"https".equals(url.getScheme()) && !loopbackHttp) {
            return error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook", null);
        }
        String secret = body.path("secret_token").asString(null);
        if (secret != null && !secret.matches("[A-Za-z0-9_-]{1,256}")) {
            return error(400, "Bad Request: secret token contains unallowed characters", null);
        }
        int connections = body.path("max_connections").asInt(40);
        if (connections < 1 || connections > 100) {
            return error(400, "Bad Request: bad webhook: max_connections must be between 1 and 100", null);
        }
        webhook = true;
        webhookConnections = connections;
        webhookUrl = url;
        webhookSecret = secret;
        lastWebhookError = null;
        notifyAll();
        ObjectNode answer = ok(JSON.booleanNode(true));
        answer.put("description", "Webhook was set");
        return answer;
    }

    /** Telegram's side of a webhook: the oldest update goes out until it is taken, then the next. */
    private void pushUpdates() {
        while (true) {
            ObjectNode update;
            URI url;
            String secret;
            synchronized (this) {
                while (!closed && (!webhook || webhookUrl == null || updates.isEmpty())) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                update = updates.peek().deepCopy();
                url = webhookUrl;
                secret = webhookSecret;
            }
            int status;
            try {
                status = push(url, secret, update.toString()).statusCode();
            } catch (RuntimeException e) {
                status = 0;
            }
            synchronized (this) {
                webhookAnswers.add(status);
                if (status / 100 == 2) {
                    lastWebhookError = null;
                    pushed.put(update.get("update_id").asLong(), update);
                    updates.remove();
                    continue;
                }
                lastWebhookError = status == 0 ? "Connection refused" : "Wrong response from the webhook: " + status;
                try {
                    TimeUnit.MILLISECONDS.timedWait(this, webhookRetry.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private HttpResponse<String> push(URI url, String secret, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(url)
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (secret != null) {
            request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        try {
            return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
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
        // Telegram does not send update kinds the bot did not ask for.
        if (body.has("allowed_updates")) {
            Set<String> allowed = new HashSet<>();
            body.get("allowed_updates").forEach(k -> allowed.add(k.asString()));
            updates.removeIf(u -> allowed.stream().noneMatch(u::has));
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
        List<String> buttons = new ArrayList<>();
        JsonNode markup = body.path("reply_markup");
        if (!markup.isMissingNode()) {
            String invalid = keyboard(markup, buttons);
            if (invalid != null) {
                return error(400, "Bad Request: " + invalid, null);
            }
        }
        ObjectNode message = message(chat, bot, text);
        if (replyTo != null) {
            message.set("reply_to_message", history.get(chat.id()).get(replyTo).deepCopy());
        }
        if (!markup.isMissingNode()) {
            message.set("reply_markup", markup.deepCopy());
        }
        Sent s = new Sent(
                chat.id(),
                message.get("message_id").asLong(),
                text,
                replyTo,
                body.path("parse_mode").asString(null),
                List.copyOf(buttons));
        http.sent(s);
        return ok(message);
    }

    /** Checks an {@code InlineKeyboardMarkup}, collecting its labels; returns Telegram's complaint or null. */
    private static String keyboard(JsonNode markup, List<String> labels) {
        JsonNode rows = markup.path("inline_keyboard");
        if (!rows.isArray()) {
            return "field \"inline_keyboard\" of the InlineKeyboardMarkup should be an Array";
        }
        for (JsonNode row : rows) {
            if (!row.isArray()) {
                return "field \"inline_keyboard\" of the InlineKeyboardMarkup should be an Array of Arrays";
            }
            for (JsonNode button : row) {
                String label = button.path("text").asString("");
                if (label.isEmpty()) {
                    return "BUTTON_TEXT_INVALID";
                }
                JsonNode data = button.path("callback_data");
                if (data.isString()) {
                    int bytes = data.asString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
                    if (bytes < 1 || bytes > 64) {
                        return "BUTTON_DATA_INVALID";
                    }
                } else if (!button.path("url").isString()) {
                    return "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
                }
                labels.add(label);
            }
        }
        return null;
    }

    private ObjectNode answerCallbackQuery(JsonNode body) {
        String id = body.path("callback_query_id").asString("");
        if (!Boolean.FALSE.equals(queries.get(id))) {
            return error(
                    400, "Bad Request: query is too old and response timeout expired or query ID is invalid", null);
        }
        String text = body.path("text").asString(null);
        if (text != null && text.length() > 200) {
            return error(400, "Bad Request: MESSAGE_TOO_LONG", null);
        }
        queries.put(id, true);
        callbackAnswers.add(new CallbackAnswer(id, text, body.path("show_alert").asBoolean(false)));
        return ok(JSON.booleanNode(true));
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

    /** A file a person sent, as Telegram keeps it; {@code bytes} null for one only declared (too big to serve). */
    private record File(String fileId, String uniqueId, String path, String mediaType, byte[] bytes, long size) {}

    private final Map<String, File> files = new HashMap<>();
    /** The Bot API serves files up to 20 MB to bots ({@code getFile}). */
    public static final long DOWNLOAD_LIMIT = 20L * 1024 * 1024;

    /**
     * {@code from} sends a file in {@code chat}, as a Telegram app makes the message: {@code kind}
     * is the field it lands in ({@code document}, {@code photo}, {@code audio}, {@code video}, {@code
     * voice}, {@code video_note}, {@code animation}, with the fields Telegram gives each: no {@code
     * file_name} for a photo, voice or video note, no {@code mime_type} for a photo or video note; a
     * photo comes in three sizes, {@code bytes} the largest; an animation is also a {@code
     * document}). {@code caption} null for none. Returns the message's id.
     */
    public synchronized long sendFile(
            Chat chat, User from, String kind, String fileName, String mediaType, byte[] bytes, String caption) {
        ObjectNode message = fileMessage(chat, from, caption);
        ObjectNode file = switch (kind) {
            case "photo" -> {
                var sizes = message.putArray("photo");
                sizes.add(photoSize(new byte[] {1, 2, 3}, 90, 60));
                sizes.add(photoSize(new byte[] {4, 5, 6, 7}, 320, 213));
                yield (ObjectNode) sizes.add(photoSize(bytes, 1280, 853)).get(2);
            }
            case "document", "audio", "video", "animation" ->
                store(message.putObject(kind), kind, mediaType, bytes, bytes.length)
                        .put("file_name", fileName)
                        .put("mime_type", mediaType);
            case "voice" ->
                store(message.putObject(kind), kind, "audio/ogg", bytes, bytes.length)
                        .put("mime_type", "audio/ogg");
            case "video_note" ->
                store(message.putObject(kind), kind, "video/mp4", bytes, bytes.length)
                        .put("length", 240);
            default -> throw new IllegalArgumentException("Telegram has no file kind '" + kind + "'");
        };
        if (kind.equals("animation")) {
            message.set("document", file.deepCopy());
        }
        return queue(message);
    }

    /** {@code from} sends a document of {@code size} bytes (no bytes kept): more than the Bot API serves a bot. */
    public synchronized long sendBigDocument(Chat chat, User from, String fileName, long size) {
        ObjectNode message = fileMessage(chat, from, null);
        store(message.putObject("document"), "document", "application/zip", null, size)
                .put("file_name", fileName)
                .put("mime_type", "application/zip");
        return queue(message);
    }

    private ObjectNode fileMessage(Chat chat, User from, String caption) {
        ObjectNode message = message(chat, from, "");
        message.remove("text");
        if (caption != null) {
            message.put("caption", caption);
            Matcher mention = MENTION.matcher(caption);
            ArrayNode entities = message.putArray("caption_entities");
            while (mention.find()) {
                entities.addObject()
                        .put("offset", mention.start())
                        .put("length", mention.end() - mention.start())
                        .put("type", "mention");
            }
        }
        return message;
    }

    private long queue(ObjectNode message) {
        ObjectNode update = JSON.createObjectNode().put("update_id", nextUpdateId++);
        update.set("message", message);
        updates.add(update);
        notifyAll();
        return message.get("message_id").asLong();
    }

    private ObjectNode photoSize(byte[] bytes, int width, int height) {
        return store(JSON.createObjectNode(), "photo", "image/jpeg", bytes, bytes.length)
                .put("width", width)
                .put("height", height);
    }

    /** Keeps the file and puts its ids and size into {@code json}. */
    private ObjectNode store(ObjectNode json, String kind, String mediaType, byte[] bytes, long size) {
        int n = files.size() + 1;
        String folder = switch (kind) {
            case "photo" -> "photos";
            case "voice" -> "voice";
            case "video_note" -> "video_notes";
            case "animation" -> "animations";
            default -> kind + "s";
        };
        File f = new File(
                "AgACAgIAAxkBAAI" + n + "x" + Long.toHexString(nextUpdateId),
                "AQAD" + n,
                folder + "/file_" + n,
                mediaType,
                bytes,
                size);
        files.put(f.fileId(), f);
        return json.put("file_id", f.fileId())
                .put("file_unique_id", f.uniqueId())
                .put("file_size", size);
    }

    /**
     * {@code getFile}: a {@code File} with the {@code file_path} to download it from (valid for an
     * hour on Telegram), 400 "invalid file_id" for an unknown one, 400 "file is too big" past 20 MB.
     */
    private ObjectNode getFile(JsonNode body) {
        File f = files.get(body.path("file_id").asString(""));
        if (f == null) {
            return error(400, "Bad Request: invalid file_id", null);
        }
        if (f.size() > DOWNLOAD_LIMIT) {
            return error(400, "Bad Request: file is too big", null);
        }
        return ok(JSON.createObjectNode()
                .put("file_id", f.fileId())
                .put("file_unique_id", f.uniqueId())
                .put("file_size", f.size())
                .put("file_path", f.path()));
    }

    /**
     * {@code GET /file/bot<token>/<file_path>}: the bytes; 401 for another token, 404 for a path
     * never handed out, and the failures queued for {@code download}.
     */
    private void download(HttpExchange exchange) throws java.io.IOException {
        String path = exchange.getRequestURI().getPath();
        String prefix = "/file/bot" + token + "/";
        ObjectNode failed;
        File found = null;
        synchronized (this) {
            calls.add(path.startsWith(prefix) ? "download" : "401 download");
            Queue<Failure> queued = failures.get("download");
            String wanted = path.startsWith(prefix) ? path.substring(prefix.length()) : null;
            if (wanted == null) {
                failed = error(401, "Unauthorized", null);
            } else if (queued != null && !queued.isEmpty()) {
                Failure f = queued.remove();
                failed = error(f.code(), f.description(), f.retryAfter());
            } else {
                found = files.values().stream()
                        .filter(f -> f.path().equals(wanted) && f.bytes() != null)
                        .findFirst()
                        .orElse(null);
                failed = found == null ? error(404, "Not Found", null) : null;
            }
        }
        if (failed != null) {
            JsonHttpFake.json(exchange, failed.get("error_code").asInt(), failed, Map.of());
        } else {
            JsonHttpFake.bytes(exchange, 200, "application/octet-stream", found.bytes(), Map.of());
        }
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
