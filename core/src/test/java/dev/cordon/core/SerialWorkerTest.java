package dev.cordon.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SerialWorkerTest {

    @Test
    void neverRunsTheJobTwiceAtOnceAndNeverLosesAWake() throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();
        AtomicInteger pending = new AtomicInteger();
        AtomicInteger handled = new AtomicInteger();
        SerialWorker worker = new SerialWorker("test", () -> {
            int now = running.incrementAndGet();
            maxRunning.accumulateAndGet(now, Math::max);
            // Like a session draining its inbox: take everything that is pending right now.
            handled.addAndGet(pending.getAndSet(0));
            running.decrementAndGet();
        });
        int threads = 16;
        int wakesEach = 2_000;
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            Thread.ofVirtual().start(() -> {
                for (int i = 0; i < wakesEach; i++) {
                    pending.incrementAndGet();
                    worker.wake();
                }
                done.countDown();
            });
        }
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < 3_000 && handled.get() < threads * wakesEach; i++) {
            Thread.sleep(10);
        }
        assertThat(handled.get()).isEqualTo(threads * wakesEach);
        assertThat(maxRunning.get()).isEqualTo(1);
    }

    @Test
    void aFailingJobRunsAgainOnTheNextWake() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        CountDownLatch second = new CountDownLatch(1);
        SerialWorker worker = new SerialWorker("test", () -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("boom");
            }
            second.countDown();
        });
        worker.wake();
        for (int i = 0; i < 500 && calls.get() == 0; i++) {
            Thread.sleep(10);
        }
        worker.wake();
        assertThat(second.await(10, TimeUnit.SECONDS)).isTrue();
    }
}
