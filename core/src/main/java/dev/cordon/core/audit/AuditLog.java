package dev.cordon.core.audit;

import java.security.PublicKey;
import java.time.Duration;
import java.util.List;

/**
 * The tamper-evident audit log: an append-only hash chain of {@link AuditEvent}s with signed
 * checkpoints ({@code docs/audit.md}). Open one with {@link AuditLogs#open}.
 *
 * <p>Thread-safe. Appends from any number of threads form one linear chain: a single writer thread
 * assigns seqs and hashes, and commits whatever has queued up as one transaction (group commit),
 * so many appends share one fsync while each still returns only once its own entry is durable
 * (invariant 6: an action is audited before it is reported done).
 */
public interface AuditLog extends AutoCloseable {

    /**
     * Appends one event and blocks until it is durable. Not interruptible: it returns (or throws)
     * only once the writer knows the outcome.
     *
     * @return the entry as stored, with its seq and hashes
     * @throws AuditException if the write failed; the event is then not in the log (or, rarely,
     *     is in it although the store reported failure — never the other way round), and the caller
     *     must not report its action as done
     * @throws IllegalStateException after {@link #close()}
     */
    AuditEntry append(AuditEvent event);

    /**
     * Appends {@code events} in order, with consecutive seqs, in one transaction; blocks until all
     * are durable. Use it for many events known at once; it fails or succeeds as a whole.
     *
     * @throws AuditException if the write failed (none of the events is in the log)
     * @throws IllegalStateException after {@link #close()}
     */
    List<AuditEntry> appendAll(List<AuditEvent> events);

    /**
     * Queues {@code event} behind everything appended before it (its place in the chain is fixed
     * now) and returns at once; {@link Pending#await()} blocks until it is durable, like {@link
     * #append}. It lets a caller overlap its own work with the write, for example wake a session while
     * the entry is synced; the caller still reports its action done only after {@code await}.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    default Pending appendLater(AuditEvent event) {
        AuditEntry entry = append(event);
        return () -> entry;
    }

    /** An entry on its way to the log. */
    @FunctionalInterface
    interface Pending {
        /**
         * Blocks until the entry is durable and returns it; not interruptible.
         *
         * @throws AuditException if the write failed, as {@link #append} does
         */
        AuditEntry await();
    }

    /** Up to {@code limit} entries after seq {@code afterSeq} (0 for the start), oldest first. */
    List<AuditEntry> read(long afterSeq, int limit);

    /**
     * Like {@link #read}, but when there is nothing after {@code afterSeq} yet, waits up to {@code
     * maxWait} for an append of this log, for {@code cordon audit tail --follow}. Returns an empty
     * list when the wait ends without one (or the log closes).
     *
     * @throws InterruptedException if interrupted while waiting
     */
    List<AuditEntry> tail(long afterSeq, int limit, Duration maxWait) throws InterruptedException;

    /**
     * Checks the whole chain and every checkpoint against this log's own public key, reading the
     * store as it was when the check started (appends go on meanwhile). Streams: memory does not
     * grow with the log. Takes seconds for a million entries.
     */
    AuditVerification verify();

    /** The key checkpoints are verified with; copy it elsewhere to verify with a key kept off-box. */
    PublicKey publicKey();

    /**
     * Waits for queued appends to be written, signs a last checkpoint if entries are unsigned, and
     * stops the writer thread. Later appends throw {@link IllegalStateException}. Idempotent. Does
     * not close the store: close this first, then the store.
     */
    @Override
    void close();
}
