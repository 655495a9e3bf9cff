package dev.cordon.store;

import dev.cordon.core.AgentName;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditCheckpoint;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditJson;
import dev.cordon.core.audit.AuditStorage;
import dev.cordon.core.store.StoreException;
import dev.cordon.store.Database.RawSqlException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.json.JsonFactory;

/**
 * {@link AuditStorage} in the store's database: tables {@code audit} and {@code audit_checkpoint}
 * (migration V2). One append is one write transaction of the store's {@link Database}, so it
 * queues with the store's other writes (SQLite: the one writer connection, {@code BEGIN
 * IMMEDIATE}; PostgreSQL: a serializable transaction, retried when it loses a race), and the
 * compare-and-append below keeps two appenders from forking the chain.
 *
 * <p>Uses JDBC directly rather than Jdbi: a group commit inserts thousands of rows and verify reads
 * millions, and Jdbi's per-value binding and mapping would cost more than the database does.
 * Thread-safe.
 */
final class JdbcAuditStorage implements AuditStorage {
    private static final String COLUMNS = "seq, time, actor_kind, actor_id, agent, session_id, action, decision,"
            + " rule, reason, details, prev_hash, hash";

    /**
     * What reads select: the numbers and hashes as columns, the eight text columns packed by the
     * database into one JSON array. Why: sqlite-jdbc makes several JNI calls per column, and on a
     * million-row verify the thread reading rows spent about half its CPU on them; one string per
     * row instead of eight halved it (3.9 s instead of 5.3-8.1 s of CPU for 1M rows). The JSON array
     * keeps NULL apart from '' and escapes every character, so the values arrive unchanged; the JSON
     * text of {@code details} arrives as a string, like the rest.
     */
    private static String readColumns(Dialect d) {
        return "seq, time, session_id, prev_hash, hash,"
                + d.jsonArray("actor_kind, actor_id, agent, action, decision, rule, reason, details");
    }

    private static final JsonFactory JSON = new JsonFactory();
    private static final String CHECKPOINT_COLUMNS = "seq, hash, created_at, previous_seq, public_key, signature";
    private static final HexFormat HEX = HexFormat.of();

    private static final String HEAD = "SELECT coalesce(max(seq), 0) FROM audit";
    private static final String INSERT =
            "INSERT INTO audit (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private final Database db;
    private final String readColumns;

    /**
     * An append's head check and insert, prepared on SQLite's writer connection once instead of in
     * every append (docs/benchmarks.md §4); prepared again when the writer is another (one
     * discarded after a failure closes its statements with it). Only for SQLite: its writer is one
     * long-lived connection, where PostgreSQL's pool hands out a new wrapper each time and its
     * driver keeps prepared statements by itself. Appends run one at a time (the store's write
     * lock).
     */
    private volatile Prepared kept;

    private record Prepared(Connection connection, PreparedStatement head, PreparedStatement insert) {}

    JdbcAuditStorage(Database db) {
        this.db = db;
        this.readColumns = readColumns(db.dialect());
    }

