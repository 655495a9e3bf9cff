package dev.cordon.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import dev.cordon.core.store.StoreException;
import java.sql.SQLException;
import java.sql.Types;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import javax.sql.DataSource;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.argument.AbstractArgumentFactory;
import org.jdbi.v3.core.argument.Argument;
import org.jdbi.v3.core.config.ConfigRegistry;
import org.jdbi.v3.core.transaction.TransactionIsolationLevel;
import tools.jackson.core.JacksonException;

/**
 * The connections to one PostgreSQL database (a HikariCP pool) and the transactions run over them.
 *
 * <p>Writes are {@code SERIALIZABLE}: the store's methods were written for SQLite's one writer at a
 * time (read a row, then decide what to write), and serializable isolation keeps that reasoning
 * true with many connections, in this daemon or in others sharing the database. A transaction that
 * loses a race fails with a serialization failure or a deadlock and is run again, with a short
 * random pause, up to {@link #ATTEMPTS} times. Reads are {@code REPEATABLE READ READ ONLY}: one
 * snapshot for the whole transaction (the audit scan reads checkpoints and entries from it).
 *
 * <p>At most {@link #CONNECTIONS} transactions run at once; further callers park on a semaphore
 * (cheap for virtual threads) rather than inside the pool. Thread-safe.
 */
final class PostgresDatabase implements Database {
    static final int CONNECTIONS = 8;
    static final int ATTEMPTS = 30;

    /** How long to wait for a connection (server down or unreachable) before failing the call. */
    private static final long CONNECT_TIMEOUT_MILLIS = 10_000;

    private final String url;
    private final HikariDataSource pool;
    private final Jdbi jdbi;
    private final Semaphore permits = new Semaphore(CONNECTIONS);
    private volatile boolean closed;

    private PostgresDatabase(String url, HikariDataSource pool) {
        this.url = url;
        this.pool = pool;
        this.jdbi = Jdbi.create(pool);
        jdbi.registerArgument(new TextWithoutNul());
    }

    /**
     * Every text the store binds through Jdbi goes through {@link Dialect#toText} (U+0000, which
     * PostgreSQL cannot hold, becomes U+FFFD). The audit log binds with plain JDBC and keeps U+0000
     * exactly ({@link Dialect#toAuditText}).
     */
    private static final class TextWithoutNul extends AbstractArgumentFactory<String> {
        TextWithoutNul() {
            super(Types.VARCHAR);
        }

        @Override
        protected Argument build(String value, ConfigRegistry config) {
            String text = Dialect.POSTGRESQL.toText(value);
            return (position, statement, context) -> statement.setString(position, text);
        }
    }

