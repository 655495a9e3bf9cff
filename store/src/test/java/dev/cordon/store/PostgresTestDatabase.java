package dev.cordon.store;

import dev.cordon.core.store.Store;
import dev.cordon.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;

/**
 * One test's database on the JVM's one PostgreSQL server (testkit's {@link PostgresServer}):
 * created on first use, dropped by {@link #close()}. Not thread-safe; one per test instance.
 */
final class PostgresTestDatabase implements AutoCloseable {
    static final PostgresServer PG = PostgresServer.shared();

    /** A database with the current schema, made once per JVM; each test's database is a copy. */
    private static String schema;

    private String url;

    String url() {
        if (url == null) {
            url = PG.createDatabase(schema());
        }
        return url;
    }

    private static synchronized String schema() {
        if (schema == null) {
            String empty = PG.createDatabase();
            // Opening migrates; the copies then only validate. Migrating an empty database is
            // still tested: MigrateCommandTest and the foreign-database test start from one.
            Stores.postgres(empty, PG.user(), PG.password(), Clock.systemUTC()).close();
            schema = PostgresServer.name(empty);
        }
        return schema;
    }

    /** Opens (and the first time, creates the schema of) a store on this database. */
    Store open(Clock clock) {
        // One name for every open: a reopened store is the same daemon restarted (its claims its own).
        return open(clock, "test");
    }

    /** Opens a store of replica {@code replica} on this database. */
    Store open(Clock clock, String replica) {
        return Stores.postgres(url(), PG.user(), PG.password(), clock, replica);
    }

    /** A plain connection, as any client of the database would open one. */
    Connection connect() throws SQLException {
        return DriverManager.getConnection(url(), PG.user(), PG.password());
    }

    @Override
    public void close() {
        if (url != null) {
            PG.dropDatabase(url);
            url = null;
        }
    }
}
