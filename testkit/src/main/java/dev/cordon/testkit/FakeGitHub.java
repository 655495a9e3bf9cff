package dev.cordon.testkit;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import tools.jackson.databind.node.ObjectNode;

/**
 * A fake GitHub on loopback, both halves of it:
 *
 * <ul>
 *   <li>the REST API's {@code POST /repos/OWNER/REPO/issues/NUMBER/comments}, answering as GitHub
 *       does: 201 with the comment; 401 {@code Bad credentials} for another token; 404 {@code Not
 *       Found} for an unknown repository or issue; 403 for a locked issue; 422 {@code Validation
 *       Failed} for an empty body; every answer with {@code x-ratelimit-limit}, {@code -remaining},
 *       {@code -reset}, {@code -used} and {@code -resource}; a spent budget gets 403 {@code API rate
 *       limit exceeded} with {@code x-ratelimit-remaining: 0}; {@link #secondaryLimitNext} a 403
 *       with {@code retry-after}; {@link #failNext} a 5xx (for a list too); {@link #writeThenFailNext} writes the
 *       comment and still answers a 5xx, as a gateway that timed out after the write does;
 *   <li>{@code GET} of the same path lists the issue's comments ({@code since}, {@code per_page}),
 *       oldest first;
 *   <li>the webhook sender: {@link #comment} and friends build the payload GitHub sends
 *       ({@code issue_comment}, {@code issues}, {@code pull_request_review_comment}) and {@link
 *       #deliver} POSTs it with {@code X-GitHub-Event}, {@code X-GitHub-Delivery} and {@code
 *       X-Hub-Signature-256} (HMAC-SHA256 of the body with the webhook secret, computed here with
 *       the JDK alone), as GitHub's Hookshot does; {@link #deliver} again is a redelivery.
 * </ul>
 *
 * Thread-safe.
 */
public final class FakeGitHub implements AutoCloseable {
    private static final Pattern COMMENTS = Pattern.compile("/repos/([^/]+/[^/]+)/issues/([0-9]+)/comments");

    /** A GitHub account. */
    public record User(long id, String login, String type) {}

    /**
     * A comment the bot made.
     *
     * @param body what a reader sees: the Markdown without its HTML comments (GitHub does not show them)
     * @param raw the body as stored and as the API returns it
     */
    public record Comment(String repo, long issue, long id, String body, String author, String raw) {}

    /** One webhook delivery, ready to be sent (and sent again). */
    public record Delivery(String event, String guid, String body) {}

    private final JsonHttpFake<Comment> http;
    private final String token;
    private final User bot;
    private final Clock clock;
    private final Map<String, Long> repoIds = new HashMap<>();
    private final Map<String, Set<Long>> issues = new HashMap<>();
    private final Set<String> locked = new HashSet<>();
    private final Queue<Integer> failures = new ArrayDeque<>();
    private final Queue<Integer> writeThenFail = new ArrayDeque<>();
    private final HttpClient client = HttpClient.newHttpClient();
    private final Map<Long, Instant> created = new HashMap<>();
    private int limit = 5000;
    private int used;
    private Integer secondaryRetryAfter;
    private long nextId = 1_000_000;
    private long nextUser = 500;

    private FakeGitHub(String token, String botLogin, Clock clock) {
        this.token = token;
        this.clock = clock;
        this.bot = new User(41_898_282, botLogin, "User");
        http = new JsonHttpFake<>(this::handle);
    }

    /**
     * Starts a GitHub whose API accepts {@code token} and whose bot account is {@code botLogin}.
     *
     * @throws UncheckedIOException if no loopback port can be bound
     */
    public static FakeGitHub start(String token, String botLogin) {
        return new FakeGitHub(token, botLogin, Clock.systemUTC());
    }

    /** The REST API's base URL, in place of {@code https://api.github.com}. */
    public URI url() {
        return http.url();
    }

    public User bot() {
        return bot;
    }

    public synchronized User user(String login) {
        return new User(nextUser++, login, "User");
    }

