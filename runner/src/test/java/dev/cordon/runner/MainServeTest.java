package dev.cordon.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.ModelSettings;
import dev.cordon.protocol.Role;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.RunnerMessage.ModelRequest;
import dev.cordon.protocol.RunnerMessage.TextDelta;
import dev.cordon.protocol.RunnerMessage.TranscriptAppend;
import dev.cordon.protocol.RunnerMessage.TurnEnded;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.Scripted;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The runner as the host sees it: {@link Main#serve} on one end of a real Unix socket, a {@link
 * TestHost} on the other whose tiny gateway forwards model calls to the fake model server over HTTP.
 * The runner never holds the key; the host adds it (the fake rejects calls without it).
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES) // a hang guard, not a performance assertion
class MainServeTest {
    @TempDir
    Path socketDir;

    @TempDir
    Path workspace;

    private FakeModelServer fake;
    private TestHost host;
    private HostConnection connection;
    private CompletableFuture<Void> served;

    @BeforeEach
    void start() throws Exception {
        fake = FakeModelServer.start().requireApiKey(TestHost.KEY);
        host = TestHost.start(socketDir, fake);
        connection = HostConnection.over(host.runnerEnd());
        served = new CompletableFuture<>();
        Thread.ofVirtual().name("runner-serve").start(() -> {
            try {
                Main.serve(connection, workspace, List.of());
                served.complete(null);
            } catch (Throwable e) {
                served.completeExceptionally(e);
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

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void aFullTurnWithAToolCallWorksOverFrames(ModelApi api) throws Exception {
        fake.enqueue(
                Scripted.toolCall("write", "{\"path\":\"hello.txt\",\"content\":\"written through the channel\"}"),
                Scripted.text("I wrote hello.txt for you — enjoy! 👋").splitInto(4));

        host.send(startTurn("turn-7", api, "please write a file"));
        List<RunnerMessage> before = new ArrayList<>();
        TurnEnded ended = host.next(TurnEnded.class, before);

        assertThat(ended)
                .isEqualTo(new TurnEnded("turn-7", "I wrote hello.txt for you — enjoy! 👋", null, ended.usage()));
        assertThat(ended.usage().outputTokens()).isPositive();
        assertThat(Files.readString(workspace.resolve("hello.txt"))).isEqualTo("written through the channel");
        assertThat(before.stream()
                        .filter(m -> m instanceof TranscriptAppend)
                        .map(m -> ((TranscriptAppend) m).message().role()))
                .containsExactly(Role.ASSISTANT, Role.USER, Role.ASSISTANT);
        assertThat(before.stream()
                        .filter(m -> m instanceof TextDelta)
                        .map(m -> ((TextDelta) m).text())
                        .reduce("", String::concat))
                .isEqualTo(ended.reply());
        assertThat(fake.requests().size()).isEqualTo(2);
        assertThat(fake.violations()).isEmpty();
        assertThat(host.modelRequests()).hasSize(2).allSatisfy(request -> {
            assertThat(request.api()).isEqualTo(api);
            assertThat(request.headers().keySet())
                    .map(name -> name.toLowerCase(Locale.ROOT))
                    .doesNotContain("x-api-key", "authorization");
            assertThat(new String(request.body(), StandardCharsets.UTF_8)).doesNotContain(TestHost.KEY);
        });
    }

    @Test
    void turnsRunOneAfterAnotherOnTheSameConnection() throws Exception {
        fake.enqueue(Scripted.text("first answer"), Scripted.text("second answer"));

        host.send(startTurn("turn-1", ModelApi.ANTHROPIC, "one"));
        TurnEnded first = host.next(TurnEnded.class, new ArrayList<>());
        host.send(startTurn("turn-2", ModelApi.ANTHROPIC, "two"));
        TurnEnded second = host.next(TurnEnded.class, new ArrayList<>());

        assertThat(first.turnId()).isEqualTo("turn-1");
        assertThat(first.reply()).isEqualTo("first answer");
        assertThat(second.turnId()).isEqualTo("turn-2");
        assertThat(second.reply()).isEqualTo("second answer");
    }

    @Test
    void aCompleteAnswerWhoseEndFrameIsLateEndsTheTurnInsteadOfWaitingForIt() throws Exception {
        fake.enqueue(Scripted.text("All there."));
        host.failNextCalls(TestHost.Fault.HOLD_END);

        host.send(startTurn("turn-1", ModelApi.ANTHROPIC, "hi"));
        List<RunnerMessage> before = new ArrayList<>();
        TurnEnded ended = host.next(TurnEnded.class, before);

        assertThat(ended.error()).isNull();
        assertThat(ended.reply()).isEqualTo("All there.");
        // The runner gave up on the missing end frame and told the host it no longer wants the call.
        assertThat(before).anySatisfy(m -> assertThat(m).isInstanceOf(RunnerMessage.ModelCancel.class));
    }

    @Test
    void aModelEndWithAnErrorMidStreamIsResetAndRetried() throws Exception {
        fake.enqueue(Scripted.text("This answer is cut off halfway and retried"), Scripted.text("Whole answer."));
        host.failNextCalls(TestHost.Fault.END_MID_STREAM);

        host.send(startTurn("turn-1", ModelApi.ANTHROPIC, "hi"));
        List<RunnerMessage> before = new ArrayList<>();
        TurnEnded ended = host.next(TurnEnded.class, before);

        assertThat(ended.error()).isNull();
        assertThat(ended.reply()).isEqualTo("Whole answer.");
        assertThat(before)
                .filteredOn(m -> m instanceof RunnerMessage.StreamReset)
                .singleElement()
                .satisfies(m ->
                        assertThat(((RunnerMessage.StreamReset) m).reason()).contains(TestHost.END_ERROR));
        assertThat(host.modelRequests()).hasSize(2);
        assertThat(host.modelRequests().get(0).callId())
                .isNotEqualTo(host.modelRequests().get(1).callId());
    }

    @Test
    void aModelEndWithAnErrorBeforeTheHeadFailsTheTurnOnceRetriesAreSpent() throws Exception {
        host.failNextCalls(
                TestHost.Fault.END_BEFORE_HEAD, TestHost.Fault.END_BEFORE_HEAD, TestHost.Fault.END_BEFORE_HEAD);

        host.send(startTurn("turn-1", ModelApi.OPENAI, "hi"));
        TurnEnded ended = host.next(TurnEnded.class, new ArrayList<>());

        assertThat(ended.reply()).isNull();
        assertThat(ended.error())
                .startsWith("The model call failed: ")
                .contains(TestHost.END_ERROR)
                .contains("3 attempts");
        assertThat(host.modelRequests()).hasSize(3);
        assertThat(fake.requests()).isEmpty();
    }

    @Test
    void shutdownEndsServe() throws Exception {
        host.send(new HostMessage.Shutdown("daemon stopping"));

        served.get(1, TimeUnit.MINUTES);
        assertThat(served).isCompleted();
    }

    @Test
    void theHostClosingTheConnectionEndsServe() throws Exception {
        host.close();

        served.get(1, TimeUnit.MINUTES);
        assertThat(served).isCompleted();
    }

    @Test
    void theHostClosingDuringAModelCallEndsServe() throws Exception {
        host.failNextCalls(TestHost.Fault.SILENCE);
        host.send(startTurn("turn-1", ModelApi.ANTHROPIC, "hi"));
        ModelRequest waiting = host.nextModelRequest();

        host.close();

        served.get(1, TimeUnit.MINUTES);
        assertThat(served).isCompleted();
        assertThat(waiting.path()).isEqualTo("/v1/messages");
    }

    private static HostMessage.StartTurn startTurn(String turnId, ModelApi api, String text) {
        return new HostMessage.StartTurn(
                turnId,
                "You are a test agent.",
                new ModelSettings(api, "test-model", 1024),
                List.of(ChatMessage.user(text)));
    }
}
