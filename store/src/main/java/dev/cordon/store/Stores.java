package dev.cordon.store;

import dev.cordon.core.store.Store;
import dev.cordon.core.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;

/** Opens {@link Store}s: SQLite (the embedded default) or PostgreSQL (docs/store.md). */
public final class Stores {
    private Stores() {}

    /**
     * Opens the SQLite store in {@code dbFile} with the system clock; see {@link #sqlite(Path, Clock)}.
     */
    public static Store sqlite(Path dbFile) {
        return sqlite(dbFile, Clock.systemUTC());
    }

    /**
     * Opens the SQLite store in {@code dbFile}, creating the file and its parent directories when
     * missing, and migrates its schema to the newest version this code knows. Blocks while it
     * migrates. The returned store is thread-safe; close it to release the file.
     *
     * @param clock stamps created, received, claimed and delivered times (millisecond precision)
     * @throws StoreException if the directory or file cannot be created or opened, the file is not an
     *     SQLite database, its schema is newer than this code, or a migration fails. Nothing is left
     *     open then.
     */
    public static Store sqlite(Path dbFile, Clock clock) {
        // One daemon per SQLite file (the home's lock): its claims are all its own.
        return sqlite(dbFile, clock, "local");
    }

    /** As {@link #sqlite(Path, Clock)}, claiming as {@code replica}: for tests of {@link Store#replicas()}. */
    static Store sqlite(Path dbFile, Clock clock, String replica) {
        Objects.requireNonNull(dbFile, "dbFile");
        Objects.requireNonNull(clock, "clock");
        Path file = dbFile.toAbsolutePath().normalize();
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new StoreException("cannot create the directory of store " + file + ": " + e, e);
        }
        return migrated(SqliteDatabase.open(file), clock, replica);
    }

    /**
     * Opens the PostgreSQL store in the database at {@code url} and migrates its schema to the newest
     * version this code knows (Flyway holds a lock meanwhile, so several daemons starting at once
     * migrate once). Blocks while it connects and migrates. The returned store is thread-safe and
     * holds a small pool of connections; close it to release them.
     *
     * @param url {@code jdbc:postgresql://host:port/database}; the database must exist, and must be
     *     empty or a Cordon store
     * @param password the user's password; never logged, never part of a message
     * @param clock stamps created, received, claimed and delivered times (millisecond precision)
     * @throws IllegalArgumentException if {@code url} is not a PostgreSQL JDBC URL
     * @throws StoreException if the server cannot be reached, refuses the login, holds tables of
     *     something else, has a schema newer than this code, or a migration fails. Nothing is left
     *     open then.
     */
    public static Store postgres(String url, String user, String password, Clock clock) {
        return postgres(url, user, password, clock, "store-" + java.util.UUID.randomUUID());
    }

    /**
     * As {@link #postgres(String, String, String, Clock)}, for a daemon replica named {@code replica}
     * (docs/store.md, "Several replicas"): its claims and leases are recorded under that name, and at
     * start it releases only its own claims. Two running replicas must never share a name.
     */
    public static Store postgres(String url, String user, String password, Clock clock, String replica) {
        Objects.requireNonNull(replica, "replica");
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(clock, "clock");
        if (!url.startsWith("jdbc:postgresql://")) {
            throw new IllegalArgumentException(
                    "a PostgreSQL store's URL starts with jdbc:postgresql://host:port/database, got '" + url + "'");
        }
        return migrated(PostgresDatabase.open(url, user, password), clock, replica);
    }

    /**
     * Copies the SQLite store in {@code sqliteFile} into the PostgreSQL database at {@code url},
     * which must hold no Cordon rows yet (its schema is created or brought up to date first): every
     * row with its id, the audit chain with its hashes and signed checkpoints as they are, so it
     * verifies afterwards. Stop every process that writes the SQLite file first; this only reads it
     * (after bringing its schema up to date, as opening it would).
     *
     * <p>All or nothing: one transaction of the target. A failure leaves the target as empty as it
     * was, and the copy can be run again.
     *
     * @return rows copied per table, parents first
     * @throws StoreException if either store cannot be opened, the target already holds rows, or a row
     *     cannot be copied (the message names the table)
     */
    public static Map<String, Long> copySqliteToPostgres(Path sqliteFile, String url, String user, String password) {
        Objects.requireNonNull(sqliteFile, "sqliteFile");
        if (!Files.isRegularFile(sqliteFile)) {
            throw new StoreException("no SQLite store at " + sqliteFile, null);
        }
        try (Store source = sqlite(sqliteFile);
                Store target = postgres(url, user, password, Clock.systemUTC())) {
            return StoreCopy.copy(((JdbcStore) source).database(), ((JdbcStore) target).database());
        }
    }

    private static Store migrated(Database database, Clock clock, String replica) {
        try {
            Migrations.migrate(database);
        } catch (RuntimeException e) {
            try {
                database.close();
            } catch (RuntimeException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
        return new JdbcStore(database, clock, replica);
    }
}
