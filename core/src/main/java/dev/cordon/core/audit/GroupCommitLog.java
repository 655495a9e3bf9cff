package dev.cordon.core.audit;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link AuditLog} with one writer thread and group commit.
 *
 * <p>Why one writer: the chain is a sequence, so someone has to decide the order. Callers only
 * enqueue; the writer alone holds the head (seq and hash), so it can never fork. Everything that
 * queued while the previous transaction was being fsynced goes into the next one, so throughput
 * grows with the number of concurrent appenders while a lone appender still pays one fsync.
 *
 * <p>Why the writer keeps the head in memory instead of reading it from the store each time: if
 * someone edits the last entries in the database while the daemon runs, the next entry still
 * links to the hash the writer knows, so the edit shows as a broken link instead of being
 * chained over. The store's compare-and-append (see {@link AuditStorage#append}) catches another
 * process appending; the writer then reloads the head and tries again.
 */
final class GroupCommitLog implements AuditLog {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitLog.class);
    /**
     * Another process appending to the same store is rare (one daemon per store); losing to it this
     * many times in a row for one batch means something is wrong.
     */
    private static final int MAX_LOST_RACES = 100;
    /** How long the writer rests after a failed write before it takes the next batch. */
    private static final Duration FAILURE_PAUSE = Duration.ofMillis(200);

    private final AuditStorage storage;
    private final PublicKey publicKey;
    private final byte[] publicKeyDer;
    private final String publicKeyText;
    private final Signature signer;
    private final AuditLogs.Settings settings;
    private final Clock clock;
    private final Thread writer;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a request is queued or the log is closing; the writer waits on it. */
    private final Condition work = lock.newCondition();
    /** Signalled when entries became durable; {@link #tail} waits on it. */
    private final Condition appended = lock.newCondition();
    /** Guarded by {@link #lock}. */
    private final ArrayDeque<Request> queue = new ArrayDeque<>();
    /** Guarded by {@link #lock}. */
    private boolean closing;
    /** Guarded by {@link #lock}: the last seq this log made durable. */
    private long durableSeq;

    // Owned by the writer thread (and by open(), before the thread starts).
    private final Canonical canonical = new Canonical();
    private long headSeq;
    private byte[] headHash;
    private long lastCheckpointSeq;
    private Instant lastCheckpointTime;

    private record Request(List<AuditEvent> events, CompletableFuture<List<AuditEntry>> done) {}

    private GroupCommitLog(AuditStorage storage, KeyPair keys, AuditLogs.Settings settings, Clock clock) {
        this.storage = storage;
        this.publicKey = keys.getPublic();
        this.publicKeyDer = publicKey.getEncoded();
        this.publicKeyText = AuditKeys.encode(publicKey);
        this.settings = settings;
        this.clock = clock;
        try {
            this.signer = Signature.getInstance(AuditKeys.ALGORITHM);
            signer.initSign(keys.getPrivate());
        } catch (GeneralSecurityException e) {
            throw new AuditException("the audit signing key is not an Ed25519 key: " + e.getMessage(), e);
        }
        this.writer =
                Thread.ofPlatform().name("cordon-audit-writer").daemon(true).unstarted(this::run);
    }

    static GroupCommitLog open(AuditStorage storage, KeyPair keys, AuditLogs.Settings settings, Clock clock) {
        GroupCommitLog log = new GroupCommitLog(storage, keys, settings, clock);
        log.loadHead();
        if (log.headSeq == 0 && log.lastCheckpointSeq < 0) {
            log.writeGenesis();
        }
        log.durableSeq = log.headSeq;
        log.writer.start();
        return log;
    }

    private void loadHead() {
        AuditStorage.Head head = storage.head();
        headSeq = head.seq();
        headHash = Canonical.unhex(head.hash());
        AuditCheckpoint last = head.lastCheckpoint();
        if (last == null) {
            lastCheckpointSeq = -1;
            lastCheckpointTime = clock.instant();
            if (headSeq > 0) {
                LOG.warn(
                        "the audit log has {} entries but no checkpoint: its checkpoints were deleted."
                                + " Appending goes on; run 'cordon audit verify' to see what else changed",
                        headSeq);
            }
        } else {
            lastCheckpointSeq = last.seq();
            lastCheckpointTime = last.time();
            if (!last.publicKey().equals(publicKeyText)) {
                LOG.warn(
                        "the audit log's last checkpoint was signed by key {}, not by this key {}: the key file"
                                + " was replaced. Appending goes on; the older checkpoints verify only with the"
                                + " old public key",
                        Verifier.fingerprint(last.publicKey()),
                        Verifier.fingerprint(publicKeyText));
            }
        }
    }

    /** The first checkpoint of a new log names the key, before any entry exists. */
    private void writeGenesis() {
        AuditCheckpoint genesis = sign(0, Canonical.ZERO);
        if (storage.append(0, List.of(), genesis)) {
            lastCheckpointSeq = 0;
            lastCheckpointTime = genesis.time();
        } else {
            loadHead(); // another process made the log meanwhile: continue its chain
        }
    }

    // ---- callers

    @Override
    public AuditEntry append(AuditEvent event) {
        Objects.requireNonNull(event, "event");
        return submit(List.of(event)).getFirst();
    }

    @Override
    public List<AuditEntry> appendAll(List<AuditEvent> events) {
        List<AuditEvent> copy = List.copyOf(events);
        return copy.isEmpty() ? List.of() : submit(copy);
    }

    @Override
    public Pending appendLater(AuditEvent event) {
        Objects.requireNonNull(event, "event");
        CompletableFuture<List<AuditEntry>> done = enqueue(List.of(event));
        return () -> await(done).getFirst();
    }

    private List<AuditEntry> submit(List<AuditEvent> events) {
        return await(enqueue(events));
    }

    private CompletableFuture<List<AuditEntry>> enqueue(List<AuditEvent> events) {
        Request request = new Request(events, new CompletableFuture<>());
        lock.lock();
        try {
            if (closing) {
                throw new IllegalStateException("the audit log is closed");
            }
            queue.add(request);
            work.signal();
        } finally {
            lock.unlock();
        }
        return request.done();
    }

    private static List<AuditEntry> await(CompletableFuture<List<AuditEntry>> done) {
        try {
            // join() does not return early on interrupt: the caller learns the real outcome.
            return done.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            throw new AuditException("audit entry not written: " + cause.getMessage(), cause);
        }
    }

    @Override
    public List<AuditEntry> read(long afterSeq, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, was " + limit);
        }
        return limit == 0 ? List.of() : storage.read(afterSeq, limit);
    }

    @Override
    public List<AuditEntry> tail(long afterSeq, int limit, Duration maxWait) throws InterruptedException {
        List<AuditEntry> now = read(afterSeq, limit);
        if (!now.isEmpty() || limit == 0) {
            return now;
        }
        long remaining = maxWait.toNanos();
        lock.lock();
        try {
            while (durableSeq <= afterSeq && !closing && remaining > 0) {
                remaining = appended.awaitNanos(remaining);
            }
        } finally {
            lock.unlock();
        }
        return read(afterSeq, limit);
    }

    @Override
    public AuditVerification verify() {
        return AuditLogs.verify(storage, publicKey);
    }

    @Override
    public PublicKey publicKey() {
        return publicKey;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closing = true;
            work.signalAll();
            appended.signalAll();
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        while (writer.isAlive()) {
            try {
                writer.join();
            } catch (InterruptedException e) {
                interrupted = true; // finish closing first: the queued callers are waiting
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- the writer thread

    private void run() {
        while (true) {
            List<Request> batch = new ArrayList<>();
            boolean stop;
            lock.lock();
            try {
                awaitWork();
                int events = 0;
                while (!queue.isEmpty()
                        && (batch.isEmpty() || events + queue.peek().events().size() <= settings.maxBatchEntries())) {
                    Request next = queue.poll();
                    batch.add(next);
                    events += next.events().size();
                }
                stop = closing && batch.isEmpty();
            } finally {
                lock.unlock();
            }
            if (stop) {
                finalCheckpoint();
                return;
            }
            try {
                write(batch);
            } catch (RuntimeException | Error e) {
                batch.forEach(r -> r.done().completeExceptionally(e));
                LOG.error("audit write of {} request(s) failed; the callers were told", batch.size(), e);
                // A store that fails now (disk full, file locked) likely fails again at once: without
                // a pause, a due checkpoint would retry in a tight loop, logging each time.
                pauseAfterFailure();
            }
        }
    }

    private void pauseAfterFailure() {
        lock.lock();
        try {
            if (!closing) {
                work.await(FAILURE_PAUSE.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            // see awaitWork
        } finally {
            lock.unlock();
        }
    }

    /** Waits (holding {@link #lock}) until a request is queued, the log closes, or a checkpoint is due. */
    private void awaitWork() {
        while (queue.isEmpty() && !closing) {
            // "<=": a log whose end was cut off has its last checkpoint beyond its last entry, and
            // nothing to sign until it grows past it.
            if (headSeq <= lastCheckpointSeq) {
                work.awaitUninterruptibly();
                continue;
            }
            long dueInMillis = Duration.between(clock.instant(), lastCheckpointTime.plus(settings.checkpointEvery()))
                    .toMillis();
            if (dueInMillis <= 0) {
                return; // an empty batch: write() signs the head
            }
            try {
                work.await(dueInMillis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                // Nobody interrupts this private thread but close() signals instead; keep serving.
            }
        }
    }

    private void write(List<Request> batch) {
        for (int attempt = 0; ; attempt++) {
            long base = headSeq;
            byte[] hash = headHash;
            List<AuditEntry> entries = new ArrayList<>();
            for (Request r : batch) {
                for (AuditEvent e : r.events()) {
                    long seq = base + entries.size() + 1;
                    byte[] next = canonical.entryHash(seq, hash, e);
                    entries.add(new AuditEntry(seq, e, Canonical.hex(hash), Canonical.hex(next)));
                    hash = next;
                }
            }
            long newHead = base + entries.size();
            AuditCheckpoint checkpoint = checkpointDue(newHead) ? sign(newHead, hash) : null;
            if (entries.isEmpty() && checkpoint == null) {
                return;
            }
            if (storage.append(base, entries, checkpoint)) {
                headSeq = newHead;
                headHash = hash;
                if (checkpoint != null) {
                    lastCheckpointSeq = checkpoint.seq();
                    lastCheckpointTime = checkpoint.time();
                }
                int from = 0;
                for (Request r : batch) {
                    int to = from + r.events().size();
                    r.done().complete(List.copyOf(entries.subList(from, to)));
                    from = to;
                }
                published(newHead);
                return;
            }
            if (attempt == MAX_LOST_RACES) {
                throw new AuditException(
                        "another writer keeps appending to the same audit log; run one daemon" + " per store");
            }
            LOG.warn("another writer appended to the audit log after seq {}; continuing its chain", base);
            loadHead();
        }
    }

    private boolean checkpointDue(long newHead) {
        if (newHead <= lastCheckpointSeq) {
            return false;
        }
        return newHead - Math.max(lastCheckpointSeq, 0) >= settings.checkpointEveryEntries()
                || !clock.instant().isBefore(lastCheckpointTime.plus(settings.checkpointEvery()));
    }

    private void finalCheckpoint() {
        if (headSeq <= lastCheckpointSeq) {
            return;
        }
        try {
            AuditCheckpoint checkpoint = sign(headSeq, headHash);
            if (storage.append(headSeq, List.of(), checkpoint)) {
                lastCheckpointSeq = headSeq;
            } else {
                LOG.warn("audit log: another writer appended after seq {}; not signing at close", headSeq);
            }
        } catch (RuntimeException e) {
            LOG.error(
                    "audit log: cannot sign the last {} entries at close; the next start signs them later",
                    headSeq - lastCheckpointSeq,
                    e);
        }
    }

    private void published(long seq) {
        lock.lock();
        try {
            durableSeq = seq;
            appended.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private AuditCheckpoint sign(long seq, byte[] hash) {
        Instant time = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        long previous = lastCheckpointSeq;
        byte[] bytes = canonical.checkpointBytes(seq, hash, time.toEpochMilli(), previous, publicKeyDer);
        byte[] signature;
        try {
            signer.update(bytes);
            signature = signer.sign();
        } catch (GeneralSecurityException e) {
            throw new AuditException("cannot sign an audit checkpoint: " + e.getMessage(), e);
        }
        return new AuditCheckpoint(
                seq,
                Canonical.hex(hash),
                time,
                previous,
                publicKeyText,
                Base64.getEncoder().encodeToString(signature));
    }
}
