package dev.cordon.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.ModelSettings;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.RunnerMessage.ApprovalRequest;
import dev.cordon.protocol.RunnerMessage.TranscriptAppend;
import dev.cordon.protocol.RunnerMessage.TurnEnded;
import dev.cordon.protocol.ToolRules;
import dev.cordon.protocol.ToolRules.Action;
import dev.cordon.runner.SentResults.SentResult;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.Scripted;
import dev.cordon.testkit.Scripted.ToolCall;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tool rules as the runner applies them, with the host faked at the frame level: {@link Main#serve}
 * on one end of a real Unix socket, a {@link TestHost} on the other that sends the rules in {@code
 * start_turn} and answers {@code approval_request}s itself. Tools run for real in a temporary
 * workspace; the fake model server plays the model.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES) // a hang guard, not a performance assertion
class ToolRulesTurnTest {
    @TempDir
    Path socketDir;

    @TempDir
    Path workspace;

    private FakeModelServer fake;
    private TestHost host;
    private HostConnection connection;

    @BeforeEach
    void start() throws Exception {
        fake = FakeModelServer.start().requireApiKey(TestHost.KEY);
        host = TestHost.start(socketDir, fake);
        connection = HostConnection.over(host.runnerEnd());
        Thread.ofVirtual().name("runner-serve").start(() -> {
            try {
                Main.serve(connection, workspace, List.of());
            } catch (IOException e) {
                // the test closed the connection
            }
        });
        assertThat(host.next()).isEqualTo(new RunnerMessage.Ready(Main.VERSION));
    }

    @AfterEach
    void stop() throws IOException {
        host.close();
        connection.close();
        fake.close();
    }

    @Test
    void aDeniedBashCommandNeverRunsAndItsResultNamesTheRule() throws Exception {
        fake.enqueue(Scripted.toolCall("bash", "{\"command\":\"touch pwned && rm -rf build\"}"), Scripted.text("ok"));
        ToolRules rules =
                rules("bash", new ToolRules.Tool(null, List.of(), List.of(), List.of("rm -rf *", "*rm -rf*")));

        host.send(turn("t1", rules));
        List<RunnerMessage> before = new ArrayList<>();
        TurnEnded ended = host.next(TurnEnded.class, before);

        assertThat(ended.error()).isNull();
        assertThat(workspace.resolve("pwned")).doesNotExist();
        Part.ToolResult result = toolResult(before);
        assertThat(result.isError()).isTrue();
        assertThat(result.content())
                .contains("tools.bash.deny[1] \"*rm -rf*\"")
                .contains("policy.yaml")
                .contains("did not run");
        SentResult sent =
                SentResults.of(fake.requests().get(1), ModelApi.ANTHROPIC).getFirst();
        assertThat(sent.content()).isEqualTo(result.content());
        assertThat(before).noneMatch(m -> m instanceof ApprovalRequest);
    }

    @Test
    void anAskRuleWaitsForTheHostAndAGrantRunsTheCallWithTheFullPayloadShown() throws Exception {
        String command = "echo approved > granted.txt\necho second line";
        fake.enqueue(
                Scripted.toolCall("bash", "{\"command\":" + json(command) + ",\"timeout_ms\":5000}"),
                Scripted.text("done"));
        host.send(turn("t2", rules("bash", new ToolRules.Tool(Action.ASK, List.of(), List.of(), List.of()))));

        ApprovalRequest request = host.next(ApprovalRequest.class, new ArrayList<>());
        assertThat(workspace.resolve("granted.txt")).doesNotExist();
        assertThat(request.turnId()).isEqualTo("t2");
        assertThat(request.kind()).isEqualTo("tool.bash");
        assertThat(request.summary())
                .doesNotContain("\n")
                .startsWith("bash: echo approved > granted.txt echo second line")
                .endsWith("(tools.bash.default)");
        assertThat(request.payload()).isEqualTo(Map.of("command", command, "timeout_ms", "5000"));
        host.send(new HostMessage.ApprovalDecision(request.requestId(), true, "approved by alice"));
        List<RunnerMessage> before = new ArrayList<>();
        TurnEnded ended = host.next(TurnEnded.class, before);

        assertThat(ended.reply()).isEqualTo("done");
        assertThat(Files.readString(workspace.resolve("granted.txt"))).isEqualTo("approved\n");
        assertThat(toolResult(before).isError()).isFalse();
    }

    @Test
    void aDeniedApprovalGivesAnErrorResultCarryingTheReasonAndTheToolDoesNotRun() throws Exception {
        fake.enqueue(
                Scripted.toolCall("write", "{\"path\":\"../outside/secrets.txt\",\"content\":\"x\"}"),
                Scripted.text("understood"));
        host.send(turn("t3", rules("write", new ToolRules.Tool(null, List.of(), List.of("/outside/**"), List.of()))));

        ApprovalRequest request = host.next(ApprovalRequest.class, new ArrayList<>());
        assertThat(request.kind()).isEqualTo("tool.write");
        assertThat(request.summary()).contains("tools.write.ask[0] \"/outside/**\"");
        host.send(new HostMessage.ApprovalDecision(request.requestId(), false, "denied by bob: not today"));
        List<RunnerMessage> before = new ArrayList<>();
        host.next(TurnEnded.class, before);

        assertThat(workspace.resolveSibling("outside")).doesNotExist();
        Part.ToolResult result = toolResult(before);
        assertThat(result.isError()).isTrue();
        assertThat(result.content()).contains("denied by bob: not today").contains("did not run");
    }

