package dev.cordon.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.protocol.control.ApprovalView;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every message type of both wire contracts survives encoding, framing and decoding unchanged. */
class WireTest {
    /** Every byte value, so a chunk carrying a cut UTF-8 sequence or binary data is covered. */
    private static final byte[] ALL_BYTES = allBytes();

    private static final ChatMessage TOOL_TURN = new ChatMessage(
            Role.ASSISTANT,
            List.of(
                    new Part.Text("Let me look. héllo 👋 \"quoted\"\n"),
                    new Part.ToolUse(
                            "toolu_1",
                            "bash",
                            Wire.mapper().readTree("{\"command\":\"ls\",\"n\":[1,2.5,true,null,{\"deep\":\"x\"}]}"))));

    private static final ChatMessage TOOL_RESULTS = new ChatMessage(
            Role.USER,
            List.of(new Part.ToolResult("toolu_1", "a.txt\n", false), new Part.ToolResult("toolu_2", "boom", true)));

    /** A message, the interface it is decoded as, and its documented {@code type} on the wire. */
    static final ApprovalView PENDING = new ApprovalView(
            12,
            "main",
            3,
            "terminal:main",
            "tool.bash",
            "{\"command\":\"rm -rf b\\n\"}",
            "run a command",
            Map.of("command", "rm -rf b\n\u001b[2K", "cwd", "/workspace"),
            1_900_000_000_000L,
            1_900_000_600_000L,
            "pending",
            null,
            0,
            null,
            null,
            0,
            0,
            0,
            false);

    static final ApprovalView GRANTED = new ApprovalView(
            13,
            "main",
            3,
            "terminal:main",
            "tool.bash",
            "{}",
            "run",
            Map.of(),
            1_900_000_000_000L,
            1_900_000_600_000L,
            "granted",
            "terminal:owner",
            1_900_000_100_000L,
            "ok",
            "session",
            5,
            1,
            1_900_003_600_000L,
            true);

