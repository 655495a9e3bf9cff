package dev.cordon.store;

/**
 * The few places where the stores' SQL differs between SQLite and PostgreSQL. Everything else (the
 * upserts, {@code RETURNING}, partial indexes, the aggregates) is written once, in SQL both accept.
 */
enum Dialect {
    SQLITE("classpath:db/migration/sqlite"),
    POSTGRESQL("classpath:db/migration/postgresql");

    /** One Flyway folder per vendor: their DDL differs, so their migrations do too. */
    final String migrations;

    Dialect(String migrations) {
        this.migrations = migrations;
    }

    /**
     * {@code table} read through {@code index}. SQLite, without statistics, cannot tell that a
     * partial index of live rows is far smaller than another index and picks the latter or a scan;
     * naming the index also makes the query fail loudly if a migration ever drops it. PostgreSQL's
     * planner has statistics and has no such hint.
     */
    String from(String table, String index) {
        return switch (this) {
            case SQLITE -> table + " INDEXED BY " + index;
            case POSTGRESQL -> table;
        };
    }

    /**
     * Appended to the select that picks rows to claim. On PostgreSQL several connections (and later
     * several daemons) claim at once: each locks the rows it takes and skips rows another claimer
     * holds, instead of queueing behind it. SQLite has one writer at a time and no row locks.
     */
    String skipLocked() {
        return switch (this) {
            case SQLITE -> "";
            case POSTGRESQL -> " FOR UPDATE SKIP LOCKED";
        };
    }

    /**
     * The text columns as one JSON array of strings and nulls: one value per row to fetch instead
     * of several (see {@link JdbcAuditStorage}).
     */
    String jsonArray(String columns) {
        return switch (this) {
            case SQLITE -> "json_array(" + columns + ")";
            case POSTGRESQL -> "json_build_array(" + columns + ")::text";
        };
    }

    /**
     * Any other text as the store keeps it. PostgreSQL's text cannot hold U+0000, and a chat
     * message may carry one: failing would make the channel redeliver that message forever, so
     * there U+0000 becomes U+FFFD, the replacement character. SQLite keeps any text.
     */
    String toText(String text) {
        if (this == SQLITE || text == null || text.indexOf('\u0000') < 0) {
            return text;
        }
        return text.replace('\u0000', '\uFFFD');
    }

    /**
     * A free text as the audit log stores it. PostgreSQL's text cannot hold U+0000, and the log must
     * keep whatever it was given (a reason may quote hostile input; the hash covers it): there
     * U+0000 becomes U+0001 '0' and U+0001 becomes U+0001 '1'. Text without either (all real text)
     * is stored unchanged, so the database stays readable and greppable. SQLite stores any text.
     */
    String toAuditText(String text) {
        if (this == SQLITE || text == null || !hasLowControl(text)) {
            return text;
        }
        StringBuilder b = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 2) {
                b.append('\u0001').append((char) ('0' + c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * The inverse of {@link #toAuditText}. A U+0001 not followed by '0' or '1' (never written by
     * the store, only by someone editing the table) is kept as it is, so verify sees the change.
     */
    String fromAuditText(String stored) {
        if (this == SQLITE || stored == null || stored.indexOf('\u0001') < 0) {
            return stored;
        }
        StringBuilder b = new StringBuilder(stored.length());
        for (int i = 0; i < stored.length(); i++) {
            char c = stored.charAt(i);
            char next = i + 1 < stored.length() ? stored.charAt(i + 1) : 0;
            if (c == '\u0001' && (next == '0' || next == '1')) {
                b.append((char) (next - '0'));
                i++;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean hasLowControl(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < 2) {
                return true;
            }
        }
        return false;
    }
}
