package dev.cordon.runner;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.HostMessage.ApprovalDecision;
import dev.cordon.protocol.HostMessage.StartTurn;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Role;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.ToolRules;
import dev.cordon.protocol.Usage;
import dev.cordon.runner.mcp.McpHub;
import dev.cordon.runner.model.ModelCall;
import dev.cordon.runner.model.ModelClient;
import dev.cordon.runner.model.ModelException;
import dev.cordon.runner.model.ModelReply;
import dev.cordon.runner.model.StreamListener;
import dev.cordon.runner.model.ToolSpec;
import dev.cordon.runner.tools.Memory;
import dev.cordon.runner.tools.Skills;
import dev.cordon.runner.tools.Tool;
import dev.cordon.runner.tools.ToolOutput;
import dev.cordon.runner.tools.Tools;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import tools.jackson.databind.JsonNode;

/**
 * One agent turn: call the model, run the tools it asks for (inside this sandbox, in parallel),
 * feed the results back, until the model ends the turn. Every message the turn adds is reported
 * to the host as it happens; the host stores the transcript. Checks done here are convenience;
 * anything with an effect outside the sandbox is a host RPC the host checks (invariant 3).
 *
 * <p>Before each tool call the turn's {@link ToolRules} decide: {@code deny} turns the call into an
 * error result naming the rule, {@code ask} asks the host for a person's approval and waits. These
 * rules are a guardrail for a well-behaved runner, not a wall: the sandbox is the wall.
 */
final class AgentLoop {
    /** A turn that keeps asking for tools this many times is stopped: a runaway loop costs money. */
    static final int MAX_TOOL_ROUNDS = 50;

    /** Longest one-line summary of a tool call in an approval request; the payload holds it all. */
    static final int SUMMARY_CHARS = 200;

    /** Gets a person's answer to an approval request. Blocks until it comes; never throws. */
    @FunctionalInterface
    interface Approver {
        ApprovalDecision ask(RunnerMessage.ApprovalRequest request);
    }

    private final Map<ModelApi, ModelClient> clients;
    private final List<Tool> builtins;
    private final McpHub mcp;
    private final Consumer<RunnerMessage> host;
    private final Approver approver;
    private final String workspace;
    private final Memory memory;
    private final String skills;

    /**
     * @param workspace where the agent's workspace is in this process's view; paths under it are
     *     matched by tool rules as paths under {@link ToolRules#WORKSPACE}
     */
    AgentLoop(
            Map<ModelApi, ModelClient> clients,
            List<Tool> tools,
            Consumer<RunnerMessage> host,
            Approver approver,
            Path workspace,
            Skills skills,
            McpHub mcp) {
        this.clients = Map.copyOf(clients);
        this.builtins = List.copyOf(tools);
        this.mcp = mcp;
        this.host = host;
        this.approver = approver;
        this.workspace = workspace.toAbsolutePath().normalize().toString();
        this.memory = new Memory(workspace);
        this.skills = skills.section();
    }

