package dev.cordon.core.audit;

import dev.cordon.core.audit.AuditVerification.Kind;
import dev.cordon.core.audit.AuditVerification.Problem;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Walks a log in seq order, checkpoints interleaved at the entry they cover, and stops at the first
 * problem. One pass, constant memory besides the checkpoint list. Not thread-safe: one per scan.
 */
final class Verifier implements AuditStorage.Visitor {
    /** How far from its place a moved entry is looked for, to tell "reordered" from "edited". */
    private static final int REORDER_WINDOW = 1_024;

    private final PublicKey trusted;
    private final String trustedText;
    private final byte[] trustedDer;
    private final Canonical canonical = new Canonical();
    private final Signature signature;

    private List<AuditCheckpoint> checkpoints = List.of();
    private int nextCheckpoint;
    private long previousCheckpointSeq = -1;
    private long signedThrough = -1;
    private long checkedCheckpoints;

    private long expectedSeq = 1;
    private byte[] prevHash = Canonical.ZERO;
    private long entries;
    private Problem problem;

    Verifier(PublicKey trusted) {
        this.trusted = trusted;
        this.trustedText = AuditKeys.encode(trusted);
        this.trustedDer = trusted.getEncoded();
        try {
            this.signature = Signature.getInstance(AuditKeys.ALGORITHM);
        } catch (GeneralSecurityException e) {
            throw new AuditException("this JDK cannot verify Ed25519 signatures: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean checkpoints(List<AuditCheckpoint> all) {
        checkpoints = List.copyOf(all);
        if (checkpoints.isEmpty()) {
            return true; // fine for a log that was never opened; entries without it fail below
        }
        AuditCheckpoint first = checkpoints.getFirst();
        if (first.seq() != 0) {
            return fail(
                    0,
                    Kind.NO_GENESIS,
                    "the first checkpoint (seq 0, which names the signing key) is missing; the earliest is at seq "
                            + first.seq());
        }
        return checkCheckpointsAt(0, Canonical.ZERO);
    }

    @Override
    public boolean entry(AuditEntry entry) {
        long seq = entry.seq();
        if (seq != expectedSeq) {
            String missing =
                    seq - 1 == expectedSeq ? "entry " + expectedSeq : "entries " + expectedSeq + "-" + (seq - 1);
            return fail(expectedSeq, Kind.MISSING, missing + " not found (deleted); the next present entry is " + seq);
        }
        if (checkpoints.isEmpty()) {
            return fail(0, Kind.NO_GENESIS, "the log has entries but no checkpoint at all: checkpoints were deleted");
        }
        byte[] storedPrev = Canonical.unhex(entry.prevHash());
        byte[] storedHash = Canonical.unhex(entry.hash());
        byte[] computed = canonical.entryHash(seq, storedPrev, entry.event());
        if (!MessageDigest.isEqual(computed, storedHash)) {
            long movedFrom = writtenAs(entry, storedPrev, storedHash);
            if (movedFrom > 0) {
                return fail(
                        seq,
                        Kind.REORDERED,
                        "entry " + seq + " holds the entry written as seq " + movedFrom + " ("
                                + entry.event().action() + ")");
            }
            return fail(
                    seq,
                    Kind.HASH_MISMATCH,
                    "entry " + seq + " (" + entry.event().action() + ") does not hash to its stored hash "
                            + entry.hash() + " but to " + Canonical.hex(computed)
                            + ": a field or its prev_hash was edited");
        }
        if (!Arrays.equals(storedPrev, prevHash)) {
            return fail(
                    seq,
                    Kind.CHAIN_BROKEN,
                    "entry " + seq + " names " + entry.prevHash() + " as the previous hash, but entry " + (seq - 1)
                            + " hashes to " + Canonical.hex(prevHash) + ": entry " + (seq - 1) + " or " + seq
                            + " was rewritten");
        }
        prevHash = storedHash;
        expectedSeq = seq + 1;
        entries++;
        return checkCheckpointsAt(seq, storedHash);
    }

    @Override
    public boolean unreadable(long seq, String why) {
        if (seq != expectedSeq) {
            return fail(expectedSeq, Kind.MISSING, "entry " + expectedSeq + " not found (deleted)");
        }
        return fail(seq, Kind.MALFORMED, "entry " + seq + " cannot be read: " + why);
    }

    AuditVerification result() {
        if (problem == null && nextCheckpoint < checkpoints.size()) {
            AuditCheckpoint beyond = checkpoints.get(nextCheckpoint);
            long end = expectedSeq - 1;
            fail(
                    end + 1,
                    Kind.TRUNCATED,
                    "a checkpoint covers seq " + beyond.seq() + " but the log ends at seq " + end + ": entries "
                            + (end + 1) + "-" + beyond.seq() + " (at least) were cut off");
        }
        return new AuditVerification(entries, checkedCheckpoints, expectedSeq - 1, signedThrough, problem);
    }

    private boolean checkCheckpointsAt(long seq, byte[] entryHash) {
        while (nextCheckpoint < checkpoints.size()
                && checkpoints.get(nextCheckpoint).seq() == seq) {
            if (!check(checkpoints.get(nextCheckpoint++), entryHash)) {
                return false;
            }
        }
        return true;
    }

    private boolean check(AuditCheckpoint cp, byte[] entryHash) {
        long seq = cp.seq();
        if (!cp.publicKey().equals(trustedText)) {
            return fail(
                    seq,
                    Kind.WRONG_KEY,
                    "the checkpoint at seq " + seq + " is signed by key " + fingerprint(cp.publicKey())
                            + ", not by the trusted key " + fingerprint(trustedText));
        }
        byte[] signed = canonical.checkpointBytes(
                seq, Canonical.unhex(cp.hash()), cp.time().toEpochMilli(), cp.previousSeq(), trustedDer);
        if (!verifies(signed, cp.signature())) {
            return fail(
                    seq,
                    Kind.BAD_SIGNATURE,
                    "the checkpoint at seq " + seq + " does not match its signature: it was edited");
        }
        checkedCheckpoints++;
        if (cp.previousSeq() != previousCheckpointSeq) {
            return fail(
                    seq,
                    Kind.CHECKPOINT_MISSING,
                    "the checkpoint at seq " + seq + " follows one at seq " + cp.previousSeq()
                            + ", but the checkpoint before it is at seq " + previousCheckpointSeq
                            + ": a checkpoint was deleted");
        }
        if (!MessageDigest.isEqual(Canonical.unhex(cp.hash()), entryHash)) {
            return fail(
                    seq,
                    Kind.CHECKPOINT_MISMATCH,
                    "the signed checkpoint at seq " + seq + " says the chain's hash there is " + cp.hash()
                            + ", but it is " + Canonical.hex(entryHash) + ": entries after seq "
                            + Math.max(previousCheckpointSeq, 0) + " up to " + seq
                            + " were rewritten with their hashes recomputed");
        }
        previousCheckpointSeq = seq;
        signedThrough = seq;
        return true;
    }

    private boolean verifies(byte[] signed, String signatureText) {
        try {
            byte[] sig = Base64.getDecoder().decode(signatureText);
            signature.initVerify(trusted);
            signature.update(signed);
            return signature.verify(sig);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false; // a signature that is not even well-formed does not verify
        }
    }

    /** The seq this entry was written as, when it is intact but in the wrong place; else 0. */
    private long writtenAs(AuditEntry entry, byte[] storedPrev, byte[] storedHash) {
        long seq = entry.seq();
        for (long d = 1; d <= REORDER_WINDOW; d++) {
            for (long candidate : new long[] {seq - d, seq + d}) {
                if (candidate >= 1
                        && MessageDigest.isEqual(
                                canonical.entryHash(candidate, storedPrev, entry.event()), storedHash)) {
                    return candidate;
                }
            }
        }
        return 0;
    }

    private boolean fail(long seq, Kind kind, String detail) {
        if (problem == null) {
            problem = new Problem(seq, kind, detail);
        }
        return false;
    }

    /** A short, stable name for a key: the first 16 hex digits of the SHA-256 of its encoding. */
    static String fingerprint(String publicKeyBase64) {
        try {
            byte[] der = Base64.getDecoder().decode(publicKeyBase64);
            return "SHA256:"
                    + Canonical.hex(MessageDigest.getInstance("SHA-256").digest(der))
                            .substring(0, 16);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return "(unreadable key)";
        }
    }
}
