package dev.cordon.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.HostMessage.ApprovalDecision;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.RunnerMessage.ApprovalRequest;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 1, unit = TimeUnit.MINUTES) // a hang guard, not a performance assertion
class ApprovalsTest {
    private final BlockingQueue<RunnerMessage> sent = new LinkedBlockingQueue<>();
    private final Approvals approvals = new Approvals(sent::add);

    @Test
    void theHostGoingAwayEndsAWaitWithADenialAndLaterRequestsAreDeniedWithoutAsking() throws Exception {
        CompletableFuture<ApprovalDecision> waiting = CompletableFuture.supplyAsync(() -> approvals.ask(request("r1")));
        assertThat(sent.take()).isEqualTo(request("r1"));

        approvals.failAll();

        ApprovalDecision decision = waiting.get();
        assertThat(decision.granted()).isFalse();
        assertThat(decision.reason()).contains("host connection closed");
        assertThat(approvals.ask(request("r2")).granted()).isFalse();
        assertThat(sent).isEmpty();
    }

    @Test
    void anInterruptedWaitIsADenialAndKeepsTheInterruptFlag() throws Exception {
        CompletableFuture<Boolean> flag = new CompletableFuture<>();
        CompletableFuture<ApprovalDecision> answer = new CompletableFuture<>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            answer.complete(approvals.ask(request("r3")));
            flag.complete(Thread.currentThread().isInterrupted());
        });
        sent.take();

        waiter.interrupt();

        assertThat(answer.get().granted()).isFalse();
        assertThat(answer.get().reason()).contains("interrupted");
        assertThat(flag.get()).isTrue();
    }

    private static ApprovalRequest request(String id) {
        return new ApprovalRequest(id, "turn-1", "tool.bash", "bash: ls", Map.of("command", "ls"));
    }
}