    void run(StartTurn turn) {
        String turnId = turn.turnId();
        Usage usage = Usage.ZERO;
        ModelClient client = clients.get(turn.model().api());
        List<ChatMessage> messages = new ArrayList<>(turn.transcript());
        ToolRules.Evaluator rules = turn.toolRules().evaluator();
        // The host's prompt, the skills, then the agent's own memory: read once a turn, so every
        // call of the turn sends the same bytes (the provider's prompt cache keys on them).
        McpHub.Turn servers = mcp.tools(turn.mcpServers());
        Map<String, Tool> tools = new LinkedHashMap<>();
        builtins.forEach(t -> tools.put(t.spec().name(), t));
        servers.tools().forEach(t -> tools.putIfAbsent(t.spec().name(), t));
        List<ToolSpec> specs = tools.values().stream().map(Tool::spec).toList();
        String system = turn.systemPrompt() + skills + servers.note() + memory.section();
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
                                system,
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
                ChatMessage results = new ChatMessage(Role.USER, runTools(turnId, tools, rules, uses));
                messages.add(results);
                host.accept(new RunnerMessage.TranscriptAppend(turnId, results));
            }
            host.accept(new RunnerMessage.TurnEnded(
                    turnId, null, "The agent stopped after " + MAX_TOOL_ROUNDS + " rounds of tool calls.", usage));
        } catch (ModelException e) {
            host.accept(new RunnerMessage.TurnEnded(turnId, null, "The model call failed: " + e.getMessage(), usage));
        }
    }

    private List<Part> runTools(
            String turnId, Map<String, Tool> tools, ToolRules.Evaluator rules, List<Part.ToolUse> uses) {
        if (uses.size() == 1) {
            return List.of(runTool(turnId, tools, rules, uses.getFirst()));
        }
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Part.ToolResult>> futures = uses.stream()
                    .map(use -> pool.submit(() -> runTool(turnId, tools, rules, use)))
                    .toList();
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

    private Part.ToolResult runTool(
            String turnId, Map<String, Tool> tools, ToolRules.Evaluator rules, Part.ToolUse use) {
        Tool tool = tools.get(use.name());
        if (tool == null) {
            return new Part.ToolResult(
                    use.id(), "unknown tool '" + use.name() + "'; available: " + tools.keySet(), true);
        }
        // A host tool's rules are applied by the host, the only place they bind: deciding here too
        // would ask a person twice.
        ToolRules.Decision decision = tool.rulesAppliedByHost()
                ? new ToolRules.Decision(ToolRules.Action.ALLOW, "applied by the host")
                : rules.decide(use.name(), subject(use.name(), use.input()));
        switch (decision.action()) {
            case ALLOW -> {}
            case DENY -> {
                return new Part.ToolResult(
                        use.id(),
                        "Denied by the agent's policy: rule " + decision.rule() + " forbids this " + use.name()
                                + " call, so it did not run. Do not retry it in another form; if it is needed,"
                                + " ask the operator, who can change the tools section of the agent's policy.yaml.",
                        true);
            }
            case ASK -> {
                ApprovalDecision answer = approver.ask(new RunnerMessage.ApprovalRequest(
                        UUID.randomUUID().toString(),
                        turnId,
                        "tool." + use.name(),
                        summary(use, decision),
                        payload(use.input())));
                if (!answer.granted()) {
                    return new Part.ToolResult(
                            use.id(),
                            "Not approved, so this " + use.name() + " call did not run (rule " + decision.rule()
                                    + " asks a person first): " + answer.reason(),
                            true);
                }
            }
        }
        ToolOutput output = tool.run(use.input());
        return new Part.ToolResult(use.id(), output.content(), output.isError());
    }

    /**
     * What the tool rules match: the command for {@code bash}, the normalised path for the file
     * tools (the search root for {@code glob} and {@code grep}, the workspace when none is given).
     */
    String subject(String tool, JsonNode input) {
        boolean command = ToolRules.COMMAND_TOOLS.contains(tool);
        JsonNode field = input == null ? null : input.get(command ? "command" : "path");
        String value = field != null && field.isString() ? field.asString() : null;
        if (command) {
            return value;
        }
        if (!ToolRules.PATH_TOOLS.contains(tool)) {
            return null;
        }
        if (value == null) {
            if (!tool.equals("glob") && !tool.equals("grep")) {
                return null;
            }
            value = ToolRules.WORKSPACE;
        }
        if (tool.equals("glob")) {
            // A pattern such as /etc/* searches /etc whatever the path: match where the walk starts.
            JsonNode pattern = input == null ? null : input.get("pattern");
            String base = pattern != null && pattern.isString() ? Tools.globBase(pattern.asString()) : "";
            if (!base.isEmpty()) {
                value = base.startsWith("/") ? base : value + "/" + base;
            }
        }
        String path = ToolRules.normalisePath(value);
        // Outside a sandbox (tests, a developer's machine) the workspace is elsewhere: match it as
        // /workspace, so that one policy means the same everywhere.
        if (!workspace.equals(ToolRules.WORKSPACE)) {
            if (path.equals(workspace)) {
                return ToolRules.WORKSPACE;
            }
            if (path.startsWith(workspace + "/")) {
                return ToolRules.WORKSPACE + path.substring(workspace.length());
            }
        }
        return path;
    }

    private static String summary(Part.ToolUse use, ToolRules.Decision decision) {
        JsonNode input = use.input();
        String main;
        if (input != null && input.has("command")) {
            main = input.get("command").asString("");
        } else if (input != null && input.has("path")) {
            main = input.get("path").asString("");
        } else {
            main = String.valueOf(input);
        }
        String line = use.name() + ": " + main.replace('\n', ' ').replace('\r', ' ');
        if (line.length() > SUMMARY_CHARS) {
            line = line.substring(0, SUMMARY_CHARS - 1) + "…";
        }
        return line + " (" + decision.rule() + ")";
    }

    /** The whole input, every field as a string: an approver sees everything the tool would get. */
    private static Map<String, String> payload(JsonNode input) {
        Map<String, String> payload = new TreeMap<>();
        if (input != null && input.isObject()) {
            input.properties()
                    .forEach(e -> payload.put(
                            e.getKey(),
                            e.getValue().isString()
                                    ? e.getValue().asString()
                                    : e.getValue().toString()));
        } else {
            payload.put("input", String.valueOf(input));
        }
        return payload;
    }
}
