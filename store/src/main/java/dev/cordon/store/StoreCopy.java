package dev.cordon.store;

import dev.cordon.core.store.StoreException;
import dev.cordon.store.Database.RawSqlException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Copies every row of one store into another, empty one (SQLite into PostgreSQL for {@code cordon
 * migrate}): ids, times and the audit chain's hashes and signatures exactly as they are, so the
 * chain verifies afterwards and every id an audit entry names still points at its row.
 *
 * <p>All or nothing: the whole copy is one transaction of the target, read from one snapshot of the
 * source, which is only read. A failure (a value the target refuses, a lost connection) rolls the
 * target back to empty, so the copy can simply be run again.
 */
final class StoreCopy {
    /**
     * Every table of the schema, parents before children (foreign keys). A table the source has
     * that is not listed stops the copy: a newer schema must teach this list its tables.
     */
    static final List<String> TABLES = List.of(
            "agents",
            "chats",
            "wirings",
            "sessions",
            "inbound",
            "inbound_files",
            "outbound",
            "outbound_files",
            "transcript",
            "audit",
            "audit_checkpoint",
            "approvals",
            "role_grants",
            "chat_policies",
            "sender_requests",
            "held_inbound",
            "pairing_codes",
            "model_usage",
            "tasks",
            "task_runs");

    /**
     * Tables of running replicas' state (heartbeats, leases: docs/store.md), never copied: a stopped
     * SQLite daemon has none that would still hold, and the first replica on the target makes its own.
     */
    static final Set<String> NOT_COPIED = Set.of("replicas", "leases");

    /** Tables whose ids come from an identity sequence, which must continue after the copied ids. */
    private static final Set<String> WITHOUT_ID = Set.of(
            "wirings",
            "chat_policies",
            "audit",
            "audit_checkpoint",
            "replicas",
            "leases",
            "outbound_files",
            "inbound_files");

    private static final int BATCH = 1_000;

    private StoreCopy() {}

    /**
     * Copies {@code source} into {@code target}; returns the rows copied per table, in {@link
     * #TABLES} order.
     *
     * @throws StoreException if the target holds any row, the source has a table this code does not
     *     know, or a row cannot be written (the message names the table); the target is left as it
     *     was, the source untouched
     */
    static Map<String, Long> copy(Database source, Database target) {
        return target.withWriteTransaction(
                "copy into " + target.describe(),
                into -> source.withReadTransaction("copy from " + source.describe(), from -> {
                    try {
                        return copy(from.getConnection(), into.getConnection(), source, target);
                    } catch (SQLException e) {
                        throw new RawSqlException(e);
                    }
                }));
    }

    private static Map<String, Long> copy(Connection from, Connection into, Database source, Database target)
            throws SQLException {
        refuseUnknownTables(from, source);
        for (String table : TABLES) {
            if (count(into, table) > 0) {
                throw new StoreException(
                        target.describe() + " is not empty (table " + table + " has rows):"
                                + " migrate only into a new, empty database, so that nothing in it is overwritten or mixed",
                        null);
            }
        }
        Map<String, Long> copied = new LinkedHashMap<>();
        for (String table : TABLES) {
            long rows = copyTable(from, into, table, target.dialect());
            long expected = count(from, table);
            if (rows != expected) {
                throw new StoreException(
                        "copied " + rows + " rows of table " + table + " but the source has " + expected
                                + "; nothing was kept",
                        null);
            }
            if (!WITHOUT_ID.contains(table)) {
                try (Statement s = into.createStatement()) {
                    s.execute("SELECT setval(pg_get_serial_sequence('" + table + "', 'id'), max(id)) FROM " + table
                            + " HAVING max(id) IS NOT NULL");
                }
            }
            copied.put(table, rows);
        }
        return Collections.unmodifiableMap(copied);
    }

    private static void refuseUnknownTables(Connection from, Database source) throws SQLException {
        Set<String> unknown = new TreeSet<>();
        try (Statement s = from.createStatement();
                ResultSet rs = s.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'"
                        + " AND name NOT LIKE 'sqlite%' AND name <> 'flyway_schema_history'")) {
            while (rs.next()) {
                unknown.add(rs.getString(1));
            }
        }
        unknown.removeAll(TABLES);
        unknown.removeAll(NOT_COPIED);
        if (!unknown.isEmpty()) {
            throw new StoreException(
                    source.describe() + " has tables this Cordon cannot copy: " + unknown
                            + ". Migrate with the Cordon that wrote them.",
                    null);
        }
    }

    private static long copyTable(Connection from, Connection into, String table, Dialect dialect) throws SQLException {
        boolean audit = table.startsWith("audit");
        long rows = 0;
        try (Statement read = from.createStatement();
                ResultSet rs = read.executeQuery("SELECT * FROM " + table + " ORDER BY 1")) {
            ResultSetMetaData meta = rs.getMetaData();
            int columns = meta.getColumnCount();
            List<String> names = new ArrayList<>();
            for (int i = 1; i <= columns; i++) {
                names.add(meta.getColumnName(i));
            }
            String insert = "INSERT INTO " + table + " (" + String.join(", ", names) + ") VALUES ("
                    + String.join(", ", Collections.nCopies(columns, "?")) + ")";
            try (PreparedStatement write = into.prepareStatement(insert)) {
                while (rs.next()) {
                    for (int i = 1; i <= columns; i++) {
                        Object value = rs.getObject(i);
                        // Text as the target store would have kept it (U+0000: Dialect).
                        if (value instanceof String text) {
                            value = audit ? dialect.toAuditText(text) : dialect.toText(text);
                        }
                        write.setObject(i, value);
                    }
                    write.addBatch();
                    if (++rows % BATCH == 0) {
                        execute(write, table);
                    }
                }
                execute(write, table);
            }
        }
        return rows;
    }

    private static void execute(PreparedStatement batch, String table) {
        try {
            batch.executeBatch();
        } catch (SQLException e) {
            SQLException cause = e.getNextException() != null ? e.getNextException() : e;
            throw new StoreException("cannot copy table " + table + ": " + cause.getMessage(), e);
        }
    }

    private static long count(Connection c, String table) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
