package dev.cordon.runner;

import dev.cordon.protocol.HostMessage.HostToolResult;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.runner.tools.ToolOutput;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * Host tool calls over the host channel, as {@link Approvals} does approvals: {@link #call} sends a
 * {@code host_tool_call} and blocks until the {@code host_tool_result} with the same id, which the
 * channel's reader thread hands to {@link #dispatch}. No time limit of its own: the host answers
 * (after a person, when a rule says ask). Thread-safe.
 */
final class HostCalls {
    private final Consumer<RunnerMessage> host;
    private final Map<String, CompletableFuture<HostToolResult>> waiting = new ConcurrentHashMap<>();
    private volatile boolean closed;

    HostCalls(Consumer<RunnerMessage> host) {
        this.host = host;
    }

    ToolOutput call(String tool, Map<String, String> arguments) {
        String id = UUID.randomUUID().toString();
        CompletableFuture<HostToolResult> answer = new CompletableFuture<>();
        waiting.put(id, answer);
        try {
            if (closed) {
                return ToolOutput.error("the host connection is closed");
            }
            host.accept(new RunnerMessage.HostToolCall(id, tool, arguments));
            HostToolResult result = answer.get();
            return result.error() ? ToolOutput.error(result.text()) : ToolOutput.ok(result.text());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ToolOutput.error("the runner stopped waiting for the host (interrupted)");
        } catch (ExecutionException e) {
            return ToolOutput.error("no answer from the host: " + e.getCause());
        } finally {
            waiting.remove(id);
        }
    }

    void dispatch(HostToolResult result) {
        CompletableFuture<HostToolResult> answer = waiting.get(result.requestId());
        if (answer != null) {
            answer.complete(result);
        }
    }

    void failAll() {
        closed = true;
        waiting.forEach((id, answer) ->
                answer.complete(new HostToolResult(id, "the host connection closed before an answer", true)));
    }
}
