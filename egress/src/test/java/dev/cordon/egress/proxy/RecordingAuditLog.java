package dev.cordon.egress.proxy;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditVerification;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Keeps appended events in memory, in order. The hash chain itself is tested in core and store.
 * After {@link #hold()}, entries queued with {@link #appendLater} stay pending (not in {@link
 * #events()}, their {@code await} blocked) until the hold is released or failed.
 */
final class RecordingAuditLog implements AuditLog {
    private final List<AuditEvent> events = new ArrayList<>();
    private volatile Hold hold;

    /** An entry's write in progress, as the test lets it end. */
    static final class Hold {
        /** Counted down when a caller starts waiting for a held entry. */
        final CountDownLatch awaited = new CountDownLatch(1);

        private final CountDownLatch ended = new CountDownLatch(1);
        private volatile RuntimeException failure;

        /** The held entries become durable. */
        void release() {
            ended.countDown();
        }

        /** The held entries' write fails with {@code e}. */
        void fail(RuntimeException e) {
            failure = e;
            ended.countDown();
        }
    }

    Hold hold() {
        Hold h = new Hold();
        hold = h;
        return h;
    }

    @Override
    public Pending appendLater(AuditEvent event) {
        Hold h = hold;
        if (h == null) {
            return AuditLog.super.appendLater(event);
        }
        return () -> {
            h.awaited.countDown();
            try {
                h.ended.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the entry was held", e);
            }
            if (h.failure != null) {
                throw h.failure;
            }
            return append(event);
        };
    }

    synchronized List<AuditEvent> events() {
        return List.copyOf(events);
    }

    @Override
    public synchronized AuditEntry append(AuditEvent event) {
        events.add(event);
        return new AuditEntry(events.size(), event, AuditEntry.ZERO_HASH, AuditEntry.ZERO_HASH);
    }

    @Override
    public synchronized List<AuditEntry> appendAll(List<AuditEvent> batch) {
        return batch.stream().map(this::append).toList();
    }

    @Override
    public List<AuditEntry> read(long afterSeq, int limit) {
        throw new UnsupportedOperationException();
    }

    @Override
    public List<AuditEntry> tail(long afterSeq, int limit, Duration maxWait) {
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
