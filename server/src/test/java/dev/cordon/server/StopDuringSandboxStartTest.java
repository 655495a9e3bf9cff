package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.protocol.HostMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon stops while a session's sandbox is still starting. The sandbox that comes up after
 * the stop must be stopped at once, not handed a turn and left running: in a daemon embedded in a
 * longer-lived process nothing else would ever stop it.
 */
class StopDuringSandboxStartTest {
    @TempDir
    Path homeDir;

    @Test
    void aSandboxThatFinishesStartingAfterTheStopIsStoppedAndGetsNoTurn() throws Exception {
        CountDownLatch launching = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        SlowRunner runner = new SlowRunner();
        try (SessionRig rig = new SessionRig(homeDir, "", (agent, session) -> {
            launching.countDown();
            try {
                stopped.await(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return runner;
        })) {
            rig.send("m1", "hello");
            assertThat(launching.await(1, TimeUnit.MINUTES)).isTrue();

            rig.sessions.close();
            stopped.countDown();

            await().atMost(Duration.ofSeconds(20)).until(() -> runner.closed);
            assertThat(runner.sent).noneMatch(m -> m instanceof HostMessage.StartTurn);
            // On record as started and stopped, like any other sandbox.
            assertThat(rig.events("sandbox.start")).hasSize(1);
            assertThat(rig.events("sandbox.stop"))
                    .singleElement()
                    .satisfies(e -> assertThat(e.reason()).contains("the daemon is stopping"));
            // Its message stays claimed, not answered: the next start puts it back and redoes the turn.
            assertThat(rig.store.releaseClaims()).isEqualTo(1);
            assertThat(rig.store.sessionsWithPending()).hasSize(1);
        }
    }

    /** A runner that records what the host sends it and answers nothing. */
    private static final class SlowRunner extends QueuedRunnerLink {
        final List<HostMessage> sent = new CopyOnWriteArrayList<>();

        @Override
        public void send(HostMessage message) {
            sent.add(message);
        }
    }
}
