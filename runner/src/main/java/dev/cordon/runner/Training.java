package dev.cordon.runner;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.ModelSettings;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Role;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import tools.jackson.databind.node.ObjectNode;

/**
 * The AOT training workload. The host starts the runner with {@code CORDON_AOT_TRAIN=1} and
 * {@code -XX:AOTCacheOutput=FILE}, in a sandbox made like a real one; the runner then plays host
 * to itself instead of connecting out, and exits so that the JVM writes an AOT cache of every
 * class this run loaded and linked (and the profiles it gathered).
 *
 * <p>It runs the real code of a session, not a copy: {@link Main#serve} over a real Unix socket,
 * the Anthropic and the OpenAI clients parsing canned SSE streams split into small chunks, every
 * built-in tool (in parallel, as the model may ask), a provider error, and a round trip of every
 * wire message type. What a real session loads that this does not is still loaded from the jars:
 * a gap here costs start-up time, never correctness. When you add a message type, a tool or a wire
 * format → exercise it here too.
 *
 * <p>Everything happens in a fresh directory, deleted at the end, under {@code CORDON_WORKSPACE}
 * (in the training sandbox a throwaway directory) or else {@code java.io.tmpdir}; nothing else is
 * read or written. A turn that does not end as scripted throws, so the host never installs a cache
 * from a run that went wrong.
 */
final class Training {
    /** The environment variable that selects training ({@code 1}) instead of serving. */
    static final String ENV = "CORDON_AOT_TRAIN";

    private static final long STEP_TIMEOUT_SECONDS = 60;

    private Training() {}

    static boolean requested() {
        return "1".equals(System.getenv(ENV));
    }

