package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.sun.net.httpserver.HttpServer;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.Scripted;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * The dashboard's egress page, the agent page's editors, tasks and usage, and the metrics and log
 * context behind them, against a real daemon, real bubblewrap sandboxes and the fake model: each
 * route for a member (alice), an admin of main (bob), an admin of another agent (carol) and the
 * owner.
 */
class WebPagesTest extends DaemonTestBase {
    WebClient alice;
    WebClient bob;
    WebClient carol;
    WebClient owner;

    @BeforeEach
    void dashboardOn() throws Exception {
        Files.writeString(home.resolve("cordon.yaml"), WebApiTest.HTTP_ON);
    }

    void startWithUsers() throws Exception {
        startDaemon();
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.AgentsCreate("sales", null));
            client.await(ControlEvent.Done.class);
        }
        Path socket = daemon.controlSocket();
        WebClient.grant(socket, "web:alice", "member", "main");
        WebClient.grant(socket, "web:bob", "admin", "main");
        WebClient.grant(socket, "web:carol", "admin", "sales");
        alice = WebClient.token(daemon.webUrl(), socket, "web:alice");
        bob = WebClient.token(daemon.webUrl(), socket, "web:bob");
        carol = WebClient.token(daemon.webUrl(), socket, "web:carol");
        owner = WebClient.token(daemon.webUrl(), socket, null);
    }

    String runBash(String command) throws Exception {
        model.enqueue(Scripted.toolCall("bash", EndToEndTest.json(command)), Scripted.text("done"));
        ask("run it");
        return EndToEndTest.toolResults(model.requests().getLast()).getLast();
    }

    @Test
    void deniedEgressIsListedForAdminsAndAProposedRuleApprovedAlwaysLetsTheRetryThrough() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        HttpServer origin = EgressTest.origin(seen);
        try {
            int port = origin.getAddress().getPort();
            Files.writeString(
                    home.resolve("agents/main/policy.yaml"), "egress:\n  deny:\n    - {host: blocked.example}\n");
            startWithUsers();
            String fetch = "curl -s -m 20 --noproxy '' -x http://127.0.0.1:3128 -w ' status=%{http_code}'"
                    + " http://127.0.0.1:" + port + "/data";

            String out =
                    runBash(fetch + "; curl -s -m 20 -o /dev/null -w ' blocked=%{http_code}' http://blocked.example/");

            assertThat(out).contains("status=403", "blocked=403");
            JsonNode page = bob.json("GET", "/api/v1/agents/main/egress", null);
            JsonNode decisions = page.get("decisions");
            assertThat(decisions).hasSize(2);
            JsonNode blocked = decisions.get(0);
            JsonNode uncovered = decisions.get(1);
            assertThat(blocked.get("host").asString()).isEqualTo("blocked.example");
            assertThat(blocked.get("rule").asString()).isEqualTo("egress.deny[0]");
            assertThat(blocked.get("proposable").asBoolean())
                    .as("a rule refused it")
                    .isFalse();
            assertThat(uncovered.get("host").asString()).isEqualTo("127.0.0.1");
            assertThat(uncovered.get("proposable").asBoolean()).isTrue();
            assertThat(page.get("hosts")).hasSize(2);

            // Only admins of main (and owners) see or propose.
            Map<String, Object> propose = Map.of("seq", uncovered.get("seq").asLong());
            assertThat(alice.status("GET", "/api/v1/agents/main/egress")).isEqualTo(403);
            assertThat(carol.status("GET", "/api/v1/agents/main/egress")).isEqualTo(403);
            assertThat(alice.send("POST", "/api/v1/agents/main/egress/proposals", propose)
                            .statusCode())
                    .isEqualTo(403);
            assertThat(carol.send("POST", "/api/v1/agents/main/egress/proposals", propose)
                            .statusCode())
                    .isEqualTo(403);
            assertThat(audited(AuditActions.WEB_DENIED))
                    .extracting(e -> e.actor().id())
                    .contains("web:alice", "web:carol");
            assertThat(owner.json("GET", "/api/v1/agents/main/egress", null).get("decisions"))
                    .hasSize(2);

            // The proxy already asked about the uncovered host: proposing it is that same question.
            JsonNode asked = bob.json("POST", "/api/v1/agents/main/egress/proposals", propose);
            long first = asked.get("approval").asLong();
            assertThat(owner.json("GET", "/api/v1/approvals/" + first, null)
                            .get("kind")
                            .asString())
                    .isEqualTo("egress.connect");
            bob.json("POST", "/api/v1/approvals/" + first + "/decision", Map.of("decision", "deny"));
            // Denied: the proposal opens a new one, which an owner approves for good.
            HttpResponse<String> opened = bob.send("POST", "/api/v1/agents/main/egress/proposals", propose);
            assertThat(opened.statusCode()).isEqualTo(201);
            long rule = WebJson.MAPPER.readTree(opened.body()).get("approval").asLong();
            assertThat(rule).isNotEqualTo(first);
            assertThat(audited(AuditActions.EGRESS_PROPOSE)).hasSize(2).allSatisfy(e -> {
                assertThat(e.actor().id()).isEqualTo("web:bob");
                assertThat(e.details()).containsEntry("host", "127.0.0.1");
            });
            assertThat(bob.send(
                                    "POST",
                                    "/api/v1/agents/main/egress/proposals",
                                    Map.of("seq", blocked.get("seq").asLong()))
                            .body())
                    .contains("egress.deny[0]", "policy.yaml");
            assertThat(bob.status("POST", "/api/v1/agents/main/egress/proposals"))
                    .isEqualTo(400);
            assertThat(bob.send("POST", "/api/v1/agents/main/egress/proposals", Map.of("seq", 1))
                            .statusCode())
                    .as("not an egress entry")
                    .isEqualTo(404);
            owner.json("POST", "/api/v1/approvals/" + rule + "/decision", Map.of("decision", "always"));

            assertThat(bob.json("GET", "/api/v1/agents/main", null)
                            .get("policyExplain")
                            .asString())
                    .as("an always-grant acts as a rule, so explain lists it")
                    .contains("approval #" + rule, "127.0.0.1:" + port);
            assertThat(bob.json("GET", "/api/v1/agents/main/egress", null).get("grants"))
                    .singleElement()
                    .satisfies(g -> assertThat(g.get("approval").asLong()).isEqualTo(rule));
            assertThat(runBash(fetch)).contains("hello from the host", "status=200");
            assertThat(seen).containsExactly("GET /data");
        } finally {
            origin.stop(0);
        }
    }

    @Test
    void membersReadInstructionsAndMemoryAdminsReplaceThemAndAMemorySymlinkIsReplacedNotFollowed() throws Exception {
        Path canary = home.resolve("canary.txt");
        Files.writeString(canary, "host secret\n");
        startWithUsers();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        root.addAppender(logs);
        try {
            // The agent, inside its sandbox, points its memory file at a host file.
            runBash("ln -s " + canary.toAbsolutePath() + " /workspace/MEMORY.md && echo linked");
        } finally {
            root.detachAppender(logs);
        }
        assertThat(logs.list)
                .as("a session's log lines carry its ids (the JSON log's mdc)")
                .anySatisfy(e -> {
                    assertThat(e.getFormattedMessage()).startsWith("turn s");
                    assertThat(e.getMDCPropertyMap())
                            .containsEntry("agent", "main")
                            .containsKey("session");
                });
        Path memory = home.resolve("agents/main/workspace/MEMORY.md");
        assertThat(Files.isSymbolicLink(memory)).isTrue();

        JsonNode asMember = alice.json("GET", "/api/v1/agents/main", null);
        assertThat(asMember.get("instructions").asString()).isNotBlank();
        assertThat(asMember.get("memory").isNull())
                .as("never read through the agent's symlink")
                .isTrue();
        assertThat(asMember.get("editable").get("memory").asBoolean()).isFalse();
        assertThat(alice.send("PUT", "/api/v1/agents/main/instructions", Map.of("text", "x"))
                        .statusCode())
                .isEqualTo(403);
        assertThat(carol.send("PUT", "/api/v1/agents/main/memory", Map.of("text", "x"))
                        .statusCode())
                .isEqualTo(403);
        assertThat(bob.json("GET", "/api/v1/agents/main", null)
                        .get("editable")
                        .get("memory")
                        .asBoolean())
                .isTrue();

        bob.json("PUT", "/api/v1/agents/main/memory", Map.of("text", "Remember: tea, no sugar.\n"));
        bob.json("PUT", "/api/v1/agents/main/instructions", Map.of("text", "# main\n\nAnswer in one line.\n"));

        assertThat(canary).as("the host file behind the link is untouched").hasContent("host secret");
        assertThat(Files.isRegularFile(memory, LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(memory).hasContent("Remember: tea, no sugar.");
        assertThat(Files.getOwner(memory, LinkOption.NOFOLLOW_LINKS)).isEqualTo(Files.getOwner(memory.getParent()));
        assertThat(home.resolve("agents/main/AGENTS.md")).hasContent("# main\n\nAnswer in one line.");
        assertThat(audited(AuditActions.AGENT_EDIT))
                .hasSize(2)
                .allSatisfy(e -> {
                    assertThat(e.actor().id()).isEqualTo("web:bob");
                    assertThat(e.details().toString()).doesNotContain("tea").doesNotContain("one line");
                })
                .extracting(e -> e.details().get("file"))
                .containsExactly("workspace/MEMORY.md", "AGENTS.md");
        HttpResponse<String> tooLong =
                bob.send("PUT", "/api/v1/agents/main/memory", Map.of("text", "x".repeat(WebAgentFiles.MAX_BYTES + 1)));
        assertThat(tooLong.statusCode()).isEqualTo(413);
        assertThat(tooLong.body()).contains("MEMORY.md", "at most 65536 bytes", "65537");
        assertThat(bob.status("PUT", "/api/v1/agents/main/memory"))
                .as("no text")
                .isEqualTo(400);

        // The agent sees both edits in its next turn's prompt.
        Files.writeString(home.resolve("agents/main/policy.yaml"), "budget:\n  daily_usd: 5\n");
        model.enqueue(Scripted.text("ok"));
        ask("hello");
        assertThat(model.requests().getLast().body().toString()).contains("tea, no sugar", "Answer in one line.");

        // Usage and metrics of those turns, for whom they are meant.
        assertThat(bob.json("GET", "/api/v1/usage?agent=main", null).get("usage"))
                .isNotEmpty()
                .allSatisfy(
                        row -> assertThat(row.get("dailyBudgetUsd").asDouble()).isEqualTo(5.0));
        assertThat(bob.status("GET", "/api/v1/usage?agent=sales")).isEqualTo(403);
        assertThat(owner.send("GET", "/metrics", null).body())
                .containsPattern("cordon_sandbox_start_seconds_count\\{agent=\"main\"\\} 1(\\.0)?\\n")
                .containsPattern("cordon_sandbox_start_seconds_bucket\\{agent=\"main\",le=\"\\+Inf\"\\} 1")
                .containsPattern("cordon_turn_duration_seconds_count\\{agent=\"main\"\\} [23]");
    }

    @Test
    void anOwnersSymlinkedInstructionsFileIsShownAsTheAgentReadsItAndLeftAlone() throws Exception {
        startWithUsers();
        Path shared = home.resolve("shared-instructions.md");
        Files.writeString(shared, "# Shared rules\n");
        Path instructions = home.resolve("agents/sales/AGENTS.md");
        Files.delete(instructions);
        Files.createSymbolicLink(instructions, shared);

        JsonNode sales = carol.json("GET", "/api/v1/agents/sales", null);
        assertThat(sales.get("instructions").asString()).isEqualTo("# Shared rules\n");
        assertThat(sales.get("editable").get("instructions").asBoolean()).isFalse();
        HttpResponse<String> refused = carol.send("PUT", "/api/v1/agents/sales/instructions", Map.of("text", "x"));
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(refused.body()).contains("edit it on the host");
        assertThat(Files.isSymbolicLink(instructions)).isTrue();
        assertThat(shared).hasContent("# Shared rules");
        assertThat(audited(AuditActions.AGENT_EDIT)).isEmpty();
    }

    @Test
    void theAuditAndEgressPagesShowTheNewestEntriesOfALongLog() throws Exception {
        startWithUsers();
        List<AuditEvent> events = new java.util.ArrayList<>();
        for (int i = 0; i < 2_500; i++) {
            events.add(AuditEvent.of(
                            java.time.Instant.now(),
                            AuditEvent.Actor.agent(new dev.cordon.core.AgentName("main")),
                            i % 2 == 0 ? AuditActions.EGRESS_DENY : AuditActions.MODEL_CALL,
                            i % 2 == 0 ? AuditEvent.Decision.DENY : AuditEvent.Decision.INFO)
                    .withAgent(new dev.cordon.core.AgentName("main"))
                    .withDetails(Map.of("host", "h" + i + ".example", "port", 443)));
        }
        long last = daemon.audit().appendAll(events).getLast().seq();

        JsonNode log = owner.json("GET", "/api/v1/audit?limit=3", null);
        assertThat(log.get("entries").valueStream().map(e -> e.get("seq").asLong()))
                .containsExactly(last, last - 1, last - 2);
        assertThat(log.get("next").asLong()).isEqualTo(last);
        assertThat(bob.json("GET", "/api/v1/audit?agent=main&action=egress.&limit=2", null)
                        .get("entries")
                        .valueStream()
                        .map(e -> e.get("seq").asLong()))
                .containsExactly(last - 1, last - 3);
        assertThat(owner.json("GET", "/api/v1/audit?after=" + (last - 2), null).get("entries"))
                .hasSize(2);
        JsonNode egress = bob.json("GET", "/api/v1/agents/main/egress?limit=2", null);
        assertThat(egress.get("decisions").valueStream().map(d -> d.get("host").asString()))
                .containsExactly("h2498.example", "h2496.example");
        assertThat(egress.get("hosts")).hasSize(2);
    }

    @Test
    void adminsListPauseAndResumeTheirAgentsTasksAndEachChangeIsAudited() throws Exception {
        startWithUsers();
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(
                    new ControlRequest.TasksCreate("main", "every", "1h", null, "Check the backup.", null, null, null));
            client.await(ControlEvent.TaskDetail.class);
        }
        JsonNode tasks = bob.json("GET", "/api/v1/agents/main/tasks", null).get("tasks");
        assertThat(tasks)
                .singleElement()
                .satisfies(t -> assertThat(t.get("paused").asBoolean()).isFalse());
        long id = tasks.get(0).get("id").asLong();
        assertThat(alice.status("GET", "/api/v1/agents/main/tasks")).isEqualTo(403);
        assertThat(carol.status("GET", "/api/v1/agents/main/tasks")).isEqualTo(403);
        assertThat(alice.status("POST", "/api/v1/tasks/" + id + "/pause")).isEqualTo(403);
        assertThat(carol.status("POST", "/api/v1/tasks/" + id + "/pause")).isEqualTo(403);

        assertThat(bob.json("POST", "/api/v1/tasks/" + id + "/pause", Map.of())
                        .get("task")
                        .get("paused")
                        .asBoolean())
                .isTrue();
        HttpResponse<String> again = bob.send("POST", "/api/v1/tasks/" + id + "/pause", Map.of());
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(again.body()).contains("is paused");
        assertThat(owner.json("POST", "/api/v1/tasks/" + id + "/resume", Map.of())
                        .get("task")
                        .get("paused")
                        .asBoolean())
                .isFalse();
        assertThat(bob.status("POST", "/api/v1/tasks/999/pause")).isEqualTo(404);
        assertThat(audited(AuditActions.TASK_PAUSE))
                .singleElement()
                .satisfies(e -> assertThat(e.actor().id()).isEqualTo("web:bob"));
        assertThat(audited(AuditActions.TASK_RESUME))
                .extracting(e -> e.actor().id())
                .containsExactly("web:owner");
        assertThat(audited(AuditActions.WEB_DENIED))
                .extracting(AuditEvent::action)
                .hasSize(2);
    }
}
