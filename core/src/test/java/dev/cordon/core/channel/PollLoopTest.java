package dev.cordon.core.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PollLoopTest {
    final PollLoop loop =
            new PollLoop("Example", new Backoff(Duration.ofMillis(1), Duration.ofMillis(4), new SplittableRandom(5)));

    @Test
    void aFailingStepIsRetriedAndItsTroubleKeptUntilAStepWorks() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<String> troublesSeen = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        loop.start("example-poll", () -> {
            troublesSeen.add(String.valueOf(loop.trouble()));
            switch (calls.incrementAndGet()) {
                case 1, 2 -> throw new IOException("connection refused");
                case 3 -> {
                    return loop.troubled("the platform said no", Duration.ofMillis(1));
                }
                case 4 -> loop.worked();
                default -> done.countDown();
            }
            return Duration.ZERO;
        });

        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        loop.close();
        assertThat(troublesSeen.subList(0, 5))
                .containsExactly(
                        "null",
                        "cannot reach Example: connection refused",
                        "cannot reach Example: connection refused",
                        "the platform said no",
                        "null");
        assertThat(loop.trouble()).isNull();
    }

    @Test
    void aStepThatGivesUpEndsTheLoopWithItsReason() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        loop.start("example-poll", () -> {
            calls.incrementAndGet();
            return loop.gaveUp("the token was rejected");
        });

        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (loop.running() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(loop.running()).isFalse();
        assertThat(loop.gaveUp()).isTrue();
        assertThat(calls).hasValue(1);
        assertThat(loop.trouble()).isEqualTo("the token was rejected");
    }

    @Test
    void closeEndsAStepThatBlocksAndTheLoopStartsOnlyOnce() {
        CountDownLatch blocked = new CountDownLatch(1);
        loop.start("example-poll", () -> {
            blocked.countDown();
            Thread.sleep(Duration.ofMinutes(10));
            return Duration.ZERO;
        });
        assertThatThrownBy(() -> loop.start("again", () -> Duration.ZERO)).hasMessageContaining("already started");

        loop.close();

        assertThat(loop.closed()).isTrue();
        loop.troubled("after close");
        assertThat(loop.trouble()).as("a failure while closing is no trouble").isNull();
    }
}
