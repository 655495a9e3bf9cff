package dev.cordon.core.audit;

import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/** Opens {@link AuditLog}s and verifies logs. */
public final class AuditLogs {
    private AuditLogs() {}

    /**
     * When checkpoints are made and how large a group commit may grow.
     *
     * @param checkpointEveryEntries sign the head once at least this many entries are unsigned (at
     *     the end of the batch that crosses it)
     * @param checkpointEvery sign the head when it has unsigned entries and the last checkpoint is
     *     this old, even if nothing else is appended
     * @param maxBatchEntries at most this many queued events share one transaction (a single
     *     {@link AuditLog#appendAll} larger than this is still one transaction)
     */
    public record Settings(int checkpointEveryEntries, Duration checkpointEvery, int maxBatchEntries) {
        /** 1,000 entries or one minute; batches of up to 4,096 events. */
        public static final Settings DEFAULTS = new Settings(1_000, Duration.ofMinutes(1), 4_096);

        public Settings {
            Objects.requireNonNull(checkpointEvery, "checkpointEvery");
            if (checkpointEveryEntries < 1 || maxBatchEntries < 1 || checkpointEvery.toMillis() < 1) {
                throw new IllegalArgumentException("audit settings must be positive: " + checkpointEveryEntries
                        + " entries, " + checkpointEvery + ", batches of " + maxBatchEntries);
            }
        }
    }

    /**
     * Opens the log kept in {@code storage}, signing with the key in {@code keyFile} (created on
     * first use, see {@link AuditKeys#loadOrCreate}), with the default settings and the system
     * clock. See {@link #open(AuditStorage, KeyPair, Settings, Clock)}.
     */
    public static AuditLog open(AuditStorage storage, Path keyFile) {
        return open(storage, AuditKeys.loadOrCreate(keyFile), Settings.DEFAULTS, Clock.systemUTC());
    }

    /**
     * Opens the log kept in {@code storage} and starts its writer thread. A new, empty log gets its
     * first checkpoint (seq 0, carrying the public key) before this returns. Blocks on the store.
     *
     * @param clock stamps checkpoints and decides when one is due (events carry their own time)
     * @throws AuditException if {@code signingKey} is not an Ed25519 key pair
     * @throws RuntimeException the store's exception if it cannot be read or written
     */
    public static AuditLog open(AuditStorage storage, KeyPair signingKey, Settings settings, Clock clock) {
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(signingKey, "signingKey");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(clock, "clock");
        return GroupCommitLog.open(storage, signingKey, settings, clock);
    }

    /**
     * Verifies the log in {@code storage} against {@code trustedKey} without opening it for writing
     * (for example from a copy of the database, with a public key kept elsewhere). Blocks while it
     * streams the whole log; memory stays flat.
     *
     * @throws RuntimeException the store's exception if it cannot be read
     */
    public static AuditVerification verify(AuditStorage storage, PublicKey trustedKey) {
        Verifier verifier = new Verifier(trustedKey);
        storage.scan(verifier);
        return verifier.result();
    }
}