    /**
     * Connects to the database at {@code url} (a {@code jdbc:postgresql://} URL) as {@code user}.
     *
     * @throws StoreException if the server cannot be reached or refuses the login; nothing is left
     *     open then
     */
    static PostgresDatabase open(String url, String user, String password) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("cordon-store");
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        // One more than the transactions may use: Replicas.listen holds one connection for LISTEN.
        config.setMaximumPoolSize(CONNECTIONS + 1);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(CONNECT_TIMEOUT_MILLIS);
        // Results arrive in pages instead of all at once: an audit verify reads millions of rows.
        config.addDataSourceProperty("defaultRowFetchSize", "1000");
        // One multi-row INSERT per batch instead of one round trip per row (audit group commits).
        config.addDataSourceProperty("reWriteBatchedInserts", "true");
        config.addDataSourceProperty("ApplicationName", "cordon");
        try {
            return new PostgresDatabase(url, new HikariDataSource(config));
        } catch (HikariPool.PoolInitializationException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new StoreException(
                    "cannot connect to PostgreSQL store " + withoutParameters(url) + " as " + user + ": "
                            + cause.getMessage()
                            + ". Check that the server runs, the URL, the user, and the password secret.",
                    e);
        }
    }

    @Override
    public Dialect dialect() {
        return Dialect.POSTGRESQL;
    }

    @Override
    public String describe() {
        return "store " + withoutParameters(url);
    }

    /** Parameters may carry a password: never put them in a message. */
    private static String withoutParameters(String url) {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q);
    }

    @Override
    public DataSource dataSource() {
        return pool;
    }

    /** {@inheritDoc} Runs {@code work} again when the transaction lost a race with another writer. */
    @Override
    public <T> T withWriteTransaction(String operation, Function<Handle, T> work) {
        for (int attempt = 1; ; attempt++) {
            try {
                return inTransaction(TransactionIsolationLevel.SERIALIZABLE, false, work);
            } catch (RuntimeException e) {
                if (attempt == ATTEMPTS || !lostRace(e)) {
                    throw translate(operation, e);
                }
            }
            pause(attempt);
        }
    }

    @Override
    public <T> T withReadTransaction(String operation, Function<Handle, T> work) {
        try {
            return inTransaction(TransactionIsolationLevel.REPEATABLE_READ, true, work);
        } catch (RuntimeException e) {
            throw translate(operation, e);
        }
    }

    private <T> T inTransaction(TransactionIsolationLevel isolation, boolean readOnly, Function<Handle, T> work) {
        permits.acquireUninterruptibly();
        try {
            ensureOpen();
            // Closing the handle hands the connection back to the pool, which resets what we set.
            try (Handle h = jdbi.open()) {
                h.setReadOnly(readOnly);
                h.setTransactionIsolationLevel(isolation);
                h.begin();
                try {
                    T result = work.apply(h);
                    h.commit();
                    return result;
                } catch (Throwable failure) {
                    try {
                        h.rollback();
                    } catch (RuntimeException rollbackFailure) {
                        failure.addSuppressed(rollbackFailure);
                    }
                    throw failure;
                }
            }
        } finally {
            permits.release();
        }
    }

    /** Serialization failure (40001) or deadlock (40P01): the transaction may succeed if run again. */
    private static boolean lostRace(Throwable e) {
        String state = sqlState(e);
        return "40001".equals(state) || "40P01".equals(state);
    }

    private static String sqlState(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && sql.getSQLState() != null) {
                return sql.getSQLState();
            }
        }
        return null;
    }

    private static void pause(int attempt) {
        try {
            // Full jitter over a doubling window (2 ms, 4 ms, ... at most 256 ms): racers that lost
            // together spread out instead of colliding again; 30 attempts cover several seconds.
            Thread.sleep(ThreadLocalRandom.current().nextLong(1, 2L + (1L << Math.min(attempt, 8))));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while retrying a store transaction", e);
        }
    }

    /**
     * Infrastructure failures become {@link StoreException}; a foreign-key violation means the caller
     * named a row that does not exist, which is the caller's bug, so it becomes an {@link
     * IllegalArgumentException}. Anything else (the store's own argument checks) passes through.
     */
    private RuntimeException translate(String operation, RuntimeException e) {
        if (!(e instanceof JdbiException) && !(e instanceof JacksonException) && !(e instanceof RawSqlException)) {
            return e;
        }
        String state = sqlState(e);
        if ("23503".equals(state)) {
            return new IllegalArgumentException(operation + " refers to a row that does not exist", e);
        }
        Throwable detail = e;
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException) {
                detail = cause;
                break;
            }
        }
        if (state != null && state.startsWith("08")) {
            return new StoreException(
                    describe() + ": " + operation + " failed: lost the connection to PostgreSQL (" + detail.getMessage()
                            + ")",
                    e);
        }
        return new StoreException(describe() + ": " + operation + " failed: " + detail.getMessage(), e);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(describe() + " is closed");
        }
    }

    /**
     * Waits for running transactions to finish, then closes the pool. Later calls to the store fail
     * with {@link IllegalStateException}. Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        permits.acquireUninterruptibly(CONNECTIONS);
        try {
            pool.close();
        } finally {
            permits.release(CONNECTIONS);
        }
    }
}
