package dev.cordon.core.audit;

import java.util.Locale;

/**
 * What {@link AuditLog#verify()} found. Verification stops at the first problem, in seq order.
 *
 * @param entries entries checked (all of them when {@link #ok()})
 * @param checkpoints checkpoints whose signature was checked
 * @param headSeq the last entry's seq in the log read (0 when empty)
 * @param signedThroughSeq the seq covered by the last valid checkpoint (-1 when there was none)
 * @param firstProblem the first problem found, or null when the log is intact
 */
public record AuditVerification(
        long entries, long checkpoints, long headSeq, long signedThroughSeq, Problem firstProblem) {

    /** True when every entry, link and checkpoint checked out (unsigned entries may remain). */
    public boolean ok() {
        return firstProblem == null;
    }

    /**
     * Entries after the last checkpoint: chained, but not yet covered by a signature. Normal for a
     * running log (they are signed within {@link AuditLogs.Settings#checkpointEvery()}), and a
     * warning, not an error: whoever can write the database could cut or rewrite these without a
     * trace in the log itself. Zero when the log failed verification.
     */
    public long unsignedEntries() {
        return ok() ? headSeq - Math.max(signedThroughSeq, 0) : 0;
    }

    /** One line for a person: the verdict, the counts, and the warning if any. */
    public String summary() {
        if (!ok()) {
            return String.format(
                    Locale.ROOT,
                    "BROKEN at seq %d: %s (%s). %d entries checked before it.",
                    firstProblem.seq(),
                    firstProblem.kind().label(),
                    firstProblem.detail(),
                    entries);
        }
        String line = String.format(
                Locale.ROOT,
                "OK: %d entries, %d checkpoints, signed through seq %d.",
                entries,
                checkpoints,
                Math.max(signedThroughSeq, 0));
        long unsigned = unsignedEntries();
        return unsigned == 0
                ? line
                : line + " Warning: the last " + unsigned + " entries (after seq "
                        + Math.max(signedThroughSeq, 0)
                        + ") are not yet covered by a signed checkpoint.";
    }

    /**
     * Where the log stops checking out.
     *
     * @param seq the entry (or checkpoint) seq at which it breaks
     * @param kind what is wrong
     * @param detail what was expected and what was found, for a person
     */
    public record Problem(long seq, Kind kind, String detail) {}

    /** What can be wrong. */
    public enum Kind {
        /** An entry's fields do not hash to its stored hash: a field, or its prev_hash, was edited. */
        HASH_MISMATCH,
        /**
         * An entry is self-consistent but its prev_hash is not the previous entry's hash: one of the
         * two was rewritten with its hash recomputed.
         */
        CHAIN_BROKEN,
        /** The entry at this seq hashes correctly only under another seq: entries were reordered. */
        REORDERED,
        /** Seqs jump: the entries from this seq on (up to the next present one) were deleted. */
        MISSING,
        /** A stored row cannot be read as an entry (a value outside the allowed set or shape). */
        MALFORMED,
        /** The first checkpoint (seq 0, which carries the key) is missing. */
        NO_GENESIS,
        /** A checkpoint's chain to its predecessor is broken: a checkpoint was deleted. */
        CHECKPOINT_MISSING,
        /** A checkpoint names another public key than the trusted one. */
        WRONG_KEY,
        /** A checkpoint's signature does not verify with the trusted key: it was edited. */
        BAD_SIGNATURE,
        /**
         * A validly signed checkpoint disagrees with the entry it covers: entries after the previous
         * checkpoint were rewritten and the chain recomputed.
         */
        CHECKPOINT_MISMATCH,
        /** A checkpoint covers an entry that is not there: the end of the log was cut off. */
        TRUNCATED;

        /** Lowercase with dashes, for output: {@code hash-mismatch}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }
}
