package dev.cordon.runner;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.HostMessage.StartTurn;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Role;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.Usage;
import dev.cordon.runner.model.ModelCall;
import dev.cordon.runner.model.ModelClient;
import dev.cordon.runner.model.ModelException;
import dev.cordon.runner.model.ModelReply;
import dev.cordon.runner.model.StreamListener;
import dev.cordon.runner.model.ToolSpec;
import dev.cordon.runner.tools.Tool;
import dev.cordon.runner.tools.ToolOutput;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * One agent turn: call the model, run the tools it asks for (inside this sandbox, in parallel),
 * feed the results back, until the model ends the turn. Every message the turn adds is reported
 * to the host as it happens; the host stores the transcript. Checks done here are convenience;
 * anything with an effect outside the sandbox is a host RPC the host checks (invariant 3).
 */
final class AgentLoop {
    /** A turn that keeps asking for tools this many times is stopped: a runaway loop costs money. */
    static final int MAX_TOOL_ROUNDS = 50;

    private final Map<ModelApi, ModelClient> clients;
    private final Map<String, Tool> tools = new LinkedHashMap<>();
    private final List<ToolSpec> specs;
    private final Consumer<RunnerMessage> host;

    AgentLoop(Map<ModelApi, ModelClient> clients, List<Tool> tools, Consumer<RunnerMessage> host) {
        this.clients = Map.copyOf(clients);
        tools.forEach(t -> this.tools.put(t.spec().name(), t));
        this.specs = tools.stream().map(Tool::spec).toList();
        this.host = host;
    }

    void run(StartTurn turn) {
        String turnId = turn.turnId();
        Usage usage = Usage.ZERO;
        ModelClient client = clients.get(turn.model().api());
        List<ChatMessage> messages = new ArrayList<>(turn.transcript());
        StreamListener listener = new StreamListener() {
            @Override
            public void onText(String delta) {
                host.accept(new RunnerMessage.TextDelta(turnId, delta));
            }

            @Override
            public void onReset(String reason) {
                host.accept(new RunnerMessage.StreamReset(turnId, reason));
            }
        };
        try {
            for (int round = 0; round < MAX_TOOL_ROUNDS; round++) {
                ModelReply reply = client.complete(
                        new ModelCall(
                                turn.model().model(),
                                turn.systemPrompt(),
                                messages,
                                specs,
                                turn.model().maxTokens()),
                        listener);
                usage = usage.plus(reply.usage());
                messages.add(reply.message());
                host.accept(new RunnerMessage.TranscriptAppend(turnId, reply.message()));
                List<Part.ToolUse> uses = reply.message().toolUses();
                if (uses.isEmpty()) {
                    host.accept(
                            new RunnerMessage.TurnEnded(turnId, reply.message().text(), null, usage));
                    return;
                }
                ChatMessage results = new ChatMessage(Role.USER, runTools(uses));
                messages.add(results);
                host.accept(new RunnerMessage.TranscriptAppend(turnId, results));
            }
            host.accept(new RunnerMessage.TurnEnded(
                    turnId, null, "The agent stopped after " + MAX_TOOL_ROUNDS + " rounds of tool calls.", usage));
        } catch (ModelException e) {
            host.accept(new RunnerMessage.TurnEnded(turnId, null, "The model call failed: " + e.getMessage(), usage));
        }
    }

    private List<Part> runTools(List<Part.ToolUse> uses) {
        if (uses.size() == 1) {
            return List.of(runTool(uses.getFirst()));
        }
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Part.ToolResult>> futures =
                    uses.stream().map(use -> pool.submit(() -> runTool(use))).toList();
            List<Part> results = new ArrayList<>();
            for (int i = 0; i < futures.size(); i++) {
                try {
                    results.add(futures.get(i).get());
                } catch (ExecutionException e) {
                    results.add(new Part.ToolResult(uses.get(i).id(), "tool crashed: " + e.getCause(), true));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    results.add(new Part.ToolResult(uses.get(i).id(), "tool interrupted", true));
                }
            }
            return results;
        }
    }

    private Part.ToolResult runTool(Part.ToolUse use) {
        Tool tool = tools.get(use.name());
        if (tool == null) {
            return new Part.ToolResult(
                    use.id(), "unknown tool '" + use.name() + "'; available: " + tools.keySet(), true);
        }
        ToolOutput output = tool.run(use.input());
        return new Part.ToolResult(use.id(), output.content(), output.isError());
    }
}