    static Stream<Arguments> messages() {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("content-type", List.of("text/event-stream"));
        headers.put("x-multi", List.of("a", "b"));
        return Stream.of(
                // host → runner
                Arguments.of(
                        new HostMessage.StartTurn(
                                "turn-1",
                                "Be brief.",
                                new ModelSettings(ModelApi.ANTHROPIC, "claude-test", 1024),
                                List.of(
                                        new ChatMessage(Role.USER, List.of(new Part.Summary("They asked about X."))),
                                        ChatMessage.user("hi"),
                                        TOOL_TURN,
                                        TOOL_RESULTS)),
                        HostMessage.class,
                        "start_turn"),
                Arguments.of(
                        new HostMessage.ModelResponseHead("call-1", 200, headers), HostMessage.class, "model_head"),
                Arguments.of(new HostMessage.ModelResponseChunk("call-1", ALL_BYTES), HostMessage.class, "model_chunk"),
                Arguments.of(
                        new HostMessage.ModelResponseChunk("call-1", new byte[0]), HostMessage.class, "model_chunk"),
                Arguments.of(new HostMessage.ModelResponseEnd("call-1", null), HostMessage.class, "model_end"),
                Arguments.of(
                        new HostMessage.ModelResponseEnd("call-1", "provider connection dropped"),
                        HostMessage.class,
                        "model_end"),
                Arguments.of(new HostMessage.Shutdown("daemon stopping"), HostMessage.class, "shutdown"),
                Arguments.of(new HostMessage.Shutdown(null), HostMessage.class, "shutdown"),
                Arguments.of(new HostMessage.StreamData("e1", ALL_BYTES), HostMessage.class, "stream_data"),
                Arguments.of(new HostMessage.StreamEnd("e1", null), HostMessage.class, "stream_end"),
                Arguments.of(new HostMessage.StreamEnd("e1", "the turn ended"), HostMessage.class, "stream_end"),
                Arguments.of(new HostMessage.StreamAck("e1", 65_536), HostMessage.class, "stream_ack"),
                Arguments.of(
                        new HostMessage.StartTurn(
                                "turn-2",
                                "Be brief.",
                                new ModelSettings(ModelApi.OPENAI, "gpt-test", 1024),
                                List.of(ChatMessage.user("hi")),
                                new ToolRules(Map.of(
                                        "bash",
                                        new ToolRules.Tool(
                                                ToolRules.Action.ASK, List.of("ls *"), List.of(), List.of("rm *"))))),
                        HostMessage.class,
                        "start_turn"),
                Arguments.of(
                        new HostMessage.ApprovalDecision("req-1", false, "denied by alice"),
                        HostMessage.class,
                        "approval_decision"),
                // runner → host
                Arguments.of(new RunnerMessage.Ready("0.1.0"), RunnerMessage.class, "ready"),
                Arguments.of(
                        new RunnerMessage.ModelRequest(
                                "call-1",
                                ModelApi.OPENAI,
                                "/chat/completions",
                                Map.of("content-type", "application/json", "accept", "text/event-stream"),
                                "{\"model\":\"gpt\",\"messages\":[{\"content\":\"ünïcödé\"}]}"
                                        .getBytes(StandardCharsets.UTF_8)),
                        RunnerMessage.class,
                        "model_request"),
                Arguments.of(
                        new RunnerMessage.ModelRequest(
                                "call-2", ModelApi.ANTHROPIC, "/v1/messages", Map.of(), ALL_BYTES),
                        RunnerMessage.class,
                        "model_request"),
                Arguments.of(new RunnerMessage.ModelCancel("call-1"), RunnerMessage.class, "model_cancel"),
                Arguments.of(new RunnerMessage.EgressOpen("e1"), RunnerMessage.class, "egress_open"),
                Arguments.of(new RunnerMessage.StreamData("e1", ALL_BYTES), RunnerMessage.class, "stream_data"),
                Arguments.of(new RunnerMessage.StreamEnd("e1", "client went away"), RunnerMessage.class, "stream_end"),
                Arguments.of(new RunnerMessage.StreamAck("e1", 1), RunnerMessage.class, "stream_ack"),
                Arguments.of(
                        new RunnerMessage.TextDelta("turn-1", "héllo 👋\n\"quoted\"\\ \u0000"),
                        RunnerMessage.class,
                        "text_delta"),
                Arguments.of(
                        new RunnerMessage.StreamReset("turn-1", "stream broke"), RunnerMessage.class, "stream_reset"),
                Arguments.of(
                        new RunnerMessage.TranscriptAppend("turn-1", TOOL_TURN),
                        RunnerMessage.class,
                        "transcript_append"),
                Arguments.of(
                        new RunnerMessage.TranscriptAppend("turn-1", TOOL_RESULTS),
                        RunnerMessage.class,
                        "transcript_append"),
                Arguments.of(new RunnerMessage.Heartbeat("turn-1"), RunnerMessage.class, "heartbeat"),
                Arguments.of(
                        new RunnerMessage.TurnEnded("turn-1", "Done.", null, new Usage(1, 2, 3, 4)),
                        RunnerMessage.class,
                        "turn_ended"),
                Arguments.of(
                        new RunnerMessage.TurnEnded("turn-1", null, "The model call failed", Usage.ZERO),
                        RunnerMessage.class,
                        "turn_ended"),
                Arguments.of(
                        new RunnerMessage.ApprovalRequest(
                                "req-1",
                                "turn-1",
                                "tool.bash",
                                "bash: rm -rf build",
                                Map.of("command", "rm -rf build")),
                        RunnerMessage.class,
                        "approval_request"),
                // cordon command → daemon
                Arguments.of(new ControlRequest.Status(), ControlRequest.class, "status"),
                Arguments.of(new ControlRequest.Status(true), ControlRequest.class, "status"),
                Arguments.of(new ControlRequest.SessionsList(20), ControlRequest.class, "sessions_list"),
                Arguments.of(new ControlRequest.SessionsKill(7), ControlRequest.class, "sessions_kill"),
                Arguments.of(new ControlRequest.AgentsList(), ControlRequest.class, "agents_list"),
                Arguments.of(
                        new ControlRequest.AgentsCreate("sales", "You sell."), ControlRequest.class, "agents_create"),
                Arguments.of(new ControlRequest.AgentsCreate("ops", null), ControlRequest.class, "agents_create"),
                Arguments.of(
                        new ControlRequest.AgentsShare("main", "reports", "sales", false),
                        ControlRequest.class,
                        "agents_share"),
                Arguments.of(new ControlRequest.AgentsDelete("sales", true), ControlRequest.class, "agents_delete"),
                Arguments.of(new ControlRequest.Dashboard(null, false), ControlRequest.class, "dashboard"),
                Arguments.of(new ControlRequest.Dashboard("web:alice", true), ControlRequest.class, "dashboard"),
                Arguments.of(new ControlRequest.TasksList("main"), ControlRequest.class, "tasks_list"),
                Arguments.of(new ControlRequest.TasksList(null), ControlRequest.class, "tasks_list"),
                Arguments.of(new ControlRequest.TasksShow(3, 20), ControlRequest.class, "tasks_show"),
                Arguments.of(
                        new ControlRequest.TasksChange(3, ControlRequest.TaskChange.RUN_NOW),
                        ControlRequest.class,
                        "tasks_change"),
                Arguments.of(
                        new ControlRequest.TasksCreate(
                                "main", "cron", "0 9 * * 1-5", "Europe/Paris", "report", null, "isolated", "once"),
                        ControlRequest.class,
                        "tasks_create"),
                Arguments.of(new ControlRequest.Stop(), ControlRequest.class, "stop"),
                Arguments.of(new ControlRequest.Attach("main", true), ControlRequest.class, "attach"),
                Arguments.of(new ControlRequest.Say("main", "msg-1", "hello\nthere"), ControlRequest.class, "say"),
                Arguments.of(new ControlRequest.ReplyAck(Long.MAX_VALUE), ControlRequest.class, "reply_ack"),
                Arguments.of(new ControlRequest.UsersList(), ControlRequest.class, "users_list"),
                Arguments.of(
                        new ControlRequest.UsersGrant("slack:U1", "admin", "main"),
                        ControlRequest.class,
                        "users_grant"),
                Arguments.of(
                        new ControlRequest.UsersRevoke("slack:U1", "member", null),
                        ControlRequest.class,
                        "users_revoke"),
                Arguments.of(new ControlRequest.ChatsList(), ControlRequest.class, "chats_list"),
                Arguments.of(
                        new ControlRequest.ChatsPolicy("slack:C1", "approval"), ControlRequest.class, "chats_policy"),
                Arguments.of(new ControlRequest.SendersList(), ControlRequest.class, "senders_list"),
                Arguments.of(new ControlRequest.SendersAdmit(3), ControlRequest.class, "senders_admit"),
                Arguments.of(new ControlRequest.SendersRefuse(4), ControlRequest.class, "senders_refuse"),
                Arguments.of(new ControlRequest.Pair("main"), ControlRequest.class, "pair"),
                // daemon → cordon command
                Arguments.of(
                        new ControlEvent.StatusReport(
                                "0.1.0",
                                4242,
                                "/home/u/.cordon",
                                1234,
                                "anthropic claude at http://127.0.0.1",
                                null,
                                "bubblewrap",
                                List.of("main", "helper"),
                                1,
                                2,
                                3,
                                List.of(new ControlEvent.LiveSandbox(
                                        "main", 4, "r-main-4-1", 150_000_000, 210_000_000, 31, 620, 0)),
                                2,
                                4096,
                                30,
                                "http://127.0.0.1:7878"),
                        ControlEvent.class,
                        "status_report"),
                Arguments.of(
                        new ControlEvent.StatusReport(
                                "0.1.0",
                                1,
                                "/h",
                                0,
                                null,
                                "No model is configured.",
                                "none",
                                List.of(),
                                0,
                                0,
                                0,
                                List.of(),
                                -1,
                                -1,
                                0,
                                null),
                        ControlEvent.class,
                        "status_report"),
                Arguments.of(new ControlEvent.Stopping(), ControlEvent.class, "stopping"),
                Arguments.of(new ControlEvent.Attached("main", 2), ControlEvent.class, "attached"),
                Arguments.of(new ControlEvent.Accepted("msg-1", 7), ControlEvent.class, "accepted"),
                Arguments.of(new ControlEvent.Delta("main", "He"), ControlEvent.class, "delta"),
                Arguments.of(new ControlEvent.Reset("main", "stream broke"), ControlEvent.class, "reset"),
                Arguments.of(new ControlEvent.Reply(9, "main", 7, "Hi!", false), ControlEvent.class, "reply"),
                Arguments.of(new ControlEvent.Reply(10, "main", 0, "It failed", true), ControlEvent.class, "reply"),
                Arguments.of(new ControlEvent.Failure("no such agent"), ControlEvent.class, "failure"),
                Arguments.of(
                        new ControlEvent.SessionListing(
                                List.of(
                                        new ControlEvent.SessionRow(
                                                3, "main", "terminal:main", "busy", "sb-3", 1 << 20, 4, 120, null, -1),
                                        new ControlEvent.SessionRow(
                                                4, "sales", "slack:C1", "hibernated", null, -1, -1, -1, "r1", 250)),
                                1,
                                64,
                                1L << 30,
                                8L << 30),
                        ControlEvent.class,
                        "session_listing"),
                Arguments.of(
                        new ControlEvent.DashboardLink(
                                "http://127.0.0.1:7878/",
                                "http://127.0.0.1:7878/login?code=c0de",
                                "web:owner",
                                "cdt_secret"),
                        ControlEvent.class,
                        "dashboard_link"),
                Arguments.of(
                        new ControlEvent.DashboardLink(
                                "http://127.0.0.1:7878/", "http://127.0.0.1:7878/login?code=c0de", "web:alice", null),
                        ControlEvent.class,
                        "dashboard_link"),
                Arguments.of(
                        new ControlEvent.AgentListing(List.of(
                                new ControlEvent.AgentRow("main", "/h/agents/main", 1, 3, "valid", 120),
                                new ControlEvent.AgentRow("sales", "/h/agents/sales", 0, 0, "defaults", -1))),
                        ControlEvent.class,
                        "agent_listing"),
                Arguments.of(
                        new ControlEvent.Notice("main", "agent main has used $4.00 of its $5.00 daily_usd budget"),
                        ControlEvent.class,
                        "notice"),
                Arguments.of(
                        new ControlEvent.UserList(List.of(
                                new ControlEvent.UserRow("terminal:owner", "owner", null, "built-in", 0),
                                new ControlEvent.UserRow("slack:U1", "admin", "main", "pairing", 5))),
                        ControlEvent.class,
                        "user_list"),
                Arguments.of(
                        new ControlEvent.ChatList(List.of(new ControlEvent.ChatRow("slack:C1", null, "strict"))),
                        ControlEvent.class,
                        "chat_list"),
                Arguments.of(
                        new ControlEvent.SenderList(List.of(
                                new ControlEvent.SenderRow(3, "slack:U9", "slack:C1", "main", "pending", 2, 7, null))),
                        ControlEvent.class,
                        "sender_list"),
                Arguments.of(
                        new ControlEvent.PairingCode("main", "K7Q2MXRB", 1_900_000_000_000L),
                        ControlEvent.class,
                        "pairing_code"),
                Arguments.of(new ControlEvent.Done("granted"), ControlEvent.class, "done"),
                Arguments.of(
                        new ControlEvent.TaskListing(List.of(new ControlEvent.TaskRow(
                                1,
                                "main",
                                "report",
                                "cron 0 9 * * 1-5",
                                "Europe/Paris",
                                "terminal:main",
                                "isolated",
                                "once",
                                false,
                                "active",
                                1_900_000_000_000L,
                                "user:terminal:owner",
                                1_800_000_000_000L))),
                        ControlEvent.class,
                        "task_listing"),
                Arguments.of(
                        new ControlEvent.TaskDetail(
                                new ControlEvent.TaskRow(
                                        2,
                                        "main",
                                        "p",
                                        "at 2030-01-01T00:00:00Z",
                                        "UTC",
                                        "irc:#ops",
                                        "origin",
                                        "skip",
                                        true,
                                        "done",
                                        -1,
                                        "agent:main",
                                        5),
                                List.of(
                                        new ControlEvent.TaskRunRow(9, 10, "failed", 11, 12, 30, "boom", 0, true),
                                        new ControlEvent.TaskRunRow(8, 1, "skipped", 11, -1, -1, null, 4, false)),
                                "paused"),
                        ControlEvent.class,
                        "task_detail"),
                Arguments.of(
                        new RunnerMessage.ApprovalRequest(
                                "r1", "s1-m2", "tool.bash", "run a command", Map.of("command", "ls -la\n")),
                        RunnerMessage.class,
                        "approval_request"),
                Arguments.of(
                        new HostMessage.PutFile("inbox/12/a b.pdf", 1_048_576, new byte[] {0, 1, (byte) 0xff}, true),
                        HostMessage.class,
                        "put_file"),
                Arguments.of(
                        new RunnerMessage.FileWritten("inbox/12/a b.pdf", "java.io.IOException: No space left"),
                        RunnerMessage.class,
                        "file_written"),
                Arguments.of(
                        new HostMessage.HostToolResult("h1", "Scheduled task #3.", false),
                        HostMessage.class,
                        "host_tool_result"),
                Arguments.of(
                        new RunnerMessage.HostToolCall(
                                "h1", "schedule_task", Map.of("cron", "0 9 * * *", "prompt", "hi")),
                        RunnerMessage.class,
                        "host_tool_call"),
                Arguments.of(
                        new HostMessage.ApprovalDecision("r1", true, "approved by terminal:owner once"),
                        HostMessage.class,
                        "approval_decision"),
                Arguments.of(new ControlRequest.ApprovalList(true), ControlRequest.class, "approval_list"),
                Arguments.of(new ControlRequest.ApprovalShow(12), ControlRequest.class, "approval_show"),
                Arguments.of(
                        new ControlRequest.ApprovalApprove(12, "session", 5, 3600, "ok"),
                        ControlRequest.class,
                        "approval_approve"),
                Arguments.of(
                        new ControlRequest.ApprovalApprove(12, "once", 0, 0, null),
                        ControlRequest.class,
                        "approval_approve"),
                Arguments.of(new ControlRequest.ApprovalDeny(12, null), ControlRequest.class, "approval_deny"),
                Arguments.of(
                        new ControlEvent.ApprovalListing(List.of(PENDING, GRANTED)),
                        ControlEvent.class,
                        "approval_listing"),
                Arguments.of(new ControlEvent.ApprovalCard(PENDING), ControlEvent.class, "approval_card"),
                Arguments.of(new ControlEvent.ApprovalRequested(PENDING), ControlEvent.class, "approval_requested"),
                Arguments.of(
                        new ControlEvent.ApprovalDecided(GRANTED, "granted by terminal:owner (session, 1 of 5 uses)"),
                        ControlEvent.class,
                        "approval_decided"),
                Arguments.of(
                        new ControlEvent.ApprovalProblem(12, "expired", "approval #12 expired"),
                        ControlEvent.class,
                        "approval_problem"));
    }