    /** A new repository {@code fullName} ({@code owner/name}). */
    public synchronized void repo(String fullName) {
        repoIds.put(fullName.toLowerCase(java.util.Locale.ROOT), nextId++);
        issues.put(fullName.toLowerCase(java.util.Locale.ROOT), new HashSet<>());
    }

    /** Opens issue (or pull request) {@code number} in {@code repo}. */
    public synchronized void issue(String repo, long number) {
        issues.get(repo.toLowerCase(java.util.Locale.ROOT)).add(number);
    }

    /** Locks the conversation of an issue: nobody but maintainers may comment. */
    public synchronized void lock(String repo, long number) {
        locked.add(repo.toLowerCase(java.util.Locale.ROOT) + "#" + number);
    }

    /** The API's hourly budget: after {@code calls} more calls it answers 403 with remaining 0. */
    public synchronized void rateLimit(int calls) {
        limit = used + calls;
    }

    /** The next comment call gets a secondary rate limit: 403 with {@code retry-after: seconds}. */
    public synchronized void secondaryLimitNext(int seconds) {
        secondaryRetryAfter = seconds;
    }

    /** The next {@code count} comment calls get {@code status} (a 5xx). */
    public synchronized void failNext(int count, int status) {
        for (int i = 0; i < count; i++) {
            failures.add(status);
        }
    }

    /** The next comment call writes the comment, then answers {@code status} (a 5xx) all the same. */
    public synchronized void writeThenFailNext(int status) {
        writeThenFail.add(status);
    }

