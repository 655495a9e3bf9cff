package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent that abuses its resources through a real daemon: the abuse is stopped, a neighbour agent
 * on the same daemon keeps answering meanwhile, and the abuser's session is told what happened.
 * The model is scripted; when its queue is empty it echoes ("You said: ..."), which is what the
 * neighbour gets.
 */
class ResourceAbuseTest {
    @TempDir
    Path home;

    FakeModelServer model;
    Daemon daemon;

    @BeforeEach
    void start() throws IOException {
        model = FakeModelServer.start();
        Files.createDirectories(home.resolve("agents/main"));
        Files.createDirectories(home.resolve("agents/neighbour"));
    }

    @AfterEach
    void stop() throws IOException {
        if (daemon != null) {
            daemon.close();
        }
        model.close();
        // A workspace quota left mounted would make the home undeletable: say so here, by name.
        String home = " " + this.home.toRealPath() + "/";
        assertThat(Files.readAllLines(Path.of("/proc/self/mountinfo")))
                .as("mounts left in the daemon's home after it stopped")
                .noneMatch(line -> line.contains(home));
    }

    void startDaemon(String mainPolicy) throws IOException {
        Files.writeString(home.resolve("agents/main/policy.yaml"), mainPolicy);
        daemon = EndToEndTest.startOn(home, model);
    }

