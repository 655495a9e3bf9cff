package dev.cordon.store;

import java.sql.SQLException;
import java.util.function.Function;
import javax.sql.DataSource;
import org.jdbi.v3.core.Handle;

/**
 * The connections to one store's database and the transactions run over them: the seam between
 * the SQL the stores share ({@link JdbcStore}, {@link JdbcLedger}, {@link JdbcAuditStorage}) and
 * what each engine does its own way (locking, isolation, pooling, error codes).
 *
 * <p>Implementations are thread-safe; every method blocks until its transaction has committed or
 * rolled back. A failure of the database becomes a {@link dev.cordon.core.store.StoreException}; a
 * foreign-key violation (the caller named a row that does not exist) an {@link
 * IllegalArgumentException}; anything the work itself throws passes through. After {@link #close()}
 * every call throws {@link IllegalStateException}.
 */
interface Database extends AutoCloseable {
    /**
     * Runs {@code work} in one write transaction and commits it durably before returning. Writes
     * behave as if run one at a time: a read-then-write inside {@code work} is never interleaved
     * with another writer's. {@code work} may run more than once (an engine may retry a transaction
     * that lost a race), so it must have no effect outside the database.
     */
    <T> T withWriteTransaction(String operation, Function<Handle, T> work);

    /** Runs {@code work} in one read-only transaction: a consistent snapshot of the last commit. */
    <T> T withReadTransaction(String operation, Function<Handle, T> work);

    /** The SQL this engine speaks where the stores' shared SQL has to differ. */
    Dialect dialect();

    /** Connections for Flyway, configured like the store's own. */
    DataSource dataSource();

    /** Names the database in messages: the file, or the URL without credentials. */
    String describe();

    /** Waits for running transactions, then closes every connection. Idempotent. */
    @Override
    void close();

    /**
     * A JDBC failure inside a transaction, from code that uses the connection directly instead of
     * Jdbi (the audit log's bulk insert and scan, where Jdbi's per-row binding would cost more than
     * the database itself). Translated like a Jdbi failure.
     */
    final class RawSqlException extends RuntimeException {
        RawSqlException(SQLException cause) {
            super(cause.getMessage(), cause);
        }
    }
}
