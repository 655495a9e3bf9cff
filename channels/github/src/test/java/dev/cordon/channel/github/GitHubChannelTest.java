package dev.cordon.channel.github;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.HookRequest;
import dev.cordon.core.channel.HookResponse;
import dev.cordon.core.channel.InboundSink.InboundResult;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.testkit.FakeGitHub;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The GitHub adapter against {@link FakeGitHub}: its webhook deliveries go over real HTTP to a
 * loopback listener that hands them to the adapter (as the daemon's hook listener does), and its
 * comments go to the fake REST API.
 */
class GitHubChannelTest {
    static final String TOKEN = "ghp_test0123456789abcdefghijklmnopqrstu";
    static final String SECRET = "github-webhook-secret-0123456789";
    static final String REPO = "acme/rocket";

    FakeGitHub github;
    GitHubChannel channel;
    HttpServer listener;
    URI hookUrl;
    final List<NewInbound> stored = Collections.synchronizedList(new ArrayList<>());
    final Set<String> storedIds = Collections.synchronizedSet(new HashSet<>());
    FakeGitHub.User alice;

    @BeforeEach
    void start() throws Exception {
        github = FakeGitHub.start(TOKEN, "cordon-bot");
        github.repo(REPO);
        github.issue(REPO, 7);
        alice = github.user("alice");
        channel = new GitHubChannel(
                new GitHubSettings(github.url(), "cordon-bot", SECRET.getBytes(StandardCharsets.UTF_8), TOKEN),
                Clock.systemUTC(),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(10), Duration.ofMillis(20), new SplittableRandom(1)));
        channel.start(m -> {
            boolean duplicate = !storedIds.add(m.platformChatId() + "/" + m.platformMessageId());
            if (!duplicate) {
                stored.add(m);
            }
            return new InboundResult.Accepted(stored.size(), duplicate);
        });
        listener = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        listener.createContext("/hooks/github", exchange -> {
            try (exchange) {
                Map<String, List<String>> headers = new java.util.HashMap<>(exchange.getRequestHeaders());
                HookResponse r = channel.receive(new HookRequest(
                        exchange.getRequestMethod(),
                        "",
                        headers,
                        Map.of(),
                        exchange.getRequestBody().readAllBytes()));
                byte[] out = r.body().getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(r.status(), out.length);
                exchange.getResponseBody().write(out);
            }
        });
        listener.start();
        hookUrl = URI.create("http://127.0.0.1:" + listener.getAddress().getPort() + "/hooks/github");
    }

    @AfterEach
    void stop() {
        listener.stop(0);
        channel.close();
        github.close();
    }

    HttpResponse<String> deliver(FakeGitHub.Delivery d) {
        return github.deliver(d, hookUrl, SECRET);
    }

    @Test
    void aCommentMentioningTheBotBecomesAMessageOfItsRepositoryWithoutTheMention() {
        HttpResponse<String> r = deliver(github.comment(REPO, 7, alice, "@cordon-bot why does the build fail?"));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        assertThat(stored).singleElement().satisfies(m -> {
            assertThat(m.channel()).isEqualTo("github");
            assertThat(m.platformChatId()).isEqualTo("acme/rocket");
            assertThat(m.platformMessageId()).matches("7/comment-[0-9]+");
            assertThat(m.senderId()).isEqualTo(Long.toString(alice.id()));
            assertThat(m.text()).isEqualTo("why does the build fail?");
            assertThat(m.threadId()).isEqualTo("7");
            assertThat(m.mentioned()).isTrue();
        });
    }

    @Test
    void openedIssuesAndReviewCommentsAreReadTooButOnlyWhenTheyMentionTheBot() {
        deliver(github.opened(REPO, 8, alice, "Crash on start", "@Cordon-Bot please look at the trace"));
        deliver(github.reviewComment(REPO, 9, alice, "is this loop right, @cordon-bot?"));
        HttpResponse<String> quiet = deliver(github.comment(REPO, 7, alice, "thanks @cordon-bottle, and @other"));

        assertThat(quiet.statusCode()).isEqualTo(200);
        assertThat(quiet.body()).contains("does not mention @cordon-bot");
        assertThat(stored)
                .extracting(NewInbound::platformMessageId, NewInbound::text)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(
                                stored.get(0).platformMessageId(), "Crash on start\n\nplease look at the trace"),
                        org.assertj.core.groups.Tuple.tuple(
                                stored.get(1).platformMessageId(), "is this loop right, ?"));
        assertThat(stored.get(0).platformMessageId()).startsWith("8/issue-");
        assertThat(stored.get(1).platformMessageId()).startsWith("9/review-comment-");
    }

    @Test
    void theBotsOwnCommentsAndOtherBotsAreNeverRead() {
        deliver(github.comment(REPO, 7, github.bot(), "@cordon-bot I answer myself"));
        deliver(github.comment(REPO, 7, new FakeGitHub.User(99, "dependabot[bot]", "Bot"), "@cordon-bot bump"));

        assertThat(stored).isEmpty();
    }

    @Test
    void aRedeliveryIsAcknowledgedWithoutASecondMessage() {
        FakeGitHub.Delivery d = github.comment(REPO, 7, alice, "@cordon-bot hi");
        deliver(d);
        HttpResponse<String> again = deliver(d);

        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.body()).contains("duplicate");
        assertThat(stored).hasSize(1);
    }

    @Test
    void aMissingOrWrongSignatureIsRefusedAndNothingIsStored() {
        FakeGitHub.Delivery d = github.comment(REPO, 7, alice, "@cordon-bot hi");
        HttpResponse<String> unsigned = github.send(d, hookUrl, null, d.body());
        HttpResponse<String> forged = github.send(
                d,
                hookUrl,
                "sha256="
                        + dev.cordon.core.channel.HookSignature.hmacSha256Hex(
                                "another-secret-0123456789".getBytes(StandardCharsets.UTF_8),
                                d.body().getBytes(StandardCharsets.UTF_8)),
                d.body());
        HttpResponse<String> tampered = github.send(
                d,
                hookUrl,
                "sha256="
                        + dev.cordon.core.channel.HookSignature.hmacSha256Hex(
                                SECRET.getBytes(StandardCharsets.UTF_8),
                                d.body().getBytes(StandardCharsets.UTF_8)),
                d.body().replace("@cordon-bot hi", "@cordon-bot rm"));

        assertThat(unsigned.statusCode()).isEqualTo(401);
        assertThat(forged.statusCode()).isEqualTo(401);
        assertThat(tampered.statusCode()).isEqualTo(401);
        assertThat(tampered.body()).contains("X-Hub-Signature-256");
        assertThat(stored).isEmpty();
    }

    @Test
    void aPingIsAnsweredAndUnreadEventsAreAcknowledged() {
        HttpResponse<String> ping = deliver(github.ping());

        assertThat(ping.statusCode()).isEqualTo(200);
        assertThat(ping.body()).contains("pong");
    }

    @Test
    void aReplyIsACommentOnTheIssueItAnswers() throws Exception {
        DeliveryResult r = channel.deliver(
                new OutgoingMessage(1, "acme/rocket", 1, "7/comment-123", "The build fails in step 3.", false, "k1"));

        FakeGitHub.Comment c = github.nextComment(Duration.ofSeconds(5));
        assertThat(c.repo()).isEqualTo("acme/rocket");
        assertThat(c.issue()).isEqualTo(7);
        assertThat(c.body()).isEqualTo("The build fails in step 3.");
        assertThat(r).isEqualTo(new DeliveryResult.Delivered(Long.toString(c.id())));
    }

    @Test
    void theAnswerToAPairingCodeFindsItsIssueByItsKey() throws Exception {
        DeliveryResult r = channel.deliver(
                new OutgoingMessage(1, "acme/rocket", 0, null, "Paired", false, "pairing-4-7/comment-555"));

        assertThat(r).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(github.nextComment(Duration.ofSeconds(5)).issue()).isEqualTo(7);
        assertThat(channel.deliver(new OutgoingMessage(2, "acme/rocket", 0, null, "hello", false, "task-1")))
                .isInstanceOfSatisfying(
                        DeliveryResult.Failed.class, f -> assertThat(f.reason()).contains("answers none"));
    }

    @Test
    void rateLimitsAreWaitedOutAsGitHubSays() {
        OutgoingMessage m = new OutgoingMessage(1, "acme/rocket", 1, "7/comment-1", "hi", false, "k");
        github.secondaryLimitNext(61);
        assertThat(channel.deliver(m)).isInstanceOfSatisfying(DeliveryResult.RetryLater.class, r -> {
            assertThat(r.after()).isEqualTo(Duration.ofSeconds(61));
            assertThat(r.reason()).contains("secondary rate limit");
        });

        github.rateLimit(2); // the look for an earlier copy, then the comment
        assertThat(channel.deliver(m)).isInstanceOf(DeliveryResult.Delivered.class);
        // The success said the budget is spent: the next reply waits without calling.
        assertThat(channel.deliver(m)).isInstanceOfSatisfying(DeliveryResult.RetryLater.class, r -> {
            assertThat(r.after()).isBetween(Duration.ofMinutes(55), Duration.ofMinutes(61));
            assertThat(r.reason()).contains("rate limit is spent");
        });
    }

    @Test
    void aSpentBudgetAnsweredWith403IsRetriedAfterTheReset() {
        GitHubChannel fresh = new GitHubChannel(
                new GitHubSettings(github.url(), "cordon-bot", SECRET.getBytes(StandardCharsets.UTF_8), TOKEN),
                Clock.systemUTC(),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(10), Duration.ofMillis(20), new SplittableRandom(1)));
        github.rateLimit(0);

        assertThat(fresh.deliver(new OutgoingMessage(1, "acme/rocket", 1, "7/comment-1", "hi", false, "k")))
                .isInstanceOfSatisfying(DeliveryResult.RetryLater.class, r -> {
                    assertThat(r.after()).isGreaterThan(Duration.ofMinutes(55));
                    assertThat(r.reason()).contains("403", "API rate limit exceeded");
                });
    }

    @Test
    void serverErrorsAndABadTokenAreRetriedNotFoundAndLockedFailForGood() {
        github.failNext(1, 502);
        assertThat(channel.deliver(new OutgoingMessage(1, "acme/rocket", 1, "7/comment-1", "hi", false, "k")))
                .isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(channel.deliver(new OutgoingMessage(1, "acme/gone", 1, "7/comment-1", "hi", false, "k")))
                .isInstanceOfSatisfying(
                        DeliveryResult.Failed.class, f -> assertThat(f.reason()).contains("404", "Not Found"));
        github.lock(REPO, 7);
        assertThat(channel.deliver(new OutgoingMessage(1, "acme/rocket", 1, "7/comment-1", "hi", false, "k")))
                .isInstanceOfSatisfying(
                        DeliveryResult.Failed.class, f -> assertThat(f.reason()).contains("403", "locked"));
        GitHubChannel badToken = new GitHubChannel(
                new GitHubSettings(github.url(), "cordon-bot", SECRET.getBytes(StandardCharsets.UTF_8), "ghp_wrong"),
                Clock.systemUTC(),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(10), Duration.ofMillis(20), new SplittableRandom(1)));
        assertThat(badToken.deliver(new OutgoingMessage(1, "acme/rocket", 1, "8/comment-1", "hi", false, "k")))
                .isInstanceOfSatisfying(
                        DeliveryResult.RetryLater.class,
                        r -> assertThat(r.reason())
                                .contains("401", "Bad credentials")
                                .doesNotContain("ghp_wrong"));
    }

    @Test
    void everyCommentEndsWithAHiddenMarkerOfItsKeyThatReadersDoNotSee() throws Exception {
        channel.deliver(new OutgoingMessage(1, "acme/rocket", 1, "7/comment-123", "Fixed in main.", false, "k-42"));

        FakeGitHub.Comment c = github.nextComment(Duration.ofSeconds(5));
        assertThat(c.body()).isEqualTo("Fixed in main.");
        assertThat(c.raw()).isEqualTo("Fixed in main.\n\n" + RestApi.marker("k-42"));
        assertThat(RestApi.marker("k-42"))
                .matches("<!-- cordon:[0-9a-f]{24} -->")
                .isNotEqualTo(RestApi.marker("k-43"));
        assertThat(RestApi.marker("x --> <script>")).doesNotContain("script");
    }

    @Test
    void aReplyWhoseAnswerWasLostAfterGitHubWroteItIsNotPostedTwice() throws Exception {
        OutgoingMessage m = new OutgoingMessage(1, "acme/rocket", 1, "7/comment-1", "Only once.", false, "k-lost");
        github.writeThenFailNext(502);

        assertThat(channel.deliver(m)).isInstanceOf(DeliveryResult.RetryLater.class);
        DeliveryResult retried = channel.deliver(m);

        assertThat(github.comments()).hasSize(1);
        assertThat(retried)
                .isEqualTo(new DeliveryResult.Delivered(
                        Long.toString(github.comments().getFirst().id())));
        assertThat(channel.deliver(new OutgoingMessage(2, "acme/rocket", 1, "7/comment-1", "Next.", false, "k-next")))
                .isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(github.comments()).extracting(FakeGitHub.Comment::body).containsExactly("Only once.", "Next.");
    }

    @Test
    void aReplyWhoseAnswerWasLostIsNotPostedTwiceByTheAdapterOfTheNextDaemon() throws Exception {
        OutgoingMessage m = new OutgoingMessage(
                1, REPO, 1, "7/comment-1", "Only once.", false, "k-restart", List.of(), null, Instant.now());
        github.writeThenFailNext(502);
        assertThat(channel.deliver(m)).isInstanceOf(DeliveryResult.RetryLater.class);

        // What a restart leaves: a new adapter that knows nothing of the attempt, the same stored reply.
        GitHubChannel next = new GitHubChannel(
                new GitHubSettings(github.url(), "cordon-bot", SECRET.getBytes(StandardCharsets.UTF_8), TOKEN),
                Clock.systemUTC(),
                HttpClient.newHttpClient(),
                new Backoff(Duration.ofMillis(10), Duration.ofMillis(20), new SplittableRandom(2)));
        DeliveryResult retried = next.deliver(m);

        assertThat(github.comments()).extracting(FakeGitHub.Comment::body).containsExactly("Only once.");
        assertThat(retried)
                .isEqualTo(new DeliveryResult.Delivered(
                        Long.toString(github.comments().getFirst().id())));
    }

    @Test
    void aReplyThatReallyFailedIsPostedWhenRetriedAndAFailedLookIsNotPostedBlind() throws Exception {
        OutgoingMessage m = new OutgoingMessage(1, "acme/rocket", 1, "7/comment-1", "Second try.", false, "k-failed");
        github.failNext(1, 503);
        assertThat(channel.deliver(m)).isInstanceOf(DeliveryResult.RetryLater.class);

        github.failNext(1, 503); // the look itself fails: nothing is posted
        assertThat(channel.deliver(m)).isInstanceOf(DeliveryResult.RetryLater.class);
        assertThat(github.comments()).isEmpty();

        assertThat(channel.deliver(m)).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(github.comments()).extracting(FakeGitHub.Comment::body).containsExactly("Second try.");
    }
}
