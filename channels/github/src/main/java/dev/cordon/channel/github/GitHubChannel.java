package dev.cordon.channel.github;

import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.Capabilities;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HookChannel;
import dev.cordon.core.channel.HookRequest;
import dev.cordon.core.channel.HookResponse;
import dev.cordon.core.channel.HookSignature;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.InboundSink.InboundResult;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.core.channel.RecentIds;
import java.net.http.HttpClient;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The GitHub adapter: a repository webhook (or a GitHub App's) calls {@code POST /hooks/github}
 * with issue, pull request and review comment events; a comment that mentions the bot's login
 * becomes a message in chat {@code github:OWNER/REPO}, and the agent's reply is a comment on the
 * same issue or pull request ({@link RestApi}).
 *
 * <p>A delivery is taken only if {@code X-Hub-Signature-256} is the HMAC-SHA256 of the body with
 * the webhook secret (constant-time comparison). GitHub signs no timestamp, so there is no replay
 * window: a replayed delivery carries a comment the host already stored, which its dedup (chat and
 * message id, for good) answers without a second message, and the {@code X-GitHub-Delivery} ids of
 * recent deliveries are remembered so that a redelivery of one that was ignored is answered at once.
 *
 * <p>Durable before acknowledged (invariant 6): the 2xx is sent only after the sink decided.
 * Thread-safe.
 */
final class GitHubChannel implements HookChannel {
    private static final Logger LOG = LoggerFactory.getLogger(GitHubChannel.class);
    /** GitHub's limit for a comment's body, in characters. */
    static final int MAX_COMMENT = 65_536;

    private static final int REMEMBERED_DELIVERIES = 10_000;

    private final GitHubSettings settings;
    private final RestApi api;
    /** {@code X-GitHub-Delivery} ids already answered; bounded. */
    private final RecentIds<String> deliveries = new RecentIds<>(REMEMBERED_DELIVERIES);

    private volatile InboundSink sink;

    GitHubChannel(GitHubSettings settings, Clock clock, HttpClient http, Backoff backoff) {
        this.settings = settings;
        this.api = new RestApi(settings, http, clock, backoff);
    }

    @Override
    public String name() {
        return GitHub.NAME;
    }

    /** No "queued" notices: a "queued" issue comment would stay on the issue for good. */
    @Override
    public boolean takesNotices() {
        return false;
    }

    /** Plain text (GitHub renders it as Markdown) of at most 65,536 characters a comment, less the marker. */
    @Override
    public Capabilities capabilities() {
        return Capabilities.text(MAX_COMMENT - RestApi.MARKER_ROOM);
    }

    @Override
    public void start(InboundSink sink) {
        this.sink = sink;
    }

    @Override
    public HookResponse receive(HookRequest request) {
        if (!request.method().equals("POST") || !request.path().isEmpty()) {
            return HookResponse.error(405, "GitHub webhooks are POSTed to /hooks/github");
        }
        byte[] body = request.body();
        if (!HookSignature.verifies(
                request.header("X-Hub-Signature-256").orElse(null), settings.webhookSecret(), body)) {
            LOG.warn("GitHub: a delivery with a missing or wrong X-Hub-Signature-256 was refused");
            return HookResponse.error(
                    401,
                    "X-Hub-Signature-256 is missing or does not match: set the webhook's"
                            + " secret to the value of channels.github.webhook_secret");
        }
        String delivery = request.header("X-GitHub-Delivery").orElse("");
        String event = request.header("X-GitHub-Event").orElse("");
        if (delivery.isBlank() || event.isBlank()) {
            return HookResponse.error(400, "X-GitHub-Delivery and X-GitHub-Event are required");
        }
        if (deliveries.contains(delivery)) {
            return HookResponse.json(200, "duplicate", delivery);
        }
        if (event.equals("ping")) {
            remember(delivery);
            return HookResponse.json(200, "pong", "webhook for @" + settings.login() + " is set up");
        }
        JsonNode payload;
        try {
            payload = RestApi.JSON.readTree(body);
        } catch (JacksonException e) {
            payload = null;
        }
        if (payload == null || !payload.isObject()) {
            return HookResponse.error(
                    400, "the body is not a JSON object: set the webhook's content type to application/json");
        }
        HookResponse answer = switch (GitHubEvent.read(event, payload, settings.login())) {
            case GitHubEvent.Read.Ignored i -> HookResponse.json(200, "ignored", i.why());
            case GitHubEvent.Read.Message m -> store(m);
        };
        if (answer.status() / 100 == 2) {
            remember(delivery);
        }
        return answer;
    }

    private HookResponse store(GitHubEvent.Read.Message m) {
        InboundSink s = sink;
        if (s == null) {
            return HookResponse.error(503, "the daemon is starting: redeliver shortly");
        }
        InboundResult result;
        try {
            result = s.accept(m.message());
        } catch (RuntimeException e) {
            LOG.error(
                    "GitHub: {} {} could not be stored",
                    m.message().platformChatId(),
                    m.message().platformMessageId(),
                    e);
            return HookResponse.error(503, "the event could not be stored: redeliver it later");
        }
        return switch (result) {
            case InboundResult.Accepted a -> HookResponse.json(202, "inbound", a.inboundId());
            case InboundResult.Held h -> HookResponse.json(202, "held", h.reason());
            case InboundResult.Answered a -> HookResponse.json(200, "answer", a.reply());
            // Acknowledged: GitHub would only redeliver it, and the reason is in the audit log.
            case InboundResult.Dropped d -> HookResponse.json(200, "dropped", d.reason());
        };
    }

    private void remember(String delivery) {
        deliveries.add(delivery);
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        Optional<Long> issue = GitHubEvent.issueOf(message.replyToPlatformMessageId())
                .or(() -> GitHubEvent.issueOf(message.idempotencyKey()));
        if (issue.isEmpty()) {
            return new DeliveryResult.Failed("a GitHub reply goes on the issue it answers, and this one answers none"
                    + " (a message the agent started itself has no issue to go on)");
        }
        return api.comment(
                message.platformChatId(), issue.get(), message.text(), message.idempotencyKey(), message.storedAt());
    }

    @Override
    public void close() {
        sink = null;
    }
}