    @Override
    public Head head() {
        return db.withReadTransaction(
                "audit head",
                h -> jdbc(() -> {
                    Connection c = h.getConnection();
                    long seq = 0;
                    String hash = AuditEntry.ZERO_HASH;
                    try (PreparedStatement s =
                                    c.prepareStatement("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
                            ResultSet rs = s.executeQuery()) {
                        if (rs.next()) {
                            seq = rs.getLong(1);
                            hash = HEX.formatHex(rs.getBytes(2));
                        }
                    }
                    List<AuditCheckpoint> last = checkpoints(
                            c, "SELECT " + CHECKPOINT_COLUMNS + " FROM audit_checkpoint ORDER BY seq DESC LIMIT 1");
                    return new Head(seq, hash, last.isEmpty() ? null : last.getFirst());
                }));
    }

    @Override
    public boolean append(long expectedHeadSeq, List<AuditEntry> entries, AuditCheckpoint checkpoint) {
        // Encode before taking the write lock: no reason to hold it while Jackson works.
        List<String> details = new ArrayList<>(entries.size());
        for (AuditEntry e : entries) {
            details.add(AuditJson.details(e.event().details()));
        }
        return db.withWriteTransaction(
                "audit append",
                h -> jdbc(() -> {
                    Connection c = h.getConnection();
                    Prepared p = prepared(c);
                    long head;
                    if (p == null) {
                        try (PreparedStatement s = c.prepareStatement(HEAD)) {
                            head = maxSeq(s);
                        }
                    } else {
                        head = maxSeq(p.head());
                    }
                    if (head > expectedHeadSeq) {
                        return false;
                    }
                    if (checkpoint != null
                            && maxSeq(c, "SELECT coalesce(max(seq), -1) FROM audit_checkpoint")
                                    > checkpoint.previousSeq()) {
                        return false;
                    }
                    if (!entries.isEmpty()) {
                        if (p == null) {
                            try (PreparedStatement s = c.prepareStatement(INSERT)) {
                                insert(s, db.dialect(), entries, details);
                            }
                        } else {
                            insert(p.insert(), db.dialect(), entries, details);
                        }
                    }
                    if (checkpoint != null) {
                        insert(c, checkpoint);
                    }
                    return true;
                }));
    }

    @Override
    public List<AuditEntry> read(long afterSeq, int limit) {
        return db.withReadTransaction(
                "audit read",
                h -> jdbc(() -> {
                    try (PreparedStatement s = h.getConnection()
                            .prepareStatement(
                                    "SELECT " + readColumns + " FROM audit WHERE seq > ? ORDER BY seq LIMIT ?")) {
                        s.setLong(1, afterSeq);
                        s.setInt(2, limit);
                        List<AuditEntry> entries = new ArrayList<>();
                        RowReader reader = new RowReader(db.dialect());
                        try (ResultSet rs = s.executeQuery()) {
                            while (rs.next()) {
                                long seq = rs.getLong(1);
                                try {
                                    entries.add(reader.entry(Row.read(rs)));
                                } catch (IllegalArgumentException e) {
                                    throw new StoreException(
                                            "audit entry " + seq + " in " + db.describe() + " cannot be read ("
                                                    + e.getMessage()
                                                    + "); it was changed outside Cordon: run 'cordon audit verify'",
                                            e);
                                }
                            }
                        }
                        return entries;
                    }
                }));
    }

    @Override
    public void scan(Visitor visitor) {
        // One read transaction: the checkpoints and the entries come from the same snapshot, however
        // many appends commit meanwhile (SQLite's WAL and PostgreSQL's MVCC: the writer is not blocked by this reader).
        db.withReadTransaction(
                "audit scan",
                h -> jdbc(() -> {
                    Connection c = h.getConnection();
                    if (!visitor.checkpoints(
                            checkpoints(c, "SELECT " + CHECKPOINT_COLUMNS + " FROM audit_checkpoint ORDER BY seq"))) {
                        return null;
                    }
                    try (PreparedStatement s =
                                    c.prepareStatement("SELECT " + readColumns + " FROM audit ORDER BY seq");
                            ResultSet rs = s.executeQuery();
                            AuditScan scan = AuditScan.start(visitor, new RowReader(db.dialect())::visit)) {
                        while (!scan.stopped() && rs.next()) {
                            scan.add(Row.read(rs));
                        }
                        scan.finish();
                    }
                    return null;
                }));
    }

    /** The append's statements on {@code c}, prepared the first time; null where they are not kept. */
    private Prepared prepared(Connection c) throws SQLException {
        if (db.dialect() != Dialect.SQLITE) {
            return null;
        }
        Prepared p = kept;
        if (p == null
                || p.connection() != c
                || p.head().isClosed()
                || p.insert().isClosed()) {
            p = new Prepared(c, c.prepareStatement(HEAD), c.prepareStatement(INSERT));
            kept = p;
        }
        return p;
    }

    /** Binds and runs {@code s} (an {@link #INSERT}) for each entry: one statement, or one batch for several. */
    private static void insert(PreparedStatement s, Dialect d, List<AuditEntry> entries, List<String> details)
            throws SQLException {
        // A failed append discards SQLite's writer and its kept statements; this clears any batch anyway.
        s.clearBatch();
        for (int i = 0; i < entries.size(); i++) {
            AuditEntry entry = entries.get(i);
            AuditEvent e = entry.event();
            s.setLong(1, entry.seq());
            s.setLong(2, e.time().toEpochMilli());
            s.setString(3, e.actor().kind().label());
            s.setString(4, d.toAuditText(e.actor().id()));
            s.setString(5, e.agent() == null ? null : d.toAuditText(e.agent().value()));
            if (e.session() == null) {
                s.setNull(6, Types.INTEGER);
            } else {
                s.setLong(6, e.session().value());
            }
            s.setString(7, d.toAuditText(e.action()));
            s.setString(8, e.decision().label());
            s.setString(9, d.toAuditText(e.rule()));
            s.setString(10, d.toAuditText(e.reason()));
            s.setString(11, d.toAuditText(details.get(i)));
            s.setBytes(12, HEX.parseHex(entry.prevHash()));
            s.setBytes(13, HEX.parseHex(entry.hash()));
            if (entries.size() == 1) {
                s.executeUpdate();
                return;
            }
            s.addBatch();
        }
        s.executeBatch();
    }

    private static void insert(Connection c, AuditCheckpoint cp) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO audit_checkpoint (" + CHECKPOINT_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?)")) {
            s.setLong(1, cp.seq());
            s.setBytes(2, HEX.parseHex(cp.hash()));
            s.setLong(3, cp.time().toEpochMilli());
            s.setLong(4, cp.previousSeq());
            s.setBytes(5, Base64.getDecoder().decode(cp.publicKey()));
            s.setBytes(6, Base64.getDecoder().decode(cp.signature()));
            s.executeUpdate();
        }
    }

    /** One {@code audit} row as read ({@link #readColumns}), before any checking. */
    static final class Row {
        final long seq;
        final long time;
        final Long session;
        final byte[] prevHash;
        final byte[] hash;
        /** actor_kind, actor_id, agent, action, decision, rule, reason, details as a JSON array. */
        final String texts;

        private Row(ResultSet rs) throws SQLException {
            seq = rs.getLong(1);
            time = rs.getLong(2);
            long s = rs.getLong(3);
            session = rs.wasNull() ? null : s;
            prevHash = rs.getBytes(4);
            hash = rs.getBytes(5);
            texts = rs.getString(6);
        }

        static Row read(ResultSet rs) throws SQLException {
            return new Row(rs);
        }
    }

    /**
     * Maps the rows of one query. Throws {@link IllegalArgumentException} for a value the log never
     * writes (an unknown kind, a malformed agent name or action, details that are not a flat JSON
     * object). Remembers agent names, which repeat on almost every row and cost a pattern match each.
     * Not thread-safe.
     */
    private static final class RowReader {
        private final Map<String, AgentName> agents = new HashMap<>();
        private final Dialect dialect;

        RowReader(Dialect dialect) {
            this.dialect = dialect;
        }

        AuditEntry entry(Row row) {
            String[] t = texts(row.texts);
            AuditEvent event = new AuditEvent(
                    Instant.ofEpochMilli(row.time),
                    new Actor(Actor.Kind.ofLabel(t[0]), t[1]),
                    agent(t[2]),
                    row.session == null ? null : new SessionId(row.session),
                    t[3],
                    Decision.ofLabel(t[4]),
                    t[5],
                    t[6],
                    AuditJson.parseDetails(t[7]));
            return new AuditEntry(row.seq, event, HEX.formatHex(row.prevHash), HEX.formatHex(row.hash));
        }

        /** The eight strings (or nulls) of {@link Row#texts}. */
        private String[] texts(String json) {
            String[] texts = new String[8];
            try (JsonParser p = JSON.createParser(ObjectReadContext.empty(), json)) {
                if (p.nextToken() != JsonToken.START_ARRAY) {
                    throw new IllegalArgumentException("not a JSON array: " + json);
                }
                for (int i = 0; i < texts.length; i++) {
                    JsonToken token = p.nextToken();
                    if (token == JsonToken.VALUE_STRING) {
                        texts[i] = dialect.fromAuditText(p.getString());
                    } else if (token != JsonToken.VALUE_NULL) {
                        throw new IllegalArgumentException("text column " + i + " holds " + token);
                    }
                }
                if (p.nextToken() != JsonToken.END_ARRAY) {
                    throw new IllegalArgumentException("more than eight text columns: " + json);
                }
            } catch (JacksonException e) {
                throw new IllegalArgumentException("unreadable text columns: " + e.getOriginalMessage(), e);
            }
            if (texts[0] == null || texts[1] == null || texts[3] == null || texts[4] == null || texts[7] == null) {
                throw new IllegalArgumentException("a required column is NULL");
            }
            return texts;
        }

        /** Maps {@code row} and hands it to {@code visitor}; returns what the visitor returns. */
        boolean visit(Row row, Visitor visitor) {
            AuditEntry entry;
            try {
                entry = entry(row);
            } catch (IllegalArgumentException e) {
                return visitor.unreadable(row.seq, e.getMessage());
            }
            return visitor.entry(entry);
        }

        private AgentName agent(String name) {
            if (name == null) {
                return null;
            }
            AgentName known = agents.get(name);
            if (known == null) {
                known = new AgentName(name);
                if (agents.size() < 1_024) {
                    agents.put(name, known);
                }
            }
            return known;
        }
    }

    private static List<AuditCheckpoint> checkpoints(Connection c, String sql) throws SQLException {
        List<AuditCheckpoint> checkpoints = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(sql);
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                checkpoints.add(new AuditCheckpoint(
                        rs.getLong(1),
                        HEX.formatHex(rs.getBytes(2)),
                        Instant.ofEpochMilli(rs.getLong(3)),
                        rs.getLong(4),
                        Base64.getEncoder().encodeToString(rs.getBytes(5)),
                        Base64.getEncoder().encodeToString(rs.getBytes(6))));
            }
        }
        return checkpoints;
    }

    private static long maxSeq(Connection c, String sql) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            return maxSeq(s);
        }
    }

    private static long maxSeq(PreparedStatement s) throws SQLException {
        try (ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private interface JdbcWork<T> {
        T run() throws SQLException;
    }

    private static <T> T jdbc(JdbcWork<T> work) {
        try {
            return work.run();
        } catch (SQLException e) {
            throw new RawSqlException(e);
        }
    }
}