    /** Sends to {@code agent} and returns the reply once it comes, without blocking the caller. */
    CompletableFuture<ControlEvent.Reply> send(String agent, String text) {
        CompletableFuture<ControlEvent.Reply> reply = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                reply.complete(client.ask(agent, text));
            } catch (IOException | InterruptedException | RuntimeException e) {
                reply.completeExceptionally(e);
            }
        });
        return reply;
    }

    /** Waits until the abuse is under way: the attacker's tool call was handed out. */
    void awaitToolCallServed() throws InterruptedException {
        for (int i = 0; i < 6_000 && (model.queued() > 0 || model.requests().isEmpty()); i++) {
            Thread.sleep(10);
        }
        assertThat(model.queued()).isZero();
        Thread.sleep(1_000);
    }

    ControlEvent.StatusReport status() throws Exception {
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.Status());
            return client.await(ControlEvent.StatusReport.class);
        }
    }

    void neighbourStillAnswers() throws Exception {
        ControlEvent.Reply reply = send("neighbour", "ping").get(60, TimeUnit.SECONDS);
        assertThat(reply.failed()).as(reply.text()).isFalse();
        assertThat(reply.text()).isEqualTo("You said: ping");
    }

    String lastToolResult() {
        List<RecordedRequest> requests = model.requests();
        for (int i = requests.size() - 1; i >= 0; i--) {
            List<String> results = EndToEndTest.toolResults(requests.get(i));
            if (!results.isEmpty()) {
                return results.getLast();
            }
        }
        return "";
    }

    @Test
    void aForkBombHitsTheProcessLimitTheNeighbourKeepsAnsweringAndTheSandboxIsRecycled() throws Exception {
        startDaemon("sandbox:\n  pids: 128\n");
        model.enqueue(Scripted.toolCall(
                "bash", "{\"command\":\"b(){ b|b& }; b; sleep 4; echo bomb-parent-done\",\"timeout_ms\":30000}"));

        CompletableFuture<ControlEvent.Reply> bombed = send("main", "fork yourself");
        awaitToolCallServed();
        ControlEvent.LiveSandbox during = sandboxOf("main", status());
        neighbourStillAnswers();
        ControlEvent.Reply reply = bombed.get(120, TimeUnit.SECONDS);

        assertThat(during.pidsLimitHits()).isPositive();
        assertThat(during.pids()).isLessThanOrEqualTo(128);
        // Two ways out, both stopping the bomb, both telling the session: the turn ends and the
        // host recycles the sandbox, or forks keep failing until the host kills it mid-turn.
        if (reply.failed()) {
            assertThat(reply.text()).contains("kept reaching its process limit (sandbox.pids)");
        } else {
            assertThat(lastToolResult()).contains("Resource temporarily unavailable");
            assertThat(reply.text()).contains("reached the sandbox's process limit", "The sandbox was restarted");
        }
        assertThat(status().sandboxes()).noneMatch(s -> s.sandboxId().equals(during.sandboxId()));
        ControlEvent.Reply after = send("main", "are you back?").get(60, TimeUnit.SECONDS);
        assertThat(after.text()).isEqualTo("You said: are you back?");
        assertThat(toolResultsSeenBy(model.requests().getLast()))
                .as("the model is told about the limit in the transcript")
                .anyMatch(t -> t.contains("process limit"));
    }

    @Test
    void aForkBombThatOutlastsTheTurnIsKilledByTheHostWithinSeconds() throws Exception {
        startDaemon("sandbox:\n  pids: 128\n");
        model.enqueue(Scripted.toolCall(
                "bash", "{\"command\":\"b(){ b|b& }; b; sleep 100; echo never\",\"timeout_ms\":120000}"));

        ControlEvent.Reply reply = send("main", "fork forever").get(60, TimeUnit.SECONDS);

        assertThat(reply.failed()).isTrue();
        assertThat(reply.text()).contains("kept reaching its process limit (sandbox.pids)");
        assertThat(status().sandboxes()).isEmpty();
        neighbourStillAnswers();
    }

    @Test
    void aCpuSpinIsCutOffAtItsToolTimeoutWhileTheNeighbourKeepsAnswering() throws Exception {
        startDaemon("sandbox:\n  cpu_millicores: 500\n");
        model.enqueue(Scripted.toolCall("bash", "{\"command\":\"while :; do :; done\",\"timeout_ms\":5000}"));

        CompletableFuture<ControlEvent.Reply> spun = send("main", "spin");
        awaitToolCallServed();
        neighbourStillAnswers();
        ControlEvent.Reply reply = spun.get(120, TimeUnit.SECONDS);

        assertThat(reply.failed()).isFalse();
        assertThat(lastToolResult()).contains("timed out after 5000 ms");
        ControlEvent.LiveSandbox after = sandboxOf("main", status());
        assertThat(after.pids())
                .as("the spinning shell is gone; only the runner's threads are left")
                .isLessThan(40);
    }

    @Test
    void aToolThatOutlivesTheHostsToolTimeoutGetsItsSandboxKilledAndTheSessionIsToldWhy() throws Exception {
        startDaemon("sandbox:\n  tool_timeout_seconds: 3\n");
        model.enqueue(Scripted.toolCall("bash", "{\"command\":\"sleep 60\",\"timeout_ms\":120000}"));

        ControlEvent.Reply reply = send("main", "sleep").get(60, TimeUnit.SECONDS);

        assertThat(reply.failed()).isTrue();
        assertThat(reply.text()).contains("ran longer than the host's limit of 3.0 s", "sandbox.tool_timeout_seconds");
        assertThat(status().sandboxes()).isEmpty();
        neighbourStillAnswers();
    }

    @Test
    void fillingTmpGetsNoSpaceLeftAndNothingElseBreaks() throws Exception {
        startDaemon("sandbox:\n  memory_mb: 1024\n");
        model.enqueue(Scripted.toolCall(
                "bash", "{\"command\":\"head -c 400M /dev/zero > /tmp/fill; echo exit=$?; df -k /tmp | tail -1\"}"));

        ControlEvent.Reply reply = send("main", "fill tmp").get(120, TimeUnit.SECONDS);

        assertThat(reply.failed()).isFalse();
        assertThat(lastToolResult()).contains("No space left on device", "exit=1");
        neighbourStillAnswers();
        assertThat(send("main", "still fine?").get(60, TimeUnit.SECONDS).text()).isEqualTo("You said: still fine?");
    }

    @Test
    void fillingTheWorkspaceStopsAtItsQuotaAndTheQuotaIsUnmountedWithTheDaemon() throws Exception {
        startDaemon("sandbox:\n  disk_mb: 64\n");
        model.enqueue(Scripted.toolCall(
                "bash",
                "{\"command\":\"echo keep > /workspace/notes.txt; head -c 100M /dev/zero > /workspace/big;"
                        + " echo exit=$?; rm /workspace/big; cat /workspace/notes.txt\"}"));

        ControlEvent.Reply reply = send("main", "fill the disk").get(120, TimeUnit.SECONDS);

        assertThat(reply.failed()).isFalse();
        assertThat(lastToolResult()).contains("No space left on device", "exit=1", "keep");
        Path workspace = home.resolve("agents/main/workspace");
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).contains(" " + workspace + " ");
        assertThat(Files.size(home.resolve("agents/main/workspace.img"))).isEqualTo(64L << 20);
        neighbourStillAnswers();

        daemon.close();
        daemon = null;
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(" " + workspace + " ");
    }

    static ControlEvent.LiveSandbox sandboxOf(String agent, ControlEvent.StatusReport status) {
        return status.sandboxes().stream()
                .filter(s -> s.agent().equals(agent))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no live sandbox for " + agent + ": " + status.sandboxes()));
    }

    /** Every text the request carries: tool results and the assistant's earlier messages. */
    static List<String> toolResultsSeenBy(RecordedRequest request) {
        List<String> texts = new java.util.ArrayList<>(EndToEndTest.toolResults(request));
        request.body().get("messages").forEach(m -> texts.add(m.toString()));
        return texts;
    }
}