    @Test
    void parallelAskCallsEachGetTheirOwnAnswer() throws Exception {
        fake.enqueue(
                Scripted.toolCalls(
                        ToolCall.of("write", "{\"path\":\"a.txt\",\"content\":\"A\"}"),
                        ToolCall.of("write", "{\"path\":\"b.txt\",\"content\":\"B\"}")),
                Scripted.text("both asked"));
        host.send(turn("t4", rules(ToolRules.ANY, new ToolRules.Tool(Action.ASK, null, null, null))));

        ApprovalRequest first = host.next(ApprovalRequest.class, new ArrayList<>());
        ApprovalRequest second = host.next(ApprovalRequest.class, new ArrayList<>());
        ApprovalRequest forB = first.payload().get("path").equals("b.txt") ? first : second;
        ApprovalRequest forA = forB == first ? second : first;
        // Answered in the opposite order, and an answer nobody waits for is ignored.
        host.send(new HostMessage.ApprovalDecision("no-such-request", true, "stray"));
        host.send(new HostMessage.ApprovalDecision(forB.requestId(), true, "yes"));
        host.send(new HostMessage.ApprovalDecision(forA.requestId(), false, "no"));
        host.next(TurnEnded.class, new ArrayList<>());

        assertThat(workspace.resolve("a.txt")).doesNotExist();
        assertThat(Files.readString(workspace.resolve("b.txt"))).isEqualTo("B");
    }

    @Test
    void pathRulesMatchWhereAFileToolReallyGoesWithTheWorkspaceSeenAsSlashWorkspace() throws Exception {
        Files.writeString(workspace.resolve("secret.pem"), "KEY");
        fake.enqueue(
                Scripted.toolCalls(
                        ToolCall.of("glob", "{\"pattern\":\"/etc/*\"}"),
                        ToolCall.of("grep", "{\"pattern\":\"root\",\"path\":\"../../etc\"}"),
                        ToolCall.of(
                                "read",
                                "{\"path\":"
                                        + json(workspace.resolve("secret.pem").toString()) + "}"),
                        ToolCall.of("read", "{\"path\":\"notes/../secret.pem\"}"),
                        ToolCall.of("glob", "{\"pattern\":\"*.pem\"}")),
                Scripted.text("done"));
        ToolRules rules = new ToolRules(Map.of(
                "glob", new ToolRules.Tool(null, null, null, List.of("/etc/**")),
                "grep", new ToolRules.Tool(null, null, null, List.of("/etc/**")),
                "read", new ToolRules.Tool(null, null, null, List.of("**/*.pem"))));

        host.send(turn("t6", rules));
        List<RunnerMessage> before = new ArrayList<>();
        host.next(TurnEnded.class, before);

        List<Part.ToolResult> results = before.stream()
                .filter(m -> m instanceof TranscriptAppend)
                .flatMap(m -> ((TranscriptAppend) m).message().parts().stream())
                .filter(p -> p instanceof Part.ToolResult)
                .map(p -> (Part.ToolResult) p)
                .toList();
        assertThat(results).hasSize(5);
        assertThat(results.get(0).content()).contains("tools.glob.deny[0] \"/etc/**\"");
        assertThat(results.get(1).content()).contains("tools.grep.deny[0] \"/etc/**\"");
        assertThat(results.get(2).content())
                .contains("tools.read.deny[0] \"**/*.pem\"")
                .doesNotContain("KEY");
        assertThat(results.get(3).content()).contains("tools.read.deny[0]");
        assertThat(results.get(4).isError()).isFalse();
        assertThat(results.get(4).content()).contains("secret.pem");
    }

    @Test
    void withoutRulesEveryToolRunsAsBefore() throws Exception {
        fake.enqueue(Scripted.toolCall("bash", "{\"command\":\"rm -rf nothing && touch ran\"}"), Scripted.text("ok"));

        host.send(turn("t5", null));
        List<RunnerMessage> before = new ArrayList<>();
        host.next(TurnEnded.class, before);

        assertThat(workspace.resolve("ran")).exists();
        assertThat(before).noneMatch(m -> m instanceof ApprovalRequest);
    }

    private static ToolRules rules(String tool, ToolRules.Tool rules) {
        return new ToolRules(Map.of(tool, rules));
    }

    private static HostMessage.StartTurn turn(String turnId, ToolRules rules) {
        return new HostMessage.StartTurn(
                turnId,
                "You are a test agent.",
                new ModelSettings(ModelApi.ANTHROPIC, "test-model", 1024),
                List.of(ChatMessage.user("go")),
                rules);
    }

    private static Part.ToolResult toolResult(List<RunnerMessage> messages) {
        return messages.stream()
                .filter(m -> m instanceof TranscriptAppend)
                .flatMap(m -> ((TranscriptAppend) m).message().parts().stream())
                .filter(p -> p instanceof Part.ToolResult)
                .map(p -> (Part.ToolResult) p)
                .findFirst()
                .orElseThrow();
    }

    private static String json(String text) {
        return dev.cordon.protocol.Wire.mapper().writeValueAsString(text);
    }
}
