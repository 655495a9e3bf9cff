package dev.cordon.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.HostMessage.StartTurn;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.ModelSettings;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Role;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.RunnerMessage.TextDelta;
import dev.cordon.protocol.RunnerMessage.TranscriptAppend;
import dev.cordon.protocol.RunnerMessage.TurnEnded;
import dev.cordon.runner.SentResults.SentResult;
import dev.cordon.runner.mcp.McpHub;
import dev.cordon.runner.model.HttpTransports;
import dev.cordon.runner.model.ModelClients;
import dev.cordon.runner.model.RetryPolicy;
import dev.cordon.runner.tools.Skills;
import dev.cordon.runner.tools.ToolConfig;
import dev.cordon.runner.tools.Tools;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import dev.cordon.testkit.Scripted.ToolCall;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * One agent turn with the real model clients over HTTP to the fake model server and the real
 * built-in tools in a temporary workspace; what the loop reports to the host is collected in order.
 */
class AgentLoopTest {
    @TempDir
    Path workspace;

    private FakeModelServer fake;
    private final List<Duration> sleeps = new CopyOnWriteArrayList<>();
    private final List<RunnerMessage> sent = new CopyOnWriteArrayList<>();
    private AgentLoop loop;

    @BeforeEach
    void start() {
        fake = FakeModelServer.start();
        RetryPolicy instantRetries = RetryPolicy.defaults().withSleeper(sleeps::add);
        loop = new AgentLoop(
                Map.of(
                        ModelApi.ANTHROPIC,
                        ModelClients.anthropic(HttpTransports.jdk(fake.baseUrl(), Map.of()), instantRetries),
                        ModelApi.OPENAI,
                        ModelClients.openai(HttpTransports.jdk(fake.openAiBaseUrl(), Map.of()), instantRetries)),
                Tools.builtins(ToolConfig.defaults(workspace)),
                sent::add,
                request -> {
                    throw new AssertionError("no approval expected: " + request);
                },
                workspace,
                Skills.none(),
                new McpHub(null));
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void aTextReplyEndsTheTurnWithThatTextAndTheDeltasConcatenateToIt(ModelApi api) {
        fake.enqueue(Scripted.text("Hello there — how can I help you today? 👋").splitInto(3));

        run(api, "hi");

        TurnEnded ended = ended();
        assertThat(ended.error()).isNull();
        assertThat(ended.reply()).isEqualTo("Hello there — how can I help you today? 👋");
        assertThat(ended.usage().outputTokens()).isPositive();
        assertThat(texts()).hasSizeGreaterThan(1);
        assertThat(String.join("", texts())).isEqualTo(ended.reply());
        assertThat(appended()).containsExactly(ChatMessage.assistant(ended.reply()));
        assertThat(sent).allSatisfy(m -> assertThat(turnIdOf(m)).isEqualTo("turn-1"));
        assertThat(sent.getLast()).isSameAs(ended);
        assertThat(fake.requests().size()).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void aToolCallIsRunAndItsResultGoesBackInTheNextRequest(ModelApi api) throws IOException {
        fake.enqueue(
                Scripted.toolCall("write", "{\"path\":\"notes.txt\",\"content\":\"remember the milk\\n\"}"),
                Scripted.toolCall("read", "{\"path\":\"notes.txt\"}"),
                Scripted.text("Noted."));

        run(api, "take a note");

        assertThat(ended().reply()).isEqualTo("Noted.");
        assertThat(Files.readString(workspace.resolve("notes.txt"))).isEqualTo("remember the milk\n");
        List<ChatMessage> appended = appended();
        assertThat(appended)
                .extracting(ChatMessage::role)
                .containsExactly(Role.ASSISTANT, Role.USER, Role.ASSISTANT, Role.USER, Role.ASSISTANT);
        List<RecordedRequest> requests = fake.requests();
        assertThat(requests.size()).isEqualTo(3);
        SentResult read = SentResults.of(requests.get(2), api).getFirst();
        assertThat(read.toolUseId())
                .isEqualTo(appended.get(2).toolUses().getFirst().id());
        assertThat(read.content()).contains("remember the milk");
        assertThat(read.isError()).isFalse();
        assertThat(results(appended.get(3)))
                .singleElement()
                .satisfies(r -> assertThat(r.content()).isEqualTo(read.content()));
        assertThat(fake.violations()).isEmpty();
    }

    /**
     * The first call waits until the second has run, so it finishes last; its result must still come
     * first. (Were the calls run one after another, the first would give up waiting and say so.)
     */
    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void parallelToolCallsRunAtOnceAndKeepTheirOrder(ModelApi api) {
        fake.enqueue(
                Scripted.toolCalls(
                        ToolCall.of(
                                "bash",
                                "{\"command\":\"for i in $(seq 400); do [ -e second.done ] && break; sleep 0.05; done;"
                                        + " [ -e second.done ] && echo first-after-second || echo first-alone\"}"),
                        ToolCall.of("bash", "{\"command\":\"touch second.done && echo second\"}"),
                        ToolCall.of("bash", "{\"command\":\"echo third\"}")),
                Scripted.text("All three ran."));

        run(api, "run three things");

        assertThat(ended().reply()).isEqualTo("All three ran.");
        List<ChatMessage> appended = appended();
        List<String> ids =
                appended.getFirst().toolUses().stream().map(Part.ToolUse::id).toList();
        assertThat(ids).hasSize(3).doesNotHaveDuplicates();
        List<Part.ToolResult> results = results(appended.get(1));
        assertThat(results).extracting(Part.ToolResult::toolUseId).containsExactlyElementsOf(ids);
        assertThat(results)
                .extracting(r -> r.content().strip())
                .containsExactly("first-after-second", "second", "third");
        List<SentResult> onTheWire = SentResults.of(fake.requests().get(1), api);
        assertThat(onTheWire).extracting(SentResult::toolUseId).containsExactlyElementsOf(ids);
        assertThat(fake.violations()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void anUnknownToolGivesAnErrorResultNotACrash(ModelApi api) {
        fake.enqueue(Scripted.toolCall("teleport", "{\"to\":\"mars\"}"), Scripted.text("I cannot do that."));

        run(api, "go to mars");

        assertThat(ended().reply()).isEqualTo("I cannot do that.");
        Part.ToolResult result = results(appended().get(1)).getFirst();
        assertThat(result.isError()).isTrue();
        assertThat(result.content()).contains("unknown tool 'teleport'").contains("bash", "read", "write");
        SentResult onTheWire = SentResults.of(fake.requests().get(1), api).getFirst();
        assertThat(onTheWire.isError()).isTrue();
        assertThat(onTheWire.content()).contains("unknown tool 'teleport'");
        assertThat(fake.violations()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void aModelErrorEndsTheTurnWithAnErrorMessage(ModelApi api) {
        fake.enqueue(Scripted.error(400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000"));

        run(api, "hi");

        TurnEnded ended = ended();
        assertThat(ended.reply()).isNull();
        assertThat(ended.error())
                .startsWith("The model call failed: ")
                .contains("prompt is too long: 250000 tokens > 200000");
        assertThat(appended()).isEmpty();
        assertThat(sleeps).isEmpty();
    }

    @Test
    void aModelThatStaysOverloadedEndsTheTurnAfterTheRetries() {
        fake.enqueue(Scripted.overloaded(), Scripted.overloaded(), Scripted.overloaded(), Scripted.text("too late"));

        run(ModelApi.ANTHROPIC, "hi");

        assertThat(ended().error()).startsWith("The model call failed: ").contains("Overloaded", "3 attempts");
        assertThat(fake.requests().size()).isEqualTo(3);
        assertThat(sleeps).hasSize(2);
    }

    @Test
    void aModelErrorAfterAToolRoundKeepsTheRoundInTheTranscript() {
        fake.enqueue(
                Scripted.toolCall("glob", "{\"pattern\":\"*\"}"), Scripted.error(400, "invalid_request_error", "no"));

        run(ModelApi.ANTHROPIC, "look around");

        assertThat(ended().error()).startsWith("The model call failed: ");
        assertThat(appended()).extracting(ChatMessage::role).containsExactly(Role.ASSISTANT, Role.USER);
    }

    /**
     * The limit counts rounds of tool calls: the model asks {@code MAX_TOOL_ROUNDS} times, each round
     * runs and its results are kept (so the stored transcript answers every call and the next turn
     * is a valid request), and then the turn stops without calling the model again.
     */
    @Test
    void aTurnThatAsksForToolsForeverStopsAfterMaxToolRounds() {
        for (int i = 0; i < AgentLoop.MAX_TOOL_ROUNDS + 5; i++) {
            fake.enqueue(Scripted.toolCall("glob", "{\"pattern\":\"*.nothing\"}"));
        }

        run(ModelApi.ANTHROPIC, "never stop");

        TurnEnded ended = ended();
        assertThat(ended.reply()).isNull();
        assertThat(ended.error())
                .isEqualTo("The agent stopped after " + AgentLoop.MAX_TOOL_ROUNDS + " rounds of tool calls.");
        assertThat(fake.requests().size()).isEqualTo(AgentLoop.MAX_TOOL_ROUNDS);
        List<ChatMessage> appended = appended();
        assertThat(appended.stream().filter(m -> m.role() == Role.USER)).hasSize(AgentLoop.MAX_TOOL_ROUNDS);
        assertThat(appended.getLast().role()).isEqualTo(Role.USER);
        assertThat(results(appended.getLast()))
                .singleElement()
                .satisfies(r -> assertThat(r.toolUseId())
                        .isEqualTo(appended.get(appended.size() - 2)
                                .toolUses()
                                .getFirst()
                                .id()));
        assertThat(ended.usage().inputTokens()).isPositive();
        assertThat(fake.violations()).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------

    private void run(ModelApi api, String userText) {
        loop.run(new StartTurn(
                "turn-1",
                "You are a test agent.",
                new ModelSettings(api, "test-model", 1024),
                List.of(ChatMessage.user(userText))));
    }

    /** The one TurnEnded, which must be the last message. */
    private TurnEnded ended() {
        assertThat(sent.stream().filter(m -> m instanceof TurnEnded)).hasSize(1);
        assertThat(sent.getLast()).isInstanceOf(TurnEnded.class);
        return (TurnEnded) sent.getLast();
    }

    private List<String> texts() {
        return sent.stream()
                .filter(m -> m instanceof TextDelta)
                .map(m -> ((TextDelta) m).text())
                .toList();
    }

    private List<ChatMessage> appended() {
        return sent.stream()
                .filter(m -> m instanceof TranscriptAppend)
                .map(m -> ((TranscriptAppend) m).message())
                .collect(Collectors.toList());
    }

    private static List<Part.ToolResult> results(ChatMessage message) {
        return message.parts().stream()
                .filter(p -> p instanceof Part.ToolResult)
                .map(p -> (Part.ToolResult) p)
                .toList();
    }

    private static String turnIdOf(RunnerMessage message) {
        return switch (message) {
            case TextDelta m -> m.turnId();
            case TranscriptAppend m -> m.turnId();
            case TurnEnded m -> m.turnId();
            case RunnerMessage.StreamReset m -> m.turnId();
            case RunnerMessage.Ready m -> "not a turn message";
            case RunnerMessage.ModelRequest m -> "not a turn message";
            case RunnerMessage.ModelCancel m -> "not a turn message";
            case RunnerMessage.ApprovalRequest m -> m.turnId();
            case RunnerMessage.Heartbeat m -> m.turnId();
            case RunnerMessage.EgressOpen m -> "not a turn message";
            case RunnerMessage.HostToolCall m -> "not a turn message";
            case RunnerMessage.StreamData m -> "not a turn message";
            case RunnerMessage.StreamEnd m -> "not a turn message";
            case RunnerMessage.StreamAck m -> "not a turn message";
            case RunnerMessage.FileWritten m -> "not a turn message";
        };
    }
}