    /**
     * Runs the workload once. Blocks for about a second.
     *
     * @throws IllegalStateException if a scripted turn ended otherwise than scripted
     */
    static void run() throws IOException, InterruptedException {
        roundTripEveryMessageType();
        Path dir = Files.createTempDirectory(scratchParent(), "cordon-aot-train");
        Path workspace = Files.createDirectories(dir.resolve("workspace"));
        Path skill = Files.createDirectories(dir.resolve("skills/notes"));
        Files.writeString(
                skill.resolve("SKILL.md"),
                "---\nname: notes\ndescription: How to keep notes.\n---\nKeep notes in notes/.\n");
        Path socket = dir.resolve("host.sock");
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(socket));
            CompletableFuture<Void> host = new CompletableFuture<>();
            Thread.ofVirtual().name("training-host").start(() -> {
                try (SocketChannel connection = listener.accept()) {
                    playHost(new FrameChannel<>(
                            Channels.newInputStream(connection),
                            Channels.newOutputStream(connection),
                            RunnerMessage.class,
                            connection));
                    host.complete(null);
                } catch (IOException | RuntimeException e) {
                    host.completeExceptionally(e);
                }
            });
            try (HostConnection connection = HostConnection.open(socket)) {
                Main.serve(connection, workspace, List.of(dir.resolve("skills")));
            }
            host.get(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "AOT training failed: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("AOT training host did not finish", e);
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * The training sandbox's workspace is a throwaway directory; {@code /tmp} is not always writable
     * for the sandbox user (a tmpfs made by privileged bwrap belongs to root).
     */
    private static Path scratchParent() {
        String workspace = System.getenv("CORDON_WORKSPACE");
        if (workspace != null && Files.isWritable(Path.of(workspace))) {
            return Path.of(workspace);
        }
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    private static void playHost(FrameChannel<RunnerMessage, HostMessage> runner) throws IOException {
        expect(runner.receive(), RunnerMessage.Ready.class);
        // A file a person sent, as the host hands it over before the turn that carries it.
        runner.send(new HostMessage.PutFile(
                "inbox/1/notes.txt", 0, "notes from a person\n".getBytes(StandardCharsets.UTF_8), true));
        List<ChatMessage> transcript = new ArrayList<>();
        transcript.add(ChatMessage.user("Prepare the notes, then check them."));
        turn(runner, ModelApi.ANTHROPIC, transcript, anthropicScript(), null);
        transcript.add(ChatMessage.user("Read the notes again."));
        turn(runner, ModelApi.OPENAI, transcript, openAiScript(), null);
        transcript.add(ChatMessage.user("And once more."));
        turn(runner, ModelApi.ANTHROPIC, transcript, List.of(anthropicError()), "invalid_request_error");
        runner.send(new HostMessage.Shutdown("training done"));
    }

    /** Plays one turn: answers each model request with the next canned response until TurnEnded. */
    private static void turn(
            FrameChannel<RunnerMessage, HostMessage> runner,
            ModelApi api,
            List<ChatMessage> transcript,
            List<Canned> script,
            String expectedError)
            throws IOException {
        String turnId = "train-" + api.name().toLowerCase(java.util.Locale.ROOT);
        runner.send(new HostMessage.StartTurn(
                turnId, "You are a training agent.", new ModelSettings(api, "train-model", 1024), transcript));
        Deque<Canned> left = new ArrayDeque<>(script);
        while (true) {
            RunnerMessage message = runner.receive();
            switch (message) {
                case null -> throw new IllegalStateException("runner closed the channel during " + turnId);
                case RunnerMessage.ModelRequest request -> {
                    Canned next = left.poll();
                    if (next == null) {
                        throw new IllegalStateException(turnId + " made more model calls than scripted");
                    }
                    next.answer(runner, request.callId());
                }
                case RunnerMessage.TranscriptAppend append -> transcript.add(append.message());
                case RunnerMessage.TurnEnded ended -> {
                    boolean asScripted = expectedError == null
                            ? ended.error() == null && left.isEmpty()
                            : ended.error() != null && ended.error().contains(expectedError);
                    if (!asScripted) {
                        throw new IllegalStateException(turnId + " ended unexpectedly: " + ended);
                    }
                    return;
                }
                case RunnerMessage.Ready r -> throw new IllegalStateException("second Ready");
                case RunnerMessage.ModelCancel c -> {
                    // a client closing a finished stream early is fine
                }
                case RunnerMessage.TextDelta d -> {
                    // shown live in a real session; nothing to check here
                }
                case RunnerMessage.Heartbeat h -> {
                    // a slow training turn is alive; nothing to check
                }
                case RunnerMessage.StreamReset r -> throw new IllegalStateException("stream reset: " + r.reason());
                case RunnerMessage.ApprovalRequest a -> throw new IllegalStateException("training asks nothing: " + a);
                case RunnerMessage.EgressOpen o -> throw new IllegalStateException("training opens no connection");
                case RunnerMessage.StreamData d -> throw new IllegalStateException("training opens no connection");
                case RunnerMessage.StreamEnd e -> throw new IllegalStateException("training opens no connection");
                case RunnerMessage.StreamAck a -> throw new IllegalStateException("training opens no connection");
                case RunnerMessage.HostToolCall c ->
                    runner.send(new HostMessage.HostToolResult(c.requestId(), "You have no scheduled tasks.", false));
                case RunnerMessage.FileWritten w -> {
                    if (w.error() != null) {
                        throw new IllegalStateException("training file not written: " + w.error());
                    }
                }
            }
        }
    }

    private static <T> void expect(Object message, Class<T> type) {
        if (!type.isInstance(message)) {
            throw new IllegalStateException("expected " + type.getSimpleName() + ", got " + message);
        }
    }

    /** A canned provider response: status, content type and body, sent in small chunks. */
    private record Canned(int status, String contentType, String body) {
        /** SSE frames may be split anywhere; small chunks exercise the reassembly path. */
        private static final int CHUNK = 97;

        void answer(FrameChannel<RunnerMessage, HostMessage> runner, String callId) throws IOException {
            runner.send(new HostMessage.ModelResponseHead(
                    callId, status, Map.of("content-type", List.of(contentType), "request-id", List.of("req_train"))));
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            for (int from = 0; from < bytes.length; from += CHUNK) {
                runner.send(new HostMessage.ModelResponseChunk(
                        callId, Arrays.copyOfRange(bytes, from, Math.min(bytes.length, from + CHUNK))));
            }
            runner.send(new HostMessage.ModelResponseEnd(callId, null));
        }
    }

    private static List<Canned> anthropicScript() {
        return List.of(
                anthropic(
                        "I will write two notes.",
                        tool("toolu_w1", "write", "{\"path\":\"notes/a.txt\",\"content\":\"alpha\\nbeta\\n\"}"),
                        tool("toolu_w2", "write", "{\"path\":\"notes/b.md\",\"content\":\"# gamma\\n\"}"),
                        tool("toolu_m1", "remember", "{\"fact\":\"The notes are in notes/.\"}"),
                        tool("toolu_s1", "skill", "{\"name\":\"notes\"}"),
                        tool("toolu_t1", "list_tasks", "{}")),
                anthropic(
                        "",
                        tool(
                                "toolu_e1",
                                "edit",
                                "{\"path\":\"notes/a.txt\",\"old_string\":\"beta\",\"new_string\":\"delta\"}"),
                        tool("toolu_g1", "glob", "{\"pattern\":\"**/*.{txt,md}\"}"),
                        tool("toolu_g2", "grep", "{\"pattern\":\"a$\",\"output_mode\":\"content\"}")),
                anthropic(
                        "Checking.",
                        tool("toolu_r1", "read", "{\"path\":\"notes/a.txt\"}"),
                        tool("toolu_b1", "bash", "{\"command\":\"echo ok && ls notes | wc -l\",\"timeout_ms\":20000}"),
                        tool("toolu_x1", "no_such_tool", "{}")),
                anthropic("The notes are ready: alpha and delta."));
    }

    private static List<Canned> openAiScript() {
        return List.of(openAi("", tool("call_r1", "read", "{\"path\":\"notes/b.md\"}")), openAi("It says gamma."));
    }

    private record ToolCall(String id, String name, String json) {}

    private static ToolCall tool(String id, String name, String json) {
        return new ToolCall(id, name, json);
    }

    private static Canned anthropic(String text, ToolCall... calls) {
        StringBuilder sse = new StringBuilder();
        ObjectNode start = node("message_start");
        ObjectNode message = start.putObject("message")
                .put("id", "msg_train")
                .put("type", "message")
                .put("role", "assistant")
                .put("model", "train-model");
        message.putArray("content");
        message.putNull("stop_reason");
        message.putObject("usage")
                .put("input_tokens", 120)
                .put("cache_creation_input_tokens", 10)
                .put("cache_read_input_tokens", 20)
                .put("output_tokens", 1);
        event(sse, "message_start", start);
        int index = 0;
        if (!text.isEmpty()) {
            ObjectNode blockStart = node("content_block_start").put("index", index);
            blockStart.putObject("content_block").put("type", "text").put("text", "");
            event(sse, "content_block_start", blockStart);
            event(sse, "ping", node("ping"));
            for (String word : words(text)) {
                ObjectNode delta = node("content_block_delta").put("index", index);
                delta.putObject("delta").put("type", "text_delta").put("text", word);
                event(sse, "content_block_delta", delta);
            }
            event(sse, "content_block_stop", node("content_block_stop").put("index", index));
            index++;
        }
        for (ToolCall call : calls) {
            ObjectNode blockStart = node("content_block_start").put("index", index);
            ObjectNode block = blockStart.putObject("content_block");
            block.put("type", "tool_use").put("id", call.id()).put("name", call.name());
            block.putObject("input");
            event(sse, "content_block_start", blockStart);
            for (String piece : halves(call.json())) {
                ObjectNode delta = node("content_block_delta").put("index", index);
                delta.putObject("delta").put("type", "input_json_delta").put("partial_json", piece);
                event(sse, "content_block_delta", delta);
            }
            event(sse, "content_block_stop", node("content_block_stop").put("index", index));
            index++;
        }
        ObjectNode messageDelta = node("message_delta");
        messageDelta
                .putObject("delta")
                .put("stop_reason", calls.length == 0 ? "end_turn" : "tool_use")
                .putNull("stop_sequence");
        messageDelta.putObject("usage").put("output_tokens", 42);
        event(sse, "message_delta", messageDelta);
        event(sse, "message_stop", node("message_stop"));
        return new Canned(200, "text/event-stream; charset=utf-8", sse.toString());
    }

    private static Canned anthropicError() {
        ObjectNode body = node("error");
        body.putObject("error").put("type", "invalid_request_error").put("message", "prompt is too long");
        return new Canned(400, "application/json", Wire.mapper().writeValueAsString(body));
    }

    private static Canned openAi(String text, ToolCall... calls) {
        StringBuilder sse = new StringBuilder();
        ObjectNode first =
                Wire.mapper().createObjectNode().put("role", "assistant").put("content", "");
        openAiChunk(sse, first, null);
        for (String word : words(text)) {
            openAiChunk(sse, Wire.mapper().createObjectNode().put("content", word), null);
        }
        for (int i = 0; i < calls.length; i++) {
            ObjectNode opening = Wire.mapper().createObjectNode();
            opening.putArray("tool_calls")
                    .addObject()
                    .put("index", i)
                    .put("id", calls[i].id())
                    .put("type", "function")
                    .putObject("function")
                    .put("name", calls[i].name())
                    .put("arguments", "");
            openAiChunk(sse, opening, null);
            for (String piece : halves(calls[i].json())) {
                ObjectNode more = Wire.mapper().createObjectNode();
                more.putArray("tool_calls")
                        .addObject()
                        .put("index", i)
                        .putObject("function")
                        .put("arguments", piece);
                openAiChunk(sse, more, null);
            }
        }
        openAiChunk(sse, Wire.mapper().createObjectNode(), calls.length == 0 ? "stop" : "tool_calls");
        ObjectNode usage = header();
        usage.putArray("choices");
        usage.putObject("usage")
                .put("prompt_tokens", 150)
                .put("completion_tokens", 12)
                .put("total_tokens", 162)
                .putObject("prompt_tokens_details")
                .put("cached_tokens", 100);
        sse.append("data: ").append(Wire.mapper().writeValueAsString(usage)).append("\n\n");
        sse.append("data: [DONE]\n\n");
        return new Canned(200, "text/event-stream", sse.toString());
    }

    private static void openAiChunk(StringBuilder sse, ObjectNode delta, String finishReason) {
        ObjectNode chunk = header();
        ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
        choice.set("delta", delta);
        if (finishReason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason);
        }
        chunk.putNull("usage");
        sse.append("data: ").append(Wire.mapper().writeValueAsString(chunk)).append("\n\n");
    }

    private static ObjectNode header() {
        return Wire.mapper()
                .createObjectNode()
                .put("id", "chatcmpl-train")
                .put("object", "chat.completion.chunk")
                .put("created", 1_750_000_000L)
                .put("model", "train-model");
    }

    private static void event(StringBuilder sse, String name, ObjectNode data) {
        sse.append("event: ")
                .append(name)
                .append("\ndata: ")
                .append(Wire.mapper().writeValueAsString(data))
                .append("\n\n");
    }

    private static ObjectNode node(String type) {
        return Wire.mapper().createObjectNode().put("type", type);
    }

    private static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        int start = 0;
        for (int i = 1; i <= text.length(); i++) {
            if (i == text.length() || text.charAt(i) == ' ') {
                words.add(text.substring(start, i));
                start = i;
            }
        }
        return words.stream().filter(w -> !w.isEmpty()).toList();
    }

