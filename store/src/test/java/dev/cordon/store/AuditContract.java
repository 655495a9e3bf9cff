package dev.cordon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.cordon.core.AgentName;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditException;
import dev.cordon.core.audit.AuditKeys;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.audit.AuditLogs.Settings;
import dev.cordon.core.audit.AuditVerification;
import dev.cordon.core.audit.AuditVerification.Kind;
import dev.cordon.core.store.Store;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The behaviour every store's audit log must have, through the real {@link AuditLog} of core over
 * the store's {@link Store#audit()}: appends, restarts, checkpoints, concurrency, and — through
 * {@link #tamper} — that verify finds every kind of tampering at the right entry. An
 * implementation's test extends this class and says how to open a store and how an attacker with
 * access to the database would change it.
 */
abstract class AuditContract {
    static final Instant START = Instant.parse("2030-01-02T03:04:05.678Z");
    /** Small numbers, so a test of 30 entries has several checkpoints. */
    static final Settings EVERY_10 = new Settings(10, Duration.ofMinutes(1), 4_096);

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(START);
    Store store;
    KeyPair keys;
    AuditLog log;

    /** Opens the store kept in {@code dir}, creating it when missing. */
    protected abstract Store open(Path dir, Clock clock);

    /**
     * What someone with write access to the database does first: switches the append-only
     * protection off, over {@code s}.
     */
    protected abstract void disableAppendOnly(Statement s) throws SQLException;

    /** Makes the database refuse to insert an audit row with {@code action}, failing with {@code message}. */
    protected abstract void failInsertsOf(Statement s, String action, String message) throws SQLException;

    /**
     * Runs {@code sql} (with {@code ?} parameters) on the store's database the way someone with
     * write access to it could, past the store's append-only protection. The store and its log stay
     * open; tests close the log first when they want no further checkpoint.
     */
    void tamper(String sql, Object... parameters) {
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            disableAppendOnly(s);
            try (PreparedStatement p = c.prepareStatement(sql)) {
                for (int i = 0; i < parameters.length; i++) {
                    p.setObject(i + 1, parameters[i]);
                }
                p.executeUpdate();
            }
        } catch (SQLException e) {
            throw new AssertionError("tampering failed: " + sql, e);
        }
    }

    /** A plain connection to the store's database, as any client of it would open one. */
    protected abstract Connection connect() throws SQLException;

    @BeforeEach
    void openLog() {
        store = open(dir, clock);
        keys = AuditKeys.loadOrCreate(dir.resolve("keys/audit-ed25519"));
        log = AuditLogs.open(store.audit(), keys, EVERY_10, clock);
    }

    @AfterEach
    void closeLog() {
        log.close();
        store.close();
    }

    void restart(Settings settings) {
        log.close();
        store.close();
        store = open(dir, clock);
        log = AuditLogs.open(store.audit(), keys, settings, clock);
    }

    AuditVerification verifyClosed() {
        log.close();
        return AuditLogs.verify(store.audit(), keys.getPublic());
    }

    static AuditEvent event(int i) {
        return AuditEvent.of(START.plusMillis(i), Actor.user("telegram:4711"), AuditActions.EGRESS_DENY, Decision.DENY)
                .withAgent(new AgentName("ada"))
                .withSession(new SessionId(7))
                .withRule("egress.allow[0]")
                .withReason("host not on the allowlist")
                .withDetails(Map.of("host", "evil.example", "port", 443, "tls", true, "n", i));
    }

    List<AuditEntry> appendEach(int from, int to) {
        List<AuditEntry> entries = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            entries.add(log.append(event(i)));
        }
        return entries;
    }

    // ---- appending and reading

    @Test
    void appendsGetConsecutiveSeqsEachLinkedToThePreviousHash() {
        List<AuditEntry> entries = appendEach(1, 5);

        assertThat(entries).extracting(AuditEntry::seq).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(entries.getFirst().prevHash()).isEqualTo(AuditEntry.ZERO_HASH);
        for (int i = 1; i < entries.size(); i++) {
            assertThat(entries.get(i).prevHash()).isEqualTo(entries.get(i - 1).hash());
        }
        assertThat(entries).extracting(AuditEntry::hash).doesNotHaveDuplicates();
    }

    @Test
    void readReturnsEveryFieldAsAppended() {
        AuditEvent full = new AuditEvent(
                START,
                Actor.user("matrix:@zoë:example.org"),
                new AgentName("ada"),
                new SessionId(42),
                AuditActions.MODEL_CALL,
                Decision.ALLOW,
                "models[1]",
                "line one\nline two \u0000 with a NUL, an emoji \uD83D\uDE00 and \"quotes\"",
                Map.of("tokens_in", 1_234L, "model", "claude", "cached", false, "cost_micro_usd", -5));
        AuditEvent bare = AuditEvent.of(START.plusSeconds(1), Actor.system("daemon"), "delivery", Decision.INFO);

        AuditEntry first = log.append(full);
        AuditEntry second = log.append(bare);

        assertThat(log.read(0, 10)).containsExactly(first, second);
        assertThat(log.read(0, 10).getFirst().event()).isEqualTo(full);
        assertThat(log.read(0, 10).get(1).event().details()).isEmpty();
        assertThat(log.read(1, 10)).containsExactly(second);
        assertThat(log.read(0, 1)).containsExactly(first);
        assertThat(log.read(2, 10)).isEmpty();
    }

    @Test
    void appendAllGivesTheEventsConsecutiveSeqsInOrder() {
        log.append(event(0));
        List<AuditEntry> all = log.appendAll(List.of(event(1), event(2), event(3)));

        assertThat(all).extracting(AuditEntry::seq).containsExactly(2L, 3L, 4L);
        assertThat(all).extracting(e -> e.event().details().get("n")).containsExactly(1L, 2L, 3L);
        assertThat(log.appendAll(List.of())).isEmpty();
    }

    @Test
    void anEntryAppendedLaterKeepsItsPlaceAheadOfWhatIsAppendedAfterIt() {
        AuditLog.Pending first = log.appendLater(event(1));
        AuditEntry second = log.append(event(2));

        AuditEntry written = first.await();
        assertThat(written.seq()).isEqualTo(1L);
        assertThat(second.prevHash()).isEqualTo(written.hash());
        assertThat(log.read(0, 10)).containsExactly(written, second);
        assertThat(first.await()).as("await again").isEqualTo(written);
    }

    @Test
    void tailWaitsForTheNextAppendAndReturnsIt() throws Exception {
        log.append(event(1));
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<List<AuditEntry>> waiting = threads.submit(() -> log.tail(1, 10, Duration.ofMinutes(1)));
            AuditEntry next = log.append(event(2));

            assertThat(waiting.get()).containsExactly(next);
        }
    }

    @Test
    void tailReturnsWhatIsThereAtOnceAndNothingWhenTheWaitEnds() throws Exception {
        AuditEntry first = log.append(event(1));

        assertThat(log.tail(0, 10, Duration.ofMinutes(1))).containsExactly(first);
        assertThat(log.tail(1, 10, Duration.ofMillis(1))).isEmpty();
    }

    @Test
    void anAppendTheDatabaseRefusesLeavesNothingBehindForTheNextOne() {
        log.close(); // the storage alone: the log's writer must not append meanwhile
        var storage = store.audit();
        long base = storage.head().seq();
        String h1 = "11".repeat(32);
        String h2 = "22".repeat(32);
        AuditEntry first = new AuditEntry(base + 1, event(1), AuditEntry.ZERO_HASH, h1);
        AuditEntry sameSeq = new AuditEntry(base + 1, event(2), h1, h2);

        // Two entries with one seq: the database refuses the second, and the append with it.
        assertThatThrownBy(() -> storage.append(base, List.of(first, sameSeq), null))
                .isInstanceOf(RuntimeException.class);
        assertThat(storage.read(base, 10)).isEmpty();

        // The next appends go through whole, with nothing of the refused one (SQLite keeps statements).
        AuditEntry next = new AuditEntry(base + 1, event(3), AuditEntry.ZERO_HASH, h2);
        assertThat(storage.append(base, List.of(next), null)).isTrue();
        assertThat(storage.append(base + 1, List.of(new AuditEntry(base + 2, event(4), h2, h1)), null))
                .isTrue();
        assertThat(storage.read(base, 10))
                .extracting(AuditEntry::seq, e -> e.event().details().get("n"))
                .containsExactly(tuple(base + 1, 3L), tuple(base + 2, 4L));
    }

    @Test
    void appendAfterCloseIsRefused() {
        log.close();

        assertThatThrownBy(() -> log.append(event(1)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void manyVirtualThreadsAppendingFormOneLinearChain() throws Exception {
        int threads = 64;
        int each = 100;
        List<List<AuditEntry>> perThread = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> perThread.add(appendEach(1, each))));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }

        Set<Long> seqs = new HashSet<>();
        for (List<AuditEntry> mine : perThread) {
            // Each thread's appends are durable in the order it made them.
            assertThat(mine).extracting(AuditEntry::seq).isSorted();
            mine.forEach(e -> seqs.add(e.seq()));
        }
        assertThat(seqs).hasSize(threads * each);
        assertThat(Collections.max(seqs)).isEqualTo(threads * each);
        List<AuditEntry> stored = log.read(0, threads * each + 1);
        for (int i = 1; i < stored.size(); i++) {
            assertThat(stored.get(i).prevHash()).isEqualTo(stored.get(i - 1).hash());
        }
        AuditVerification result = verifyClosed();
        assertThat(result.ok()).as(result.summary()).isTrue();
        assertThat(result.entries()).isEqualTo(threads * each);
    }

    @Test
    void twoStoresAppendingToOneDatabaseStillFormOneChain() throws Exception {
        // Two stores stand for two processes: their writers share no Java state, so only the
        // store's compare-and-append keeps their chains from forking.
        int threadsEach = 4;
        int appendsEach = 50;
        try (Store second = open(dir, clock);
                AuditLog other = AuditLogs.open(second.audit(), keys, EVERY_10, clock);
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> futures = new ArrayList<>();
            for (AuditLog target : List.of(log, other)) {
                for (int t = 0; t < threadsEach; t++) {
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < appendsEach; i++) {
                            target.append(event(i));
                        }
                        return null;
                    }));
                }
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }

        AuditVerification result = verifyClosed();
        assertThat(result.ok()).as(result.summary()).isTrue();
        assertThat(result.entries()).isEqualTo(2L * threadsEach * appendsEach);
        List<AuditEntry> all = store.audit().read(0, 1_000);
        assertThat(all).extracting(AuditEntry::seq).doesNotHaveDuplicates().hasSize(2 * threadsEach * appendsEach);
    }

    @Test
    void aFailedWriteFailsItsAppendsAndTheChainGoesOnIntact() throws SQLException {
        appendEach(1, 3);
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            failInsertsOf(s, "test.fail", "disk on fire");
        }

        assertThatThrownBy(() -> log.append(AuditEvent.of(START, Actor.system("test"), "test.fail", Decision.INFO)))
                .isInstanceOf(AuditException.class)
                .hasMessageContaining("audit entry not written")
                .hasMessageContaining("disk on fire");
        AuditEntry next = log.append(event(4));

        assertThat(next.seq()).isEqualTo(4);
        assertThat(next.prevHash()).isEqualTo(entry(3).hash());
        AuditVerification result = verifyClosed();
        assertThat(result.ok()).as(result.summary()).isTrue();
        assertThat(result.entries()).isEqualTo(4);
    }

    @Test
    void theAuditTablesRefuseUpdatesAndDeletesWhileTheirTriggersStand() throws SQLException {
        appendEach(1, 3);
        log.close();

        for (String sql : List.of(
                "UPDATE audit SET reason = 'x' WHERE seq = 2",
                "DELETE FROM audit WHERE seq = 2",
                "UPDATE audit_checkpoint SET created_at = 0",
                "DELETE FROM audit_checkpoint")) {
            try (Connection c = connect();
                    Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.execute(sql)).as(sql).hasMessageContaining("the audit log is append-only");
            }
        }
        assertThat(log.verify().ok()).isTrue();
    }

    // ---- restarts and checkpoints

    @Test
    void aNewLogHasOneCheckpointThatNamesTheKeyAndVerifies() {
        AuditVerification result = log.verify();

        assertThat(result.ok()).as(result.summary()).isTrue();
        assertThat(result.entries()).isZero();
        assertThat(result.checkpoints()).isEqualTo(1);
        assertThat(result.signedThroughSeq()).isZero();
        assertThat(result.summary()).isEqualTo("OK: 0 entries, 1 checkpoints, signed through seq 0.");
    }

    @Test
    void restartContinuesTheChain() {
        List<AuditEntry> before = appendEach(1, 5);
        restart(EVERY_10);
        List<AuditEntry> after = appendEach(6, 7);

        assertThat(after.getFirst().seq()).isEqualTo(6);
        assertThat(after.getFirst().prevHash()).isEqualTo(before.getLast().hash());
        AuditVerification result = verifyClosed();
        assertThat(result.ok()).as(result.summary()).isTrue();
        assertThat(result.entries()).isEqualTo(7);
    }

    @Test
    void checkpointsAreSignedEveryNEntriesAndTheRestWhenTheLogCloses() {
        appendEach(1, 25);

        AuditVerification running = log.verify();
        assertThat(running.ok()).as(running.summary()).isTrue();
        assertThat(running.signedThroughSeq()).isEqualTo(20);
        assertThat(running.checkpoints()).isEqualTo(3); // seq 0, 10, 20
        assertThat(running.unsignedEntries()).isEqualTo(5);
        assertThat(running.summary()).contains("Warning: the last 5 entries (after seq 20)");

        AuditVerification closed = verifyClosed();
        assertThat(closed.signedThroughSeq()).isEqualTo(25);
        assertThat(closed.unsignedEntries()).isZero();
    }

    @Test
    void aCheckpointIsSignedWhenTheLastOneIsOlderThanTheInterval() {
        restart(new Settings(1_000, Duration.ofMinutes(1), 4_096));
        appendEach(1, 3);
        assertThat(log.verify().signedThroughSeq()).isZero();

        clock.advance(Duration.ofMinutes(2));
        appendEach(4, 4);

        assertThat(log.verify().signedThroughSeq()).isEqualTo(4);
    }

    // ---- tampering: each must make verify fail at the right entry

    record FieldEdit(String column, String sql, FlipByte flip) {
        FieldEdit(String column, String sql) {
            this(column, sql, null);
        }

        @Override
        public String toString() {
            return column;
        }
    }

    static Stream<FieldEdit> fieldEdits() {
        String where = " WHERE seq = 14";
        return Stream.of(
                new FieldEdit("time", "UPDATE audit SET time = time + 1" + where),
                new FieldEdit("actor_kind", "UPDATE audit SET actor_kind = 'system'" + where),
                new FieldEdit("actor_id", "UPDATE audit SET actor_id = 'telegram:4712'" + where),
                new FieldEdit("agent", "UPDATE audit SET agent = 'eve'" + where),
                new FieldEdit("agent removed", "UPDATE audit SET agent = NULL" + where),
                new FieldEdit("session_id", "UPDATE audit SET session_id = 8" + where),
                new FieldEdit("action", "UPDATE audit SET action = 'egress.allow'" + where),
                new FieldEdit("decision", "UPDATE audit SET decision = 'allow'" + where),
                new FieldEdit("rule", "UPDATE audit SET rule = 'egress.allow[1]'" + where),
                new FieldEdit("reason", "UPDATE audit SET reason = 'host not on the allowlist.'" + where),
                new FieldEdit("details value", "UPDATE audit SET details = replace(details, 'evil', 'good')" + where),
                new FieldEdit("details type", "UPDATE audit SET details = replace(details, '443', '\"443\"')" + where),
                new FieldEdit("details key", "UPDATE audit SET details = replace(details, 'host', 'hosts')" + where),
                new FieldEdit("prev_hash", "UPDATE audit SET prev_hash = ?" + where, flipped(0)),
                new FieldEdit("hash", "UPDATE audit SET hash = ?" + where, flipped(31)));
    }

    /** A hash with one bit changed at byte {@code index}; tamper() replaces the placeholder. */
    static FlipByte flipped(int index) {
        return new FlipByte(index);
    }

    /** Stands for "the current value of the column with one byte changed". */
    record FlipByte(int index) {}

    @ParameterizedTest(name = "{0}")
    @MethodSource("fieldEdits")
    void editingAnyFieldOfAnEntryFailsVerifyAtThatEntry(FieldEdit edit) {
        appendEach(1, 30);
        log.close();

        tamper(edit.sql(), resolve(edit));

        AuditVerification result = AuditLogs.verify(store.audit(), keys.getPublic());
        assertThat(result.ok()).isFalse();
        assertThat(result.firstProblem().seq()).as(result.summary()).isEqualTo(14);
        assertThat(result.firstProblem().kind()).as(result.summary()).isEqualTo(Kind.HASH_MISMATCH);
        assertThat(result.entries()).isEqualTo(13);
        assertThat(result.summary()).startsWith("BROKEN at seq 14: hash-mismatch");
    }

    private Object[] resolve(FieldEdit edit) {
        if (edit.flip() == null) {
            return new Object[0];
        }
        byte[] value = HexFormat.of()
                .parseHex(
                        edit.column().equals("hash")
                                ? entry(14).hash()
                                : entry(14).prevHash());
        value[edit.flip().index()] ^= 0x01;
        return new Object[] {value};
    }

    private AuditEntry entry(long seq) {
        return store.audit().read(seq - 1, 1).getFirst();
    }

    @Test
    void editingEveryByteOfAnEntrysTextIsCaught() {
        appendEach(1, 3);
        log.close();
        String reason = entry(2).event().reason();
        for (int i = 0; i < reason.length(); i++) {
            String edited = reason.substring(0, i) + (char) (reason.charAt(i) ^ 1) + reason.substring(i + 1);
            tamper("UPDATE audit SET reason = ? WHERE seq = 2", edited);

            AuditVerification result = AuditLogs.verify(store.audit(), keys.getPublic());
            assertThat(result.firstProblem()).as("byte %d", i).isNotNull();
            assertThat(result.firstProblem().seq()).isEqualTo(2);
        }
        tamper("UPDATE audit SET reason = ? WHERE seq = 2", reason);
        assertThat(AuditLogs.verify(store.audit(), keys.getPublic()).ok()).isTrue();
    }

    @Test
    void deletingAnEntryFailsVerifyAtItsSeq() {
        appendEach(1, 30);
        log.close();

        tamper("DELETE FROM audit WHERE seq = 17");

        AuditVerification result = AuditLogs.verify(store.audit(), keys.getPublic());
        assertThat(result.firstProblem().kind()).as(result.summary()).isEqualTo(Kind.MISSING);
        assertThat(result.firstProblem().seq()).isEqualTo(17);
        assertThat(result.firstProblem().detail()).contains("entry 17 not found");
    }

    @Test
    void swappingTwoEntriesFailsVerifyAtTheFirstOfThem() {
        appendEach(1, 30);
        log.close();
        // Move row 12 aside, row 13 into its place, and the old 12 into 13's place.
        tamper("UPDATE audit SET seq = 1000 WHERE seq = 12");
        tamper("UPDATE audit SET seq = 12 WHERE seq = 13");
        tamper("UPDATE audit SET seq = 13 WHERE seq = 1000");

        AuditVerification result = AuditLogs.verify(store.audit(), keys.getPublic());
        assertThat(result.firstProblem().kind()).as(result.summary()).isEqualTo(Kind.REORDERED);
        assertThat(result.firstProblem().seq()).isEqualTo(12);
        assertThat(result.firstProblem().detail()).contains("written as seq 13");
    }

    @Test
    void cuttingOffTheEndBeforeTheLastCheckpointFailsVerify() {
        appendEach(1, 30);
        log.close(); // signs seq 30

        tamper("DELETE FROM audit WHERE seq > 27");

        AuditVerification result = AuditLogs.verify(store.audit(), keys.getPublic());
        assertThat(result.firstProblem().kind()).as(result.summary()).isEqualTo(Kind.TRUNCATED);
        assertThat(result.firstProblem().seq()).isEqualTo(28);
    }

    @Test
    void aLogReopenedAfterItsEndWasCutOffKeepsTheEvidence() {
        appendEach(1, 30);
        log.close(); // signs seq 30
        tamper("DELETE FROM audit WHERE seq > 25");

        clock.advance(Duration.ofHours(1)); // a checkpoint would be due, but there is nothing to sign
        restart(EVERY_10);
        AuditEntry next = log.append(event(26));

        assertThat(next.seq()).isEqualTo(26);
        AuditVerification result = verifyClosed();
        assertThat(result.firstProblem().kind()).as(result.summary()).isEqualTo(Kind.TRUNCATED);
        assertThat(result.firstProblem().seq()).isEqualTo(27);
    }

    @Test
    void cuttingOffUnsignedEntriesWithTheirCheckpointShowsOnlyAsAShorterSignedLog() {
        // The documented limit: the log alone cannot show what was cut after its last checkpoint.
        appendEach(1, 30);
        log.close();

        tamper("DELETE FROM audit WHERE seq > 25");
        tamper("DELETE FROM audit_checkpoint WHERE seq > 20");

        AuditVerification result = AuditLogs.verify(store.audit(), keys.getPublic());
        assertThat(result.ok()).as(result.summary()).isTrue();
        assertThat(result.unsignedEntries()).isEqualTo(5);
    }

    @Test
    void editingACheckpointFailsVerifyAtThatCheckpoint() {
        appendEach(1, 30);
        log.close();

        tamper("UPDATE audit_checkpoint SET created_at = created_at + 1 WHERE seq = 20");

        AuditVerification result = AuditLogs.verify(store.audit(), keys.getPublic());
        assertThat(result.firstProblem().kind()).as(result.summary()).isEqualTo(Kind.BAD_SIGNATURE);
        assertThat(result.firstProblem().seq()).isEqualTo(20);
        assertThat(result.signedThroughSeq()).isEqualTo(10);
    }

    @Test
    void deletingACheckpointInTheMiddleFailsVerifyAtTheNextOne() {
        appendEach(1, 30);
        log.close();

        tamper("DELETE FROM audit_checkpoint WHERE seq = 10");

        AuditVerification result = AuditLogs.verify(store.audit(), keys.getPublic());
        assertThat(result.firstProblem().kind()).as(result.summary()).isEqualTo(Kind.CHECKPOINT_MISSING);
        assertThat(result.firstProblem().seq()).isEqualTo(20);
    }

    @Test
    void deletingTheFirstCheckpointFailsVerify() {
        appendEach(1, 5);
        log.close();

        tamper("DELETE FROM audit_checkpoint WHERE seq = 0");

        AuditVerification result = AuditLogs.verify(store.audit(), keys.getPublic());
        assertThat(result.firstProblem().kind()).as(result.summary()).isEqualTo(Kind.NO_GENESIS);
    }

    @Test
    void verifyingWithAnotherKeyFailsAtTheFirstCheckpoint() throws Exception {
        appendEach(1, 5);
        KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();

        AuditVerification result = AuditLogs.verify(store.audit(), other.getPublic());

        assertThat(result.firstProblem().kind()).as(result.summary()).isEqualTo(Kind.WRONG_KEY);
        assertThat(result.firstProblem().seq()).isZero();
    }

    @Test
    void aTailRewrittenAndResignedWithAnotherKeyFailsAtTheFirstForgedCheckpoint() throws Exception {
        appendEach(1, 30);
        log.close();
        // Someone without the key deletes the history after seq 15 and writes their own, signing it
        // with a key of their own.
        tamper("DELETE FROM audit WHERE seq > 15");
        tamper("DELETE FROM audit_checkpoint WHERE seq > 10");
        KeyPair forger = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        log = AuditLogs.open(store.audit(), forger, EVERY_10, clock);
        appendEach(100, 114);
        log.close();

        AuditVerification result = AuditLogs.verify(store.audit(), keys.getPublic());
        assertThat(result.firstProblem().kind()).as(result.summary()).isEqualTo(Kind.WRONG_KEY);
        assertThat(result.firstProblem().seq()).isEqualTo(20);
        assertThat(result.signedThroughSeq()).isEqualTo(10);
    }

    @Test
    void entriesRewrittenWithRecomputedHashesFailAtTheCheckpointCoveringThem() {
        appendEach(1, 30);
        log.close();
        // Rewrite seq 16-30 with their hashes recomputed (the writer does it for us), leaving the
        // signed checkpoints 20 and 30 of the original history in place.
        tamper("DELETE FROM audit WHERE seq > 15");
        log = AuditLogs.open(store.audit(), keys, new Settings(1_000, Duration.ofDays(1), 4_096), clock);
        for (int i = 16; i <= 30; i++) {
            log.append(event(i).withReason("nothing to see"));
        }
        log.close();

        AuditVerification result = AuditLogs.verify(store.audit(), keys.getPublic());
        assertThat(result.firstProblem().kind()).as(result.summary()).isEqualTo(Kind.CHECKPOINT_MISMATCH);
        assertThat(result.firstProblem().seq()).isEqualTo(20);
        assertThat(result.firstProblem().detail()).contains("entries after seq 10 up to 20");
    }

    @Test
    void aRowTheLogCouldNeverHaveWrittenIsReportedAsMalformed() {
        appendEach(1, 5);
        log.close();

        tamper("UPDATE audit SET details = '{\"nested\": {\"a\": 1}}' WHERE seq = 3");

        AuditVerification result = AuditLogs.verify(store.audit(), keys.getPublic());
        assertThat(result.firstProblem().kind()).as(result.summary()).isEqualTo(Kind.MALFORMED);
        assertThat(result.firstProblem().seq()).isEqualTo(3);
        assertThatThrownBy(() -> store.audit().read(0, 10))
                .hasMessageContaining("audit entry 3")
                .hasMessageContaining("cordon audit verify");
    }

    @Test
    void deletingTheLastEntryWhileTheLogRunsStillShows() {
        appendEach(1, 5);
        // The writer links the next entry to the head it remembers, not to what the table now ends
        // with, so the deletion stays a gap instead of being chained over.
        tamper("DELETE FROM audit WHERE seq = 5");
        AuditEntry next = log.append(event(6));

        assertThat(next.seq()).isEqualTo(6);
        AuditVerification result = verifyClosed();
        assertThat(result.firstProblem().kind()).as(result.summary()).isEqualTo(Kind.MISSING);
        assertThat(result.firstProblem().seq()).isEqualTo(5);
    }

    // ---- scale

    @Test
    void aLogOfAMillionEntriesVerifies() {
        log.close();
        log = AuditLogs.open(store.audit(), keys, Settings.DEFAULTS, clock);
        int total = 1_000_000;
        int chunk = 10_000;
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("host", "api.example.com");
        details.put("bytes", 1234);
        long started = System.nanoTime();
        for (int done = 0; done < total; done += chunk) {
            List<AuditEvent> events = new ArrayList<>(chunk);
            for (int i = 0; i < chunk; i++) {
                events.add(AuditEvent.of(
                                START.plusMillis(done + i), Actor.system("egress"), "egress.allow", Decision.ALLOW)
                        .withAgent(new AgentName("ada"))
                        .withSession(new SessionId(done + i))
                        .withDetails(details));
            }
            log.appendAll(events);
        }
        long appended = System.nanoTime();

        AuditVerification result = verifyClosed();
        long verified = System.nanoTime();

        assertThat(result.ok()).as(result.summary()).isTrue();
        assertThat(result.entries()).isEqualTo(total);
        assertThat(result.signedThroughSeq()).isEqualTo(total);
        // Printed, not asserted: speed belongs to the benchmark (AuditBench).
        System.out.printf(
                "audit: appended %d in %.1f s, verified in %.1f s%n",
                total, (appended - started) / 1e9, (verified - appended) / 1e9);
    }
}
