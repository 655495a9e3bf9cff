package dev.cordon.egress.proxy;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditVerification;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Keeps appended events in memory, in order. The hash chain itself is tested in core and store. */
final class RecordingAuditLog implements AuditLog {
    private final List<AuditEvent> events = new ArrayList<>();

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