    @ParameterizedTest
    @MethodSource("messages")
    void everyMessageRoundTripsThroughWireUnchanged(Object message, Class<?> type, String typeName) {
        byte[] encoded = Wire.encode(message);

        assertThat(Wire.mapper().readTree(encoded).get("type").asString()).isEqualTo(typeName);
        Object decoded = Wire.decode(encoded, type);
        assertThat(decoded).isExactlyInstanceOf(message.getClass());
        // Recursive comparison: records with byte[] fields are not equal() to their copies.
        assertThat(decoded).usingRecursiveComparison().isEqualTo(message);
    }

    @ParameterizedTest
    @MethodSource("messages")
    void everyMessageRoundTripsThroughAFrame(Object message, Class<?> type, String typeName) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Frames.write(out, Wire.encode(message));
        Frames.write(out, Wire.encode(message));
        ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());

        assertThat(Wire.decode(Frames.read(in), type))
                .usingRecursiveComparison()
                .isEqualTo(message);
        assertThat(Wire.decode(Frames.read(in), type))
                .usingRecursiveComparison()
                .isEqualTo(message);
        assertThat(Frames.read(in)).isNull();
    }

    @Test
    void theRoundTripCasesCoverEveryMessageType() {
        Set<Class<?>> covered = messages().map(a -> a.get()[0].getClass()).collect(Collectors.toSet());

        for (Class<?> contract :
                List.of(HostMessage.class, RunnerMessage.class, ControlRequest.class, ControlEvent.class)) {
            assertThat(covered)
                    .as("round-trip cases for %s", contract.getSimpleName())
                    .containsAll(messageTypes(contract));
        }
    }

    /** The records of a sealed contract, through nested sealed interfaces (ControlRequest.AccessRequest). */
    private static List<Class<?>> messageTypes(Class<?> contract) {
        return Arrays.stream(contract.getPermittedSubclasses())
                .flatMap(c -> c.isInterface() ? messageTypes(c).stream() : Stream.of(c))
                .toList();
    }

    @Test
    void aChunkCarriesArbitraryBytesExactly() {
        byte[] halfAnEmoji = Arrays.copyOf("👋".getBytes(StandardCharsets.UTF_8), 2);

        HostMessage decoded =
                Wire.decode(Wire.encode(new HostMessage.ModelResponseChunk("c", halfAnEmoji)), HostMessage.class);

        assertThat(((HostMessage.ModelResponseChunk) decoded).data()).containsExactly(halfAnEmoji);
    }

    @Test
    void unknownFieldsAreIgnoredSoAPeerMayBeNewer() {
        byte[] frame = json("{\"type\":\"shutdown\",\"reason\":\"bye\",\"addedInVersion2\":{\"x\":1}}");

        assertThat(Wire.decode(frame, HostMessage.class)).isEqualTo(new HostMessage.Shutdown("bye"));
    }

    @Test
    void anUnknownTypeIsAProtocolExceptionNamingIt() {
        assertThatThrownBy(() -> Wire.decode(json("{\"type\":\"launch_missiles\"}"), HostMessage.class))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageContaining("malformed HostMessage frame")
                .hasMessageContaining("launch_missiles");
    }

    @Test
    void aMissingTypeIsAProtocolException() {
        assertThatThrownBy(() -> Wire.decode(json("{\"runnerVersion\":\"1\"}"), RunnerMessage.class))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageContaining("malformed RunnerMessage frame")
                .hasMessageContaining("type");
    }

    @Test
    void aMessageOfTheOtherDirectionIsAProtocolException() {
        byte[] runnerMessage = Wire.encode(new RunnerMessage.Ready("1"));

        assertThatThrownBy(() -> Wire.decode(runnerMessage, HostMessage.class))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageContaining("ready");
    }

    @Test
    void aMissingRequiredFieldIsAProtocolExceptionNamingTheField() {
        byte[] noTurnId = json("{\"type\":\"start_turn\",\"systemPrompt\":\"s\","
                + "\"model\":{\"api\":\"ANTHROPIC\",\"model\":\"m\",\"maxTokens\":10},\"transcript\":[]}");

        assertThatThrownBy(() -> Wire.decode(noTurnId, HostMessage.class))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageContaining("turnId");
    }

    /** Frames that would make a record constructor throw NullPointerException or IllegalArgumentException. */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"type\":\"model_head\",\"callId\":\"c\",\"status\":200}",
                "{\"type\":\"model_head\",\"status\":200,\"headers\":{}}",
                "{\"type\":\"model_chunk\",\"callId\":\"c\"}",
                "{\"type\":\"model_end\"}",
                "{\"type\":\"start_turn\",\"turnId\":\"t\",\"systemPrompt\":\"s\",\"transcript\":[]}",
                "{\"type\":\"start_turn\",\"turnId\":\"t\",\"systemPrompt\":\"s\","
                        + "\"model\":{\"api\":\"ANTHROPIC\",\"model\":\"m\",\"maxTokens\":10}}",
                "{\"type\":\"start_turn\",\"turnId\":\"t\",\"systemPrompt\":\"s\","
                        + "\"model\":{\"api\":\"ANTHROPIC\",\"model\":\"m\",\"maxTokens\":0},\"transcript\":[]}",
                "{\"type\":\"start_turn\",\"turnId\":\"t\",\"systemPrompt\":\"s\","
                        + "\"model\":{\"api\":\"ANTHROPIC\",\"model\":\"m\",\"maxTokens\":10},\"transcript\":[null]}",
                "{\"type\":\"start_turn\",\"turnId\":\"t\",\"systemPrompt\":\"s\","
                        + "\"model\":{\"api\":\"ANTHROPIC\",\"model\":\"m\",\"maxTokens\":10},"
                        + "\"transcript\":[{\"role\":\"USER\",\"parts\":[{\"type\":\"text\"}]}]}",
                "{\"type\":\"start_turn\",\"turnId\":\"t\",\"systemPrompt\":\"s\","
                        + "\"model\":{\"api\":\"GEMINI\",\"model\":\"m\",\"maxTokens\":10},\"transcript\":[]}",
                "{\"type\":\"start_turn\",\"turnId\":\"t\",\"systemPrompt\":\"s\","
                        + "\"model\":{\"api\":\"ANTHROPIC\",\"model\":\"m\",\"maxTokens\":10},"
                        + "\"transcript\":[{\"role\":\"USER\",\"parts\":[{\"type\":\"image\"}]}]}",
            })
    void anIncompleteOrInvalidHostMessageIsAProtocolException(String frame) {
        assertThatThrownBy(() -> Wire.decode(json(frame), HostMessage.class))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageStartingWith("malformed HostMessage frame");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"type\":\"model_request\",\"callId\":\"c\",\"api\":\"OPENAI\",\"path\":\"/x\",\"headers\":{}}",
                "{\"type\":\"model_request\",\"callId\":\"c\",\"path\":\"/x\",\"headers\":{},\"body\":\"\"}",
                "{\"type\":\"model_request\",\"callId\":\"c\",\"api\":\"OPENAI\",\"path\":\"/x\",\"body\":\"\"}",
                "{\"type\":\"model_request\",\"callId\":\"c\",\"api\":\"OPENAI\",\"path\":\"/x\",\"headers\":{},"
                        + "\"body\":\"not base64!\"}",
                "{\"type\":\"transcript_append\",\"turnId\":\"t\",\"message\":{\"parts\":[]}}",
                "{\"type\":\"transcript_append\",\"turnId\":\"t\",\"message\":{\"role\":\"ASSISTANT\",\"parts\":"
                        + "[{\"type\":\"tool_use\",\"id\":\"1\",\"name\":\"bash\"}]}}",
                "{\"type\":\"turn_ended\",\"turnId\":\"t\",\"usage\":{\"inputTokens\":\"many\"}}",
            })
    void anIncompleteOrInvalidRunnerMessageIsAProtocolException(String frame) {
        assertThatThrownBy(() -> Wire.decode(json(frame), RunnerMessage.class))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageStartingWith("malformed RunnerMessage frame");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"type\":\"attach\"}",
                "{\"type\":\"say\",\"agent\":\"main\",\"text\":\"hi\"}",
                "{\"type\":\"reply_ack\",\"outboundId\":\"seven\"}",
            })
    void anIncompleteOrInvalidControlRequestIsAProtocolException(String frame) {
        assertThatThrownBy(() -> Wire.decode(json(frame), ControlRequest.class))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageStartingWith("malformed ControlRequest frame");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "hello",
                "{\"type\":\"shutdown\"",
                "{\"type\":\"shutdown\",}",
                "[{\"type\":\"shutdown\"}]",
                "\"shutdown\"",
                "42",
                "",
                "   ",
            })
    void aPayloadThatIsNotAJsonMessageIsAProtocolException(String frame) {
        assertThatThrownBy(() -> Wire.decode(json(frame), HostMessage.class))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageContaining("HostMessage frame");
    }

    @Test
    void aJsonNullPayloadIsAProtocolException() {
        assertThatThrownBy(() -> Wire.decode(json("null"), ControlEvent.class))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("empty ControlEvent frame");
    }

    @Test
    void binaryGarbageIsAProtocolException() {
        assertThatThrownBy(() -> Wire.decode(ALL_BYTES, RunnerMessage.class))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageStartingWith("malformed RunnerMessage frame");
        byte[] invalidUtf8 = {'{', '"', 't', 'y', 'p', 'e', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        assertThatThrownBy(() -> Wire.decode(invalidUtf8, RunnerMessage.class))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageStartingWith("malformed RunnerMessage frame");
    }

    private static byte[] json(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] allBytes() {
        byte[] bytes = new byte[256];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) i;
        }
        return bytes;
    }
}
