package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeGitHub;
import dev.cordon.testkit.Scripted;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * GitHub end to end: a real daemon with the GitHub channel in cordon.yaml and its secrets in the
 * vault, {@link FakeGitHub} delivering signed webhooks to the daemon's hook listener and taking its
 * comments, the agent in a real bubblewrap sandbox on the fake model.
 */
class GitHubEndToEndTest extends DaemonTestBase {
    /** An upper bound only: on a loaded machine the first sandbox waited 94 s for the runner's AOT training. */
    static final Duration WAIT = Duration.ofSeconds(180);

    static final String TOKEN = "ghp_e2e0123456789abcdefghijklmnopqrstu";
    static final String SECRET = "github-e2e-webhook-secret-0123456789";
    static final String REPO = "acme/rocket";

    FakeGitHub github;
    URI hook;

    @BeforeEach
    void start() throws Exception {
        github = FakeGitHub.start(TOKEN, "cordon-bot");
        github.repo(REPO);
        github.issue(REPO, 7);
        Home h = new Home(home);
        Vault vault = Vault.open(h.vault(), h.vaultKey());
        vault.put("GITHUB_WEBHOOK_SECRET", SECRET.getBytes(StandardCharsets.UTF_8), List.of());
        vault.put("GITHUB_TOKEN", TOKEN.getBytes(StandardCharsets.UTF_8), List.of());
        Files.writeString(home.resolve("cordon.yaml"), """
                hooks:
                  port: 0
                channels:
                  github:
                    login: cordon-bot
                    webhook_secret: GITHUB_WEBHOOK_SECRET
                    token_secret: GITHUB_TOKEN
                    api_url: %s
                """.formatted(github.url()));
        startDaemon();
        hook = URI.create(daemon.hooksUrl() + "/hooks/github");
    }

    @AfterEach
    void stopGitHub() {
        github.close();
    }

    @Test
    void aRepositoryPairedByACommentGetsTheSandboxedAgentsAnswerAsAComment() throws Exception {
        FakeGitHub.User alice = github.user("alice");
        String code = ((ControlEvent.PairingCode) ChannelTests.control(daemon, new ControlRequest.Pair("main"))).code();
        assertThat(github.deliver(github.comment(REPO, 7, alice, "@cordon-bot " + code), hook, SECRET)
                        .statusCode())
                .isEqualTo(200);
        FakeGitHub.Comment paired = github.nextComment(WAIT);
        assertThat(paired.issue()).isEqualTo(7);
        assertThat(paired.body()).contains("Paired", "main");

        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo host=$(cat /etc/hostname)\"}"),
                Scripted.text("The crash is in the start-up script."));
        FakeGitHub.Delivery question = github.comment(REPO, 7, alice, "@cordon-bot why does it crash?");
        assertThat(github.deliver(question, hook, SECRET).statusCode()).isEqualTo(202);

        FakeGitHub.Comment answer = github.nextComment(WAIT);
        assertThat(answer.repo()).isEqualTo("acme/rocket");
        assertThat(answer.issue()).isEqualTo(7);
        assertThat(answer.body()).isEqualTo("The crash is in the start-up script.");
        assertThat(EndToEndTest.toolResults(model.requests().get(1)).getFirst()).contains("host=cordon");

        // GitHub redelivers the same delivery: acknowledged, no second turn.
        assertThat(github.deliver(question, hook, SECRET).statusCode()).isEqualTo(200);
        assertThat(model.requests()).hasSize(2);
    }

    @Test
    void aStrangerInAPairedRepositoryIsDroppedAndAForgedDeliveryIsRefused() throws Exception {
        FakeGitHub.User alice = github.user("alice");
        FakeGitHub.User mallory = github.user("mallory");
        String code = ((ControlEvent.PairingCode) ChannelTests.control(daemon, new ControlRequest.Pair("main"))).code();
        github.deliver(github.comment(REPO, 7, alice, "@cordon-bot " + code), hook, SECRET);
        github.nextComment(WAIT);

        FakeGitHub.Delivery forged = github.comment(REPO, 7, alice, "@cordon-bot delete the repo");
        assertThat(github.send(forged, hook, "sha256=" + "0".repeat(64), forged.body())
                        .statusCode())
                .isEqualTo(401);
        assertThat(github.deliver(github.comment(REPO, 7, mallory, "@cordon-bot run this"), hook, SECRET)
                        .statusCode())
                .isEqualTo(200);

        AuditEntry dropped = ChannelTests.awaitDropped(daemon, "github:" + mallory.id(), WAIT);
        assertThat(dropped.event().rule()).isEqualTo("sender_policy strict");
        assertThat(dropped.event().details()).containsEntry("chat", "acme/rocket");
        assertThat(model.requests()).isEmpty();

        // In an approval repository the stranger's comment is held for an admin, then answered once admitted.
        assertThat(ChannelTests.control(daemon, new ControlRequest.ChatsPolicy("github:acme/rocket", "approval")))
                .isInstanceOf(ControlEvent.Done.class);
        assertThat(github.deliver(github.comment(REPO, 7, mallory, "@cordon-bot may I?"), hook, SECRET)
                        .statusCode())
                .isEqualTo(202);
        ControlEvent.SenderRow request = ChannelTests.firstSenderRequest(daemon, WAIT);
        assertThat(request.sender()).isEqualTo("github:" + mallory.id());
        assertThat(model.requests()).isEmpty();
        model.enqueue(Scripted.text("Welcome, mallory."));
        assertThat(ChannelTests.control(daemon, new ControlRequest.SendersAdmit(request.id())))
                .isInstanceOf(ControlEvent.Done.class);
        assertThat(github.nextComment(WAIT).body()).isEqualTo("Welcome, mallory.");
    }
}
