package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.access.UserId;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditVerification;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Live events follow the audit log from its end at start (a log with gaps, as tampering leaves
 * them, included), and each subscriber sees only what it may.
 */
class WebEventsTest {
    static final UserId ADMIN = UserId.parse("web:admin");
    static final UserId ALICE = UserId.parse("web:alice");

    /** An in-memory log: enough of {@link AuditLog} for a reader. */
    static final class Log implements AuditLog {
        final List<AuditEntry> entries = new CopyOnWriteArrayList<>();

        void add(long seq, String action) {
            entries.add(new AuditEntry(
                    seq,
                    AuditEvent.of(Instant.now(), AuditEvent.Actor.system("test"), action, AuditEvent.Decision.INFO)
                            .withAgent(new AgentName("main")),
                    AuditEntry.ZERO_HASH,
                    AuditEntry.ZERO_HASH));
            synchronized (this) {
                notifyAll();
            }
        }

        @Override
        public List<AuditEntry> read(long afterSeq, int limit) {
            return entries.stream().filter(e -> e.seq() > afterSeq).limit(limit).toList();
        }

        @Override
        public synchronized List<AuditEntry> tail(long afterSeq, int limit, Duration maxWait)
                throws InterruptedException {
            if (read(afterSeq, limit).isEmpty()) {
                wait(maxWait.toMillis());
            }
            return read(afterSeq, limit);
        }

        @Override
        public AuditEntry append(AuditEvent event) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<AuditEntry> appendAll(List<AuditEvent> events) {
            throw new UnsupportedOperationException();
        }

        @Override
        public AuditVerification verify() {
            throw new UnsupportedOperationException();
        }

        @Override
        public PublicKey publicKey() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {}
    }

    @Test
    void followsFromTheEndOfALogWithGapsAndShowsEachUserOnlyWhatItMaySee() throws Exception {
        Log log = new Log();
        for (long seq : new long[] {1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 40}) {
            log.add(seq, "before.start");
        }
        BlockingQueue<AuditEntry> followed = new LinkedBlockingQueue<>();
        try (WebEvents events = new WebEvents(log, (user, agent) -> user.equals(ADMIN), List.of(followed::add))) {
            events.start();
            WebEvents.Subscription admin = events.subscribe(ADMIN);
            WebEvents.Subscription alice = events.subscribe(ALICE);
            log.add(41, "after.start");

            assertThat(followed.poll(10, TimeUnit.SECONDS).event().action()).isEqualTo("after.start");
            assertThat(followed).as("nothing from before the start").isEmpty();
            assertThat(admin.next(Duration.ofSeconds(10)).type()).isEqualTo("audit");
            assertThat(alice.next(Duration.ofMillis(200))).as("not an admin").isNull();

            events.publish(new WebEvents.Event("reply", new AgentName("main"), ALICE, "hi"));
            assertThat(alice.next(Duration.ofSeconds(1)).data()).isEqualTo("hi");
            assertThat(admin.next(Duration.ofSeconds(1)).type()).isEqualTo("reply");
        }
    }
}