    private JsonHttpFake.Answer handle(HttpExchange exchange, ObjectNode body) {
        synchronized (this) {
            long reset = clock.instant().getEpochSecond() + 3600;
            Matcher m = COMMENTS.matcher(exchange.getRequestURI().getPath());
            boolean list = exchange.getRequestMethod().equals("GET");
            if (!(list || exchange.getRequestMethod().equals("POST")) || !m.matches()) {
                return message(404, "Not Found");
            }
            if (!("Bearer " + token).equals(exchange.getRequestHeaders().getFirst("Authorization"))
                    && !("token " + token).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                return message(401, "Bad credentials");
            }
            var headers = exchange.getResponseHeaders();
            headers.set("x-ratelimit-limit", Integer.toString(limit));
            headers.set("x-ratelimit-reset", Long.toString(reset));
            headers.set("x-ratelimit-resource", "core");
            if (used >= limit) {
                headers.set("x-ratelimit-remaining", "0");
                headers.set("x-ratelimit-used", Integer.toString(used));
                return message(403, "API rate limit exceeded for user ID " + bot.id() + ".");
            }
            used++;
            headers.set("x-ratelimit-remaining", Integer.toString(limit - used));
            headers.set("x-ratelimit-used", Integer.toString(used));
            if (secondaryRetryAfter != null) {
                headers.set("retry-after", Integer.toString(secondaryRetryAfter));
                secondaryRetryAfter = null;
                return message(
                        403,
                        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.");
            }
            Integer failure = failures.poll();
            if (failure != null) {
                return message(failure, "Server Error");
            }
            if (list) {
                return list(
                        m.group(1),
                        Long.parseLong(m.group(2)),
                        exchange.getRequestURI().getQuery());
            }
            String repo = m.group(1).toLowerCase(java.util.Locale.ROOT);
            long number = Long.parseLong(m.group(2));
            if (!issues.containsKey(repo) || !issues.get(repo).contains(number)) {
                return message(404, "Not Found");
            }
            if (locked.contains(repo + "#" + number)) {
                return message(403, "Unable to create comment because issue is locked.");
            }
            if (body == null
                    || !body.path("body").isString()
                    || body.path("body").asString().isEmpty()) {
                ObjectNode error = JsonHttpFake.JSON.createObjectNode().put("message", "Validation Failed");
                error.putArray("errors")
                        .addObject()
                        .put("resource", "IssueComment")
                        .put("code", "missing_field")
                        .put("field", "body");
                return new JsonHttpFake.Answer(422, error);
            }
            if (body.path("body").asString().length() > 65_536) {
                return message(422, "Validation Failed: body is too long (maximum is 65536 characters)");
            }
            long id = nextId++;
            String raw = body.path("body").asString();
            http.sent(new Comment(
                    repo, number, id, raw.replaceAll("(?s)<!--.*?-->", "").stripTrailing(), bot.login(), raw));
            created.put(id, clock.instant());
            Integer lost = writeThenFail.poll();
            if (lost != null) {
                return message(lost, "Server Error");
            }
            ObjectNode comment = JsonHttpFake.JSON
                    .createObjectNode()
                    .put("id", id)
                    .put("node_id", "IC_kw" + id)
                    .put("url", url() + "/repos/" + repo + "/issues/comments/" + id)
                    .put("html_url", "https://github.com/" + repo + "/issues/" + number + "#issuecomment-" + id)
                    .put("body", body.path("body").asString())
                    .put("created_at", clock.instant().toString());
            comment.set("user", user(bot));
            return new JsonHttpFake.Answer(201, comment);
        }
    }

    private JsonHttpFake.Answer list(String repo, long number, String query) {
        Instant since = Instant.MIN;
        int perPage = 30;
        for (String pair : query == null ? new String[0] : query.split("&")) {
            String[] kv = pair.split("=", 2);
            if (kv.length == 2 && kv[0].equals("since")) {
                since = Instant.parse(java.net.URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
            } else if (kv.length == 2 && kv[0].equals("per_page")) {
                perPage = Math.min(100, Integer.parseInt(kv[1]));
            }
        }
        if (!issues.containsKey(repo.toLowerCase(java.util.Locale.ROOT))
                || !issues.get(repo.toLowerCase(java.util.Locale.ROOT)).contains(number)) {
            return message(404, "Not Found");
        }
        tools.jackson.databind.node.ArrayNode out = JsonHttpFake.JSON.createArrayNode();
        for (Comment c : http.sent()) {
            if (c.repo().equalsIgnoreCase(repo)
                    && c.issue() == number
                    && !created.get(c.id()).isBefore(since)
                    && out.size() < perPage) {
                ObjectNode n = out.addObject()
                        .put("id", c.id())
                        .put("body", c.raw())
                        .put("created_at", created.get(c.id()).toString());
                n.set("user", user(bot));
            }
        }
        return new JsonHttpFake.Answer(200, out);
    }

    private static JsonHttpFake.Answer message(int status, String message) {
        return new JsonHttpFake.Answer(
                status,
                JsonHttpFake.JSON
                        .createObjectNode()
                        .put("message", message)
                        .put("documentation_url", "https://docs.github.com/rest")
                        .put("status", Integer.toString(status)));
    }

    private static ObjectNode user(User u) {
        return JsonHttpFake.JSON
                .createObjectNode()
                .put("login", u.login())
                .put("id", u.id())
                .put("type", u.type());
    }

    private synchronized ObjectNode repository(String repo) {
        String[] parts = repo.split("/", 2);
        ObjectNode r = JsonHttpFake.JSON
                .createObjectNode()
                .put("id", repoIds.get(repo.toLowerCase(java.util.Locale.ROOT)))
                .put("name", parts[1])
                .put("full_name", repo)
                .put("private", false);
        r.putObject("owner").put("login", parts[0]).put("type", "Organization");
        return r;
    }

    private ObjectNode issueNode(String repo, long number, String title, User author, boolean pullRequest) {
        ObjectNode issue = JsonHttpFake.JSON
                .createObjectNode()
                .put("url", url() + "/repos/" + repo + "/issues/" + number)
                .put("id", 2_000_000_000L + number)
                .put("number", number)
                .put("title", title)
                .put("state", "open")
                .put("locked", false);
        issue.set("user", user(author));
        if (pullRequest) {
            issue.putObject("pull_request").put("url", url() + "/repos/" + repo + "/pulls/" + number);
        }
        return issue;
    }

    /** {@code from} comments {@code text} on issue {@code number}: an {@code issue_comment} {@code created} delivery. */
    public Delivery comment(String repo, long number, User from, String text) {
        ObjectNode payload = JsonHttpFake.JSON.createObjectNode().put("action", "created");
        payload.set("issue", issueNode(repo, number, "Issue " + number, from, false));
        payload.set("comment", commentNode(from, text));
        return delivery("issue_comment", payload, repo, from);
    }

    /** {@code from} opens issue {@code number} with {@code title} and {@code text}: an {@code issues} {@code opened} delivery. */
    public Delivery opened(String repo, long number, User from, String title, String text) {
        issue(repo, number);
        ObjectNode payload = JsonHttpFake.JSON.createObjectNode().put("action", "opened");
        ObjectNode issue = issueNode(repo, number, title, from, false);
        issue.put("body", text);
        payload.set("issue", issue);
        return delivery("issues", payload, repo, from);
    }

    /** {@code from} comments on a line of pull request {@code number}: a {@code pull_request_review_comment} delivery. */
    public Delivery reviewComment(String repo, long number, User from, String text) {
        ObjectNode payload = JsonHttpFake.JSON.createObjectNode().put("action", "created");
        ObjectNode comment = commentNode(from, text);
        comment.put("path", "src/Main.java").put("diff_hunk", "@@ -1,3 +1,4 @@").put("line", 3);
        payload.set("comment", comment);
        payload.putObject("pull_request")
                .put("number", number)
                .put("title", "PR " + number)
                .put("state", "open");
        return delivery("pull_request_review_comment", payload, repo, from);
    }

    private synchronized ObjectNode commentNode(User from, String text) {
        long id = nextId++;
        ObjectNode c = JsonHttpFake.JSON
                .createObjectNode()
                .put("id", id)
                .put("node_id", "IC_kw" + id)
                .put("body", text)
                .put("author_association", "MEMBER")
                .put("created_at", clock.instant().toString());
        c.set("user", user(from));
        return c;
    }

    private Delivery delivery(String event, ObjectNode payload, String repo, User sender) {
        payload.set("repository", repository(repo));
        payload.set("sender", user(sender));
        return new Delivery(event, UUID.randomUUID().toString(), JsonHttpFake.JSON.writeValueAsString(payload));
    }

    /** A {@code ping} delivery, as GitHub sends when a webhook is created. */
    public Delivery ping() {
        ObjectNode payload = JsonHttpFake.JSON.createObjectNode().put("zen", "Keep it logically awesome.");
        payload.put("hook_id", 1);
        return new Delivery("ping", UUID.randomUUID().toString(), JsonHttpFake.JSON.writeValueAsString(payload));
    }

    /**
     * POSTs {@code delivery} to {@code hookUrl} signed with {@code secret}, as GitHub's Hookshot
     * does; returns the status and the body of the answer.
     */
    public HttpResponse<String> deliver(Delivery delivery, URI hookUrl, String secret) {
        return send(delivery, hookUrl, "sha256=" + hmac(secret, delivery.body()), delivery.body());
    }

    /** POSTs {@code body} with headers of {@code delivery} but {@code signature} as given (attacks, tests). */
    public HttpResponse<String> send(Delivery delivery, URI hookUrl, String signature, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(hookUrl)
                .header("Content-Type", "application/json")
                .header("User-Agent", "GitHub-Hookshot/4c7ad1f")
                .header("X-GitHub-Event", delivery.event())
                .header("X-GitHub-Delivery", delivery.guid())
                .header("X-GitHub-Hook-ID", "1")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (signature != null) {
            request.header("X-Hub-Signature-256", signature);
        }
        try {
            return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Lower-case hex HMAC-SHA256, computed with the JDK alone (not with the code under test). */
    static String hmac(String secret, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return java.util.HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The next comment the bot made that no test has taken yet, waiting at most {@code wait}. */
    public Comment nextComment(Duration wait) throws InterruptedException {
        return http.nextSent(wait);
    }

    public java.util.List<Comment> comments() {
        return http.sent();
    }

    @Override
    public void close() {
        http.close();
    }
}
