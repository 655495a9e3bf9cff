package dev.cordon.core.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.SessionId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AdmissionTest {
    static final long GIB = 1L << 30;

    static SessionId s(long id) {
        return new SessionId(id);
    }

    static AgentId a(long id) {
        return new AgentId(id);
    }

    /** Acquires on a virtual thread; the future completes when the slot is granted. */
    static CompletableFuture<Void> acquireLater(Admission admission, long agent, long session, List<Integer> places) {
        CompletableFuture<Void> granted = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                admission.acquire(a(agent), s(session), GIB, places::add);
                granted.complete(null);
            } catch (InterruptedException e) {
                granted.completeExceptionally(e);
            }
        });
        return granted;
    }

    static void awaitQueued(Admission admission, int count) throws InterruptedException {
        for (int i = 0; i < 500 && admission.snapshot().queued().size() < count; i++) {
            Thread.sleep(10);
        }
        assertThat(admission.snapshot().queued()).hasSize(count);
    }

    @Test
    void sessionsThatFitGetASlotAtOnceAndTheRestWaitInLine() throws Exception {
        Admission admission = new Admission(2, 100 * GIB);
        admission.acquire(a(1), s(1), GIB, p -> {});
        admission.acquire(a(1), s(2), GIB, p -> {});
        List<Integer> places = new CopyOnWriteArrayList<>();

        CompletableFuture<Void> third = acquireLater(admission, 2, 3, places);
        awaitQueued(admission, 1);
        // The place is told after the waiter is queued, outside the lock.
        for (int i = 0; i < 500 && places.isEmpty(); i++) {
            Thread.sleep(10);
        }

        assertThat(third).isNotDone();
        assertThat(places).containsExactly(1);
        admission.release(s(1));
        third.get(5, TimeUnit.SECONDS);
        assertThat(admission.snapshot().live()).isEqualTo(2);
        assertThat(admission.holds(s(3))).isTrue();
    }

    @Test
    void aBusyAgentCannotStarveTheOthersTheQueuesAreServedRoundRobin() throws Exception {
        Admission admission = new Admission(1, 100 * GIB);
        admission.acquire(a(9), s(100), GIB, p -> {});
        List<Long> order = new CopyOnWriteArrayList<>();
        List<CompletableFuture<Void>> waiting = new ArrayList<>();
        // Agent 1 asks for five sandboxes first, then agents 2 and 3 one each.
        long[][] asks = {{1, 1}, {1, 2}, {1, 3}, {1, 4}, {1, 5}, {2, 6}, {3, 7}};
        for (long[] ask : asks) {
            CompletableFuture<Void> f = acquireLater(admission, ask[0], ask[1], new ArrayList<>());
            f.thenRun(() -> order.add(ask[1]));
            waiting.add(f);
            awaitQueued(admission, waiting.size());
        }

        long holder = 100;
        for (int i = 0; i < asks.length; i++) {
            admission.release(s(holder));
            int served = i + 1;
            for (int t = 0; t < 500 && order.size() < served; t++) {
                Thread.sleep(10);
            }
            holder = order.get(i);
        }

        // Agent 1's first, then agent 2's and agent 3's before agent 1's second.
        assertThat(order).containsExactly(1L, 6L, 7L, 2L, 3L, 4L, 5L);
    }

    /** Like {@link #acquireLater} for a session of {@code priority} needing {@code memory}. */
    static CompletableFuture<Void> acquireLater(
            Admission admission,
            long agent,
            long session,
            long memory,
            Admission.Priority priority,
            List<Integer> places) {
        CompletableFuture<Void> granted = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                admission.acquire(a(agent), s(session), memory, priority, places::add);
                granted.complete(null);
            } catch (InterruptedException e) {
                granted.completeExceptionally(e);
            }
        });
        return granted;
    }

    @Test
    void interactiveSessionsAreAdmittedBeforeScheduledOnesThatAskedEarlier() throws Exception {
        Admission admission = new Admission(1, 100 * GIB);
        admission.acquire(a(9), s(100), GIB, p -> {});
        List<Integer> taskPlaces = new CopyOnWriteArrayList<>();
        List<Integer> chatPlaces = new CopyOnWriteArrayList<>();

        CompletableFuture<Void> task = acquireLater(admission, 1, 1, GIB, Admission.Priority.BACKGROUND, taskPlaces);
        awaitQueued(admission, 1);
        CompletableFuture<Void> chat = acquireLater(admission, 2, 2, GIB, Admission.Priority.INTERACTIVE, chatPlaces);
        awaitQueued(admission, 2);

        assertThat(taskPlaces).containsExactly(1);
        assertThat(chatPlaces).containsExactly(1); // it goes ahead of the task
        assertThat(admission.snapshot().queued()).containsExactly(s(2), s(1));
        admission.release(s(100));
        chat.get(5, TimeUnit.SECONDS);
        assertThat(task).isNotDone();
        admission.release(s(2));
        task.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aTasksOwnSessionIsBackgroundAndAChatsSessionInteractive() {
        java.time.Instant now = java.time.Instant.EPOCH;
        dev.cordon.core.Ids.ChatId chat = new dev.cordon.core.Ids.ChatId(1);
        dev.cordon.core.task.Task task = new dev.cordon.core.task.Task(
                new dev.cordon.core.task.TaskId(7),
                a(1),
                "report",
                new dev.cordon.core.task.Schedule.At(now),
                java.time.ZoneOffset.UTC,
                chat,
                dev.cordon.core.task.Task.SessionMode.ISOLATED,
                null,
                dev.cordon.core.task.Task.CatchUp.ONCE,
                false,
                dev.cordon.core.task.Task.State.ACTIVE,
                now,
                "terminal:owner",
                now);

        assertThat(Admission.priorityOf(new dev.cordon.core.Domain.Session(s(1), a(1), chat, task.threadKey(), now)))
                .isEqualTo(Admission.Priority.BACKGROUND);
        for (String thread : List.of("", "1733490000.000100", "$event:matrix.org", "<id@mail.example>")) {
            assertThat(Admission.priorityOf(new dev.cordon.core.Domain.Session(s(2), a(1), chat, thread, now)))
                    .as(thread)
                    .isEqualTo(Admission.Priority.INTERACTIVE);
        }
    }

    @Test
    void aScheduledSessionThatWouldFitStillWaitsWhileAnInteractiveOneDoes() throws Exception {
        Admission admission = new Admission(10, 3 * GIB);
        admission.acquire(a(9), s(100), 2 * GIB, p -> {});

        CompletableFuture<Void> chat =
                acquireLater(admission, 1, 1, 2 * GIB, Admission.Priority.INTERACTIVE, new ArrayList<>());
        awaitQueued(admission, 1);
        CompletableFuture<Void> task =
                acquireLater(admission, 2, 2, GIB, Admission.Priority.BACKGROUND, new ArrayList<>());
        awaitQueued(admission, 2);

        // 1 GiB is free, enough for the task, but the chat is first in line.
        assertThat(task).isNotDone();
        admission.release(s(100));
        chat.get(5, TimeUnit.SECONDS);
        task.get(5, TimeUnit.SECONDS); // 2 + 1 GiB fit together
        assertThat(admission.snapshot().committedBytes()).isEqualTo(3 * GIB);
    }

    @Test
    void whenTheInteractiveWaiterGivesUpTheScheduledOneThatFitsGoesIn() throws Exception {
        Admission admission = new Admission(10, 3 * GIB);
        admission.acquire(a(9), s(100), 2 * GIB, p -> {});
        Thread chat = Thread.ofVirtual().start(() -> {
            try {
                admission.acquire(a(1), s(1), 2 * GIB, p -> {});
            } catch (InterruptedException e) {
                // gave up, as the test wants
            }
        });
        awaitQueued(admission, 1);
        CompletableFuture<Void> task =
                acquireLater(admission, 2, 2, GIB, Admission.Priority.BACKGROUND, new ArrayList<>());
        awaitQueued(admission, 2);

        chat.interrupt();

        task.get(5, TimeUnit.SECONDS);
        assertThat(admission.holds(s(1))).isFalse();
    }

    @Test
    void theMemoryCapHoldsBackASessionThatWouldPassItButLetsASmallerOneIn() throws Exception {
        Admission admission = new Admission(10, 3 * GIB);
        admission.acquire(a(1), s(1), 2 * GIB, p -> {});
        CompletableFuture<Void> big = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                admission.acquire(a(2), s(2), 2 * GIB, p -> {});
                big.complete(null);
            } catch (InterruptedException e) {
                big.completeExceptionally(e);
            }
        });
        awaitQueued(admission, 1);

        assertThat(big).isNotDone();
        assertThat(admission.snapshot().committedBytes()).isEqualTo(2 * GIB);
        admission.release(s(1));
        big.get(5, TimeUnit.SECONDS);
        assertThat(admission.snapshot().committedBytes()).isEqualTo(2 * GIB);
    }

    @Test
    void aSandboxWithoutAMemoryLimitCountsAsOneGibAndOneBiggerThanTheCapRunsAlone() throws Exception {
        Admission admission = new Admission(10, 2 * GIB);
        admission.acquire(a(1), s(1), 0, p -> {});
        assertThat(admission.snapshot().committedBytes()).isEqualTo(Admission.UNLIMITED_COUNTS_AS);
        admission.release(s(1));

        admission.acquire(a(1), s(2), 8 * GIB, p -> {});

        assertThat(admission.holds(s(2))).isTrue();
    }

    @Test
    void beforeAnyoneWaitsAnIdleSandboxIsHibernatedToMakeRoom() throws Exception {
        Admission admission = new Admission(1, 100 * GIB);
        admission.acquire(a(1), s(1), GIB, p -> {});
        AtomicInteger evictions = new AtomicInteger();
        admission.evictWith(forWhom -> {
            assertThat(forWhom).isEqualTo(s(2));
            evictions.incrementAndGet();
            admission.release(s(1)); // what hibernating an idle session does
            return true;
        });
        List<Integer> places = new ArrayList<>();

        admission.acquire(a(2), s(2), GIB, places::add);

        assertThat(evictions).hasValue(1);
        assertThat(places).as("it never waited").isEmpty();
        assertThat(admission.holds(s(2))).isTrue();
        assertThat(admission.holds(s(1))).isFalse();
    }

    @Test
    void aWaiterThatIsInterruptedLeavesTheLineAndHoldsNothing() throws Exception {
        Admission admission = new Admission(1, 100 * GIB);
        admission.acquire(a(1), s(1), GIB, p -> {});
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                admission.acquire(a(2), s(2), GIB, p -> {});
                outcome.complete(null);
            } catch (InterruptedException e) {
                outcome.complete(e);
            }
        });
        awaitQueued(admission, 1);

        waiter.interrupt();

        assertThat(outcome.get(5, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        assertThat(admission.snapshot().queued()).isEmpty();
        assertThat(admission.anyoneWaiting()).isFalse();
        admission.release(s(1));
        assertThat(admission.snapshot().live()).isZero();
    }

    @Test
    void underManyConcurrentSessionsTheCapIsNeverExceededAndEveryoneIsServed() throws Exception {
        Admission admission = new Admission(5, 100 * GIB);
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        AtomicInteger done = new AtomicInteger();
        for (int i = 0; i < 200; i++) {
            long session = i;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    admission.acquire(a(session % 7), s(session), GIB, p -> {});
                    most.accumulateAndGet(inside.incrementAndGet(), Math::max);
                    Thread.sleep(Duration.ofMillis(1));
                    inside.decrementAndGet();
                    admission.release(s(session));
                    done.incrementAndGet();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        for (Thread t : threads) {
            t.join(Duration.ofSeconds(30));
        }

        assertThat(done).hasValue(200);
        assertThat(most.get()).isBetween(1, 5);
        assertThat(admission.snapshot().live()).isZero();
    }
}
