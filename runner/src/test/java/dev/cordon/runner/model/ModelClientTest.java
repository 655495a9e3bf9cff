package dev.cordon.runner.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Role;
import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.Scripted;
import dev.cordon.testkit.Scripted.ToolCall;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Both clients against the fake model server over real HTTP: the same behaviour in both wire formats. */
class ModelClientTest {
    private static final ModelCall HELLO =
            new ModelCall("fake-model", "Be brief.", List.of(ChatMessage.user("hi")), List.of(), 1024);

    private FakeModelServer server;
    private Recorder recorder;

    @BeforeEach
    void start() {
        server = FakeModelServer.start();
        recorder = new Recorder();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private ModelClient client(ModelApi api) {
        return client(api, recorder.policy(), Map.of());
    }

    private ModelClient client(ModelApi api, RetryPolicy policy, Map<String, String> headers) {
        return switch (api) {
            case ANTHROPIC -> ModelClients.anthropic(HttpTransports.jdk(server.baseUrl(), headers), policy);
            case OPENAI -> ModelClients.openai(HttpTransports.jdk(server.openAiBaseUrl(), headers), policy);
        };
    }

    private ModelReply complete(ModelApi api) {
        return client(api).complete(HELLO, recorder);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void streamsTextDeltasInOrderAndReturnsTheWholeMessage(ModelApi api) {
        server.enqueue(Scripted.text("Hello there, world"));

        ModelReply reply = complete(api);

        assertThat(recorder.texts()).containsExactly("Hello ", "there, ", "world");
        assertThat(reply.message()).isEqualTo(ChatMessage.assistant("Hello there, world"));
        assertThat(reply.stopReason()).isEqualTo(StopReason.END_TURN);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void answersInEchoModeWhenNothingIsScripted(ModelApi api) {
        assertThat(complete(api).message().text()).isEqualTo("You said: hi");
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void assemblesAToolCallInputFromStreamedPieces(ModelApi api) {
        server.enqueue(Scripted.toolCalls(new ToolCall(
                "call-1", "bash", Wire.mapper().readTree("{\"command\":\"ls -la /tmp\",\"timeout\":30}"))));

        ModelReply reply = complete(api);

        assertThat(reply.stopReason()).isEqualTo(StopReason.TOOL_USE);
        assertThat(reply.message().parts())
                .containsExactly(new Part.ToolUse(
                        "call-1", "bash", Wire.mapper().readTree("{\"command\":\"ls -la /tmp\",\"timeout\":30}")));
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void keepsTextAndParallelToolCallsInOrder(ModelApi api) {
        server.enqueue(Scripted.toolCalls(
                        ToolCall.of("read", "{\"path\":\"/etc/hosts\"}"),
                        ToolCall.of("grep", "{\"pattern\":\"ünïcode 🙂\",\"paths\":[\"a\",\"b\"]}"))
                .withText("Looking."));

        ModelReply reply = complete(api);

        assertThat(recorder.texts()).containsExactly("Looking.");
        assertThat(reply.message().role()).isEqualTo(Role.ASSISTANT);
        assertThat(reply.message().text()).isEqualTo("Looking.");
        assertThat(reply.message().toolUses())
                .extracting(Part.ToolUse::name, use -> use.input().toString())
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("read", "{\"path\":\"/etc/hosts\"}"),
                        org.assertj.core.groups.Tuple.tuple(
                                "grep", "{\"pattern\":\"ünïcode 🙂\",\"paths\":[\"a\",\"b\"]}"));
        assertThat(reply.message().toolUses()).extracting(Part.ToolUse::id).doesNotHaveDuplicates();
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void reportsUsageWithCacheReadsApartFromInput(ModelApi api) {
        server.enqueue(Scripted.text("cached").withUsage(new Usage(12, 7, 2048, 0)));

        assertThat(complete(api).usage()).isEqualTo(new Usage(12, 7, 2048, 0));
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void mapsTheProvidersStopReasons(ModelApi api) {
        server.enqueue(
                Scripted.text("cut").withStop(Scripted.Stop.MAX_TOKENS),
                Scripted.text("no").withStop(Scripted.Stop.REFUSAL),
                Scripted.toolCall("now", "{}").withStop(Scripted.Stop.TOOL_USE));
        ModelClient client = client(api);

        assertThat(client.complete(HELLO, recorder).stopReason()).isEqualTo(StopReason.MAX_TOKENS);
        assertThat(client.complete(HELLO, recorder).stopReason()).isEqualTo(StopReason.REFUSAL);
        assertThat(client.complete(HELLO, recorder).stopReason()).isEqualTo(StopReason.TOOL_USE);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void honoursRetryAfterSecondsOnA429(ModelApi api) {
        server.enqueue(Scripted.rateLimited().withHeader("retry-after", "3"), Scripted.text("ok"));

        assertThat(complete(api).message().text()).isEqualTo("ok");
        assertThat(recorder.sleeps).containsExactly(Duration.ofSeconds(3));
        assertThat(server.requests()).hasSize(2);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void prefersRetryAfterMsToRetryAfter(ModelApi api) {
        server.enqueue(
                Scripted.rateLimited().withHeader("retry-after-ms", "1500").withHeader("retry-after", "30"),
                Scripted.text("ok"));

        complete(api);

        assertThat(recorder.sleeps).containsExactly(Duration.ofMillis(1500));
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void honoursRetryAfterAsAnHttpDate(ModelApi api) {
        String inSevenSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(
                Recorder.NOW.plusSeconds(7).atZone(ZoneOffset.UTC));
        server.enqueue(Scripted.rateLimited().withHeader("retry-after", inSevenSeconds), Scripted.text("ok"));

        complete(api);

        assertThat(recorder.sleeps).containsExactly(Duration.ofSeconds(7));
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void backsOffInsteadOfWaitingMoreThanAMinute(ModelApi api) {
        server.enqueue(Scripted.rateLimited().withHeader("retry-after", "120"), Scripted.text("ok"));

        complete(api);

        assertThat(recorder.sleeps).containsExactly(Duration.ofMillis(500));
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void retriesOverloadedWithExponentialBackoff(ModelApi api) {
        server.enqueue(Scripted.overloaded(), Scripted.overloaded(), Scripted.text("finally"));

        assertThat(complete(api).message().text()).isEqualTo("finally");
        assertThat(recorder.sleeps).containsExactly(Duration.ofMillis(500), Duration.ofSeconds(1));
        assertThat(recorder.resets()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void retriesAServerErrorThenSucceeds(ModelApi api) {
        server.enqueue(Scripted.serverError(), Scripted.text("ok"));

        assertThat(complete(api).message().text()).isEqualTo("ok");
        assertThat(server.requests()).hasSize(2);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void doesNotRetryWhenTheServerSaysShouldRetryFalse(ModelApi api) {
        server.enqueue(
                Scripted.error(503, "api_error", "Maintenance").withHeader("x-should-retry", "false"),
                Scripted.text("never served"));

        assertThatThrownBy(() -> complete(api))
                .isInstanceOf(ModelException.class)
                .hasMessageContaining("503 api_error: Maintenance")
                .extracting(e -> ((ModelException) e).status())
                .isEqualTo(503);
        assertThat(server.requests()).hasSize(1);
        assertThat(recorder.sleeps).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void retriesEvenA400WhenTheServerSaysShouldRetryTrue(ModelApi api) {
        server.enqueue(
                Scripted.error(400, "invalid_request_error", "Try again").withHeader("x-should-retry", "true"),
                Scripted.text("ok"));

        assertThat(complete(api).message().text()).isEqualTo("ok");
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void failsAtOnceOnABadRequestNamingTheProvidersError(ModelApi api) {
        server.enqueue(Scripted.error(400, "invalid_request_error", "max_tokens: must be at most 8192"));

        String provider = api == ModelApi.ANTHROPIC ? "Anthropic" : "OpenAI";
        assertThatThrownBy(() -> complete(api))
                .isInstanceOf(ModelException.class)
                .hasMessage(provider + " API error 400 invalid_request_error: max_tokens: must be at most 8192");
        assertThat(server.requests()).hasSize(1);
        assertThat(recorder.sleeps).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void failsAtOnceOnAWrongApiKey(ModelApi api) {
        server.requireApiKey("sk-right-key-0000");
        Map<String, String> wrongKey = api == ModelApi.ANTHROPIC
                ? Map.of("x-api-key", "sk-wrong-key-1234")
                : Map.of("Authorization", "Bearer sk-wrong-key-1234");

        assertThatThrownBy(() -> client(api, recorder.policy(), wrongKey).complete(HELLO, recorder))
                .isInstanceOf(ModelException.class)
                .hasMessage(
                        api == ModelApi.ANTHROPIC
                                ? "Anthropic API error 401 authentication_error: invalid x-api-key"
                                : "OpenAI API error 401 invalid_request_error: Incorrect API key provided: sk-...1234.")
                .extracting(e -> ((ModelException) e).status())
                .isEqualTo(401);
        assertThat(server.requests()).hasSize(1);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void sendsTheKeyGivenAsAnExtraHeader(ModelApi api) {
        server.requireApiKey("sk-right-key-0000");
        Map<String, String> key = api == ModelApi.ANTHROPIC
                ? Map.of("x-api-key", "sk-right-key-0000")
                : Map.of("Authorization", "Bearer sk-right-key-0000");

        assertThat(client(api, recorder.policy(), key)
                        .complete(HELLO, recorder)
                        .message()
                        .text())
                .isEqualTo("You said: hi");
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void restartsTheCallAfterARetryableErrorEventMidStream(ModelApi api) {
        server.enqueue(
                Scripted.text("Hello there my friend").thenErrorEvent("overloaded_error", "Overloaded"),
                Scripted.text("Recovered answer"));

        ModelReply reply = complete(api);

        assertThat(reply.message().text()).isEqualTo("Recovered answer");
        assertThat(recorder.events.getFirst()).isEqualTo("text:Hello ");
        assertThat(recorder.resets()).singleElement().asString().contains("overloaded_error", "Overloaded");
        assertThat(recorder.events.subList(recorder.events.size() - 2, recorder.events.size()))
                .containsExactly("text:Recovered ", "text:answer");
        assertThat(recorder.sleeps).containsExactly(Duration.ofMillis(500));
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void failsOnANonRetryableErrorEvent(ModelApi api) {
        server.enqueue(
                Scripted.text("Hello there my friend").thenErrorEvent("invalid_request_error", "prompt is too long"),
                Scripted.text("never served"));

        assertThatThrownBy(() -> complete(api))
                .isInstanceOf(ModelException.class)
                .hasMessageContaining("invalid_request_error: prompt is too long");
        assertThat(server.requests()).hasSize(1);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void restartsTheCallWhenTheConnectionDropsBeforeTheEnd(ModelApi api) {
        server.enqueue(Scripted.text("Almost done").thenDisconnect(), Scripted.text("Complete"));

        ModelReply reply = complete(api);

        assertThat(reply.message().text()).isEqualTo("Complete");
        // Text received before the drop may or may not reach the listener (HttpClient discards what
        // it buffered once the connection fails); either way it is void after the reset.
        int reset = recorder.events.indexOf(recorder.events.stream()
                .filter(e -> e.startsWith("reset:"))
                .findFirst()
                .orElseThrow());
        List<String> before = recorder.events.subList(0, reset);
        assertThat(before).isEqualTo(List.of("text:Almost ", "text:done").subList(0, Math.min(2, before.size())));
        assertThat(recorder.events.subList(reset + 1, recorder.events.size())).containsExactly("text:Complete");
        assertThat(recorder.resets()).hasSize(1);
        assertThat(server.requests()).hasSize(2);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void reassemblesFramesSplitIntoTinyPieces(ModelApi api) {
        server.enqueue(Scripted.toolCalls(ToolCall.of("write", "{\"text\":\"héllo ✓ 🙂\"}"))
                .withText("Ünïcode ✓ 🙂 text")
                .splitInto(3));

        ModelReply reply = complete(api);

        assertThat(reply.message().text()).isEqualTo("Ünïcode ✓ 🙂 text");
        assertThat(String.join("", recorder.texts())).isEqualTo("Ünïcode ✓ 🙂 text");
        assertThat(reply.message().toolUses().getFirst().input().path("text").asString())
                .isEqualTo("héllo ✓ 🙂");
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void restartsTheCallAfterAFrameTruncatedMidway(ModelApi api) {
        server.enqueue(Scripted.text("one two three four five").thenTruncate(), Scripted.text("whole"));

        assertThat(complete(api).message().text()).isEqualTo("whole");
        assertThat(recorder.resets()).hasSize(1);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void readsEmptyPartialJsonAsNothing(ModelApi api) {
        server.enqueue(
                Scripted.toolCalls(ToolCall.of("now", "{}"), ToolCall.of("echo", "{\"say\":\"a long enough value\"}"))
                        .withEmptyPartialJson());

        List<Part.ToolUse> uses = complete(api).message().toolUses();

        assertThat(uses.get(0).input()).isEqualTo(Wire.mapper().createObjectNode());
        assertThat(uses.get(1).input()).isEqualTo(Wire.mapper().readTree("{\"say\":\"a long enough value\"}"));
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void restartsTheCallWhenTheStreamStallsMidwayLongerThanTheIdleTimeout(ModelApi api) {
        server.enqueue(
                Scripted.text("slow and steady wins").stallMidStream(Duration.ofSeconds(30)), Scripted.text("fast"));

        assertThat(complete(api).message().text()).isEqualTo("fast");
        assertThat(recorder.resets()).singleElement().asString().contains("sent nothing for more than 300 ms");
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void restartsTheCallWhenNoByteFollowsTheResponseHead(ModelApi api) {
        server.enqueue(Scripted.text("late").stallBefore(Duration.ofSeconds(30)), Scripted.text("fast"));

        assertThat(complete(api).message().text()).isEqualTo("fast");
        assertThat(recorder.resets()).singleElement().asString().contains("sent nothing for more than 300 ms");
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void givesUpWhenTheRetryBudgetIsSpent(ModelApi api) {
        server.enqueue(Scripted.overloaded(), Scripted.overloaded(), Scripted.overloaded(), Scripted.text("too late"));

        assertThatThrownBy(() -> complete(api))
                .isInstanceOf(ModelException.class)
                .hasMessageContaining("529 overloaded_error: Overloaded")
                .hasMessageContaining("gave up after 3 attempts")
                .extracting(e -> ((ModelException) e).status())
                .isEqualTo(529);
        assertThat(recorder.sleeps).hasSize(2);
        assertThat(server.queued()).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void countsBrokenStreamsAgainstTheSameBudget(ModelApi api) {
        server.enqueue(
                Scripted.overloaded(),
                Scripted.text("a b c").thenDisconnect(),
                Scripted.text("a b c").thenTruncate(),
                Scripted.text("too late"));

        assertThatThrownBy(() -> complete(api))
                .isInstanceOf(ModelException.class)
                .hasMessageContaining("gave up after 3 attempts");
        assertThat(recorder.resets()).hasSize(1);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void retriesWhenTheServerCannotBeReached(ModelApi api) {
        ModelClient client = client(api);
        server.close();

        assertThatThrownBy(() -> client.complete(HELLO, recorder))
                .isInstanceOf(ModelException.class)
                .hasMessageContaining("unreachable")
                .extracting(e -> ((ModelException) e).status())
                .isEqualTo(0);
        assertThat(recorder.sleeps).containsExactly(Duration.ofMillis(500), Duration.ofSeconds(1));
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void anUnansweredToolCallIsRejectedLikeTheRealApiDoes(ModelApi api) {
        ModelCall broken = new ModelCall(
                "fake-model",
                "",
                List.of(
                        ChatMessage.user("list files"),
                        new ChatMessage(
                                Role.ASSISTANT,
                                List.of(new Part.ToolUse(
                                        "call_1", "bash", Wire.mapper().readTree("{\"command\":\"ls\"}")))),
                        ChatMessage.user("never mind")),
                List.of(),
                100);
        server.enqueue(Scripted.text("not served"));

        assertThatThrownBy(() -> client(api).complete(broken, recorder))
                .isInstanceOf(ModelException.class)
                .hasMessageContaining("400 invalid_request_error")
                .hasMessageContaining("call_1");
        assertThat(server.violations()).singleElement().asString().contains("call_1");
        assertThat(server.queued()).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void acceptsAToolCallAnsweredRightAfter(ModelApi api) {
        ModelCall answered = new ModelCall(
                "fake-model",
                "",
                List.of(
                        ChatMessage.user("list files"),
                        new ChatMessage(
                                Role.ASSISTANT,
                                List.of(
                                        new Part.Text("Listing."),
                                        new Part.ToolUse(
                                                "call_1", "bash", Wire.mapper().readTree("{\"command\":\"ls\"}")))),
                        new ChatMessage(Role.USER, List.of(new Part.ToolResult("call_1", "a.txt", false)))),
                List.of(),
                100);

        assertThat(client(api).complete(answered, recorder).message().text()).isEqualTo("You said: list files");
        assertThat(server.violations()).isEmpty();
    }
}
