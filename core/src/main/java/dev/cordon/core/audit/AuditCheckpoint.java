package dev.cordon.core.audit;

import java.time.Instant;
import java.util.Objects;

/**
 * A signed statement "the chain's head at {@code seq} has hash {@code hash}". Checkpoints are made
 * every so many entries or seconds ({@link AuditLogs.Settings}), when the log is closed, and once
 * when the log is new (seq 0, which puts the public key in the log).
 *
 * @param seq the entry it covers (0 for the first checkpoint of a new log)
 * @param hash that entry's hash (all zeros for seq 0), 64 lowercase hex digits
 * @param time when it was made (millisecond precision)
 * @param previousSeq the seq of the checkpoint before it, or -1 for the first: chains the
 *     checkpoints, so deleting one in the middle shows
 * @param publicKey the signer's Ed25519 public key, X.509 DER in base64 (the body of the {@code
 *     .pub} file)
 * @param signature Ed25519 over the canonical checkpoint encoding ({@code docs/audit.md}), base64
 */
public record AuditCheckpoint(
        long seq, String hash, Instant time, long previousSeq, String publicKey, String signature) {
    public AuditCheckpoint {
        // No checks between seq and previousSeq: a tampered row must still be readable, so that
        // verify can say what is wrong with it.
        Canonical.checkHex("hash", hash);
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(publicKey, "publicKey");
        Objects.requireNonNull(signature, "signature");
    }
}
