package dev.cordon.core.audit;

import java.util.Objects;

/**
 * An event as the log holds it: its place in the chain and the hashes that link it.
 *
 * @param seq 1 for the first entry, then consecutive; never reused
 * @param event what happened
 * @param prevHash SHA-256 of the previous entry (64 lowercase hex digits; all zeros for seq 1)
 * @param hash SHA-256 of this entry's canonical encoding, which includes {@code seq} and {@code
 *     prevHash} (see {@code docs/audit.md})
 */
public record AuditEntry(long seq, AuditEvent event, String prevHash, String hash) {
    /** The prev_hash of the first entry, and the head hash of an empty log: 64 zeros. */
    public static final String ZERO_HASH = Canonical.ZERO_HEX;

    public AuditEntry {
        if (seq < 1) {
            throw new IllegalArgumentException("audit seq must be >= 1, was " + seq);
        }
        Objects.requireNonNull(event, "event");
        Canonical.checkHex("prevHash", prevHash);
        Canonical.checkHex("hash", hash);
    }
}
