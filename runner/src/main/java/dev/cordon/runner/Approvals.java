package dev.cordon.runner;

import dev.cordon.protocol.HostMessage.ApprovalDecision;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.RunnerMessage.ApprovalRequest;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * Approval requests over the host channel: {@link #ask} sends an {@code approval_request} and
 * blocks until the host's {@code approval_decision} with the same id arrives, which the channel's
 * reader thread hands to {@link #dispatch}. Thread-safe: parallel tool calls may wait at once.
 */
final class Approvals implements AgentLoop.Approver {
    private final Consumer<RunnerMessage> host;
    private final Map<String, CompletableFuture<ApprovalDecision>> waiting = new ConcurrentHashMap<>();
    private volatile boolean closed;

    Approvals(Consumer<RunnerMessage> host) {
        this.host = host;
    }

    /**
     * Asks the host and waits, without a time limit of its own: the host decides when a request
     * expires (and answers "denied"). If the host goes away or the thread is interrupted, the
     * answer is a denial saying so.
     */
    @Override
    public ApprovalDecision ask(ApprovalRequest request) {
        CompletableFuture<ApprovalDecision> answer = new CompletableFuture<>();
        waiting.put(request.requestId(), answer);
        try {
            if (closed) {
                return new ApprovalDecision(request.requestId(), false, "the host connection is closed");
            }
            host.accept(request);
            return answer.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ApprovalDecision(request.requestId(), false, "the runner stopped waiting (interrupted)");
        } catch (ExecutionException e) {
            return new ApprovalDecision(request.requestId(), false, "no answer: " + e.getCause());
        } finally {
            waiting.remove(request.requestId());
        }
    }

    /** Hands a decision to the call waiting for it; a decision nobody waits for is ignored. */
    void dispatch(ApprovalDecision decision) {
        CompletableFuture<ApprovalDecision> answer = waiting.get(decision.requestId());
        if (answer != null) {
            answer.complete(decision);
        }
    }

    /** Denies every waiting request: the host is gone. */
    void failAll() {
        closed = true;
        waiting.forEach((id, answer) ->
                answer.complete(new ApprovalDecision(id, false, "the host connection closed before an answer")));
    }
}