    private static List<String> halves(String json) {
        int middle = json.length() / 2;
        return List.of(json.substring(0, middle), json.substring(middle));
    }

    /** Encodes and decodes every wire message type, including those the turns above do not send. */
    private static void roundTripEveryMessageType() throws IOException {
        ChatMessage mixed = new ChatMessage(
                Role.ASSISTANT,
                List.of(
                        new Part.Text("hi"),
                        new Part.ToolUse(
                                "t1", "bash", Wire.mapper().createObjectNode().put("command", "true")),
                        new Part.ToolResult("t1", "ok", false)));
        List<HostMessage> host = List.of(
                new HostMessage.StartTurn(
                        "t",
                        "system",
                        new ModelSettings(ModelApi.OPENAI, "m", 1),
                        List.of(mixed, ChatMessage.user("u")),
                        new dev.cordon.protocol.ToolRules(Map.of(
                                "bash",
                                new dev.cordon.protocol.ToolRules.Tool(
                                        dev.cordon.protocol.ToolRules.Action.ASK,
                                        List.of("ls *"),
                                        List.of(),
                                        List.of("rm *"))))),
                new HostMessage.ModelResponseHead("c", 200, Map.of("content-type", List.of("text/event-stream"))),
                new HostMessage.ModelResponseChunk("c", new byte[] {1, 2, 3}),
                new HostMessage.ModelResponseEnd("c", "broken"),
                new HostMessage.Shutdown("bye"));
        List<RunnerMessage> runner = List.of(
                new RunnerMessage.Ready(Main.VERSION),
                new RunnerMessage.ModelRequest(
                        "c", ModelApi.ANTHROPIC, "/v1/messages", Map.of("a", "b"), new byte[] {'{', '}'}),
                new RunnerMessage.ModelCancel("c"),
                new RunnerMessage.TextDelta("t", "x"),
                new RunnerMessage.StreamReset("t", "reset"),
                new RunnerMessage.TranscriptAppend("t", mixed),
                new RunnerMessage.TurnEnded("t", "reply", null, new Usage(1, 2, 3, 4)));
        for (HostMessage m : host) {
            check(m, Wire.decode(Wire.encode(m), HostMessage.class));
        }
        for (RunnerMessage m : runner) {
            check(m, Wire.decode(Wire.encode(m), RunnerMessage.class));
        }
        // Stream data skips Wire: FrameChannel writes it as a binary frame, both ways.
        ByteArrayOutputStream up = new ByteArrayOutputStream();
        ByteArrayOutputStream down = new ByteArrayOutputStream();
        RunnerMessage.StreamData data = new RunnerMessage.StreamData("e1", new byte[] {1, 2, 3});
        HostMessage.StreamData answer = new HostMessage.StreamData("e1", new byte[] {4, 5});
        new FrameChannel<HostMessage, RunnerMessage>(InputStream.nullInputStream(), up, HostMessage.class, () -> {})
                .send(data);
        new FrameChannel<RunnerMessage, HostMessage>(InputStream.nullInputStream(), down, RunnerMessage.class, () -> {})
                .send(answer);
        check(
                data,
                new FrameChannel<RunnerMessage, HostMessage>(
                                new ByteArrayInputStream(up.toByteArray()),
                                OutputStream.nullOutputStream(),
                                RunnerMessage.class,
                                () -> {})
                        .receive());
        check(
                answer,
                new FrameChannel<HostMessage, RunnerMessage>(
                                new ByteArrayInputStream(down.toByteArray()),
                                OutputStream.nullOutputStream(),
                                HostMessage.class,
                                () -> {})
                        .receive());
    }

    private static void check(Object sent, Object received) {
        if (sent.getClass() != received.getClass()) {
            throw new IllegalStateException("round trip turned " + sent + " into " + received);
        }
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        } catch (IOException | java.io.UncheckedIOException e) {
            // a leftover directory in the sandbox's private /tmp goes away with the sandbox
        }
    }
}
