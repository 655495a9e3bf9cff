package dev.cordon.core.audit;

import java.util.List;

/**
 * Where an {@link AuditLog} keeps its entries and checkpoints: the store's side of the audit log.
 * Implemented by each store (SQLite, later PostgreSQL); used only by {@link AuditLogs}, which owns
 * the chain, the hashing and the signing, so that every store produces the same, verifiable log.
 *
 * <p>Implementations are thread-safe. Every method is one transaction; failures throw the store's
 * own unchecked exception and leave nothing half-written.
 */
public interface AuditStorage {

    /**
     * The chain's current end.
     *
     * @param seq the last entry's seq, 0 when there are none
     * @param hash the last entry's hash, all zeros when there are none
     * @param lastCheckpoint the checkpoint with the highest seq, or null when there are none
     */
    record Head(long seq, String hash, AuditCheckpoint lastCheckpoint) {}

    /** Reads the chain's current end. */
    Head head();

    /**
     * Appends {@code entries} (consecutive seqs starting at {@code expectedHeadSeq + 1}) and then
     * {@code checkpoint} (if not null), in one transaction that is durable when this returns — but
     * only if no other writer got ahead: no stored entry has a seq above {@code expectedHeadSeq}, and
     * no stored checkpoint a seq above {@code checkpoint.previousSeq()}. Otherwise nothing is written
     * and this returns false (the caller reloads the head and tries again), so two writers can never
     * fork the chain. Rows <em>missing</em> below those seqs (deleted behind the writer's back) do
     * not stop the append: the gap stays in the log as evidence instead of being chained over.
     */
    boolean append(long expectedHeadSeq, List<AuditEntry> entries, AuditCheckpoint checkpoint);

    /** Up to {@code limit} entries with seq greater than {@code afterSeq}, in seq order. */
    List<AuditEntry> read(long afterSeq, int limit);

    /**
     * Reads the whole log in one consistent snapshot, for verification: first every checkpoint in
     * seq order (there are few), then every entry in seq order, one at a time without holding them
     * all in memory, until the visitor returns false. Blocks until done. The visitor's methods are
     * called one at a time, in order, but not necessarily on the calling thread (a store may read on
     * one thread and visit on another); what they did is visible to the caller when this returns.
     */
    void scan(Visitor visitor);

    /** Receives a {@link #scan}. Each method returns false to stop the scan. */
    interface Visitor {
        boolean checkpoints(List<AuditCheckpoint> checkpoints);

        boolean entry(AuditEntry entry);

        /** A stored entry that cannot be read as an {@link AuditEntry}: tampering or damage. */
        boolean unreadable(long seq, String problem);
    }
}
