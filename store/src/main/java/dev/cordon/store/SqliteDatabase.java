package dev.cordon.store;

import dev.cordon.core.store.StoreException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import javax.sql.DataSource;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;
import tools.jackson.core.JacksonException;

/**
 * The connections to one SQLite file and the transactions run over them.
 *
 * <p>Writes go through <em>one</em> connection guarded by {@link #writeLock}. SQLite admits one
 * writer at a time anyway; queueing on a Java lock parks a waiting virtual thread for free, whereas
 * SQLite's busy handler sleeps inside native code and pins the carrier thread, so a crowd of
 * virtual threads waiting on SQLITE_BUSY could starve the very thread that holds the lock. Reads go
 * through a small pool of connections and run beside the writer: in WAL mode a reader sees the last
 * commit and neither blocks nor is blocked by the writer.
 *
 * <p>Thread-safe. Every method blocks until its transaction has committed or rolled back.
 */
final class SqliteDatabase implements Database {
    /** Reads are short and the host has few cores; more readers would only queue in native code. */
    private static final int READERS = 4;

    /**
     * How long a statement waits for a lock another connection holds before failing with
     * SQLITE_BUSY. In this process writers queue on {@link #writeLock} and never meet each other in
     * SQLite; this covers other processes on the same file (a second daemon, the CLI, sqlite3).
     */
    private static final int BUSY_TIMEOUT_MILLIS = 10_000;

    private final Path file;
    private final SQLiteDataSource dataSource;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Semaphore readPermits = new Semaphore(READERS);
    private final ConcurrentLinkedDeque<Handle> idleReaders = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;

    /** Guarded by {@link #writeLock}. Null until first use, and after a failure left it unusable. */
    private Handle writer;

    private SqliteDatabase(Path file) {
        this.file = file;
        this.dataSource = new SQLiteDataSource(settings());
        this.dataSource.setUrl("jdbc:sqlite:" + file);
    }

    /**
     * Opens (creating if missing) the database file and checks that it is SQLite.
     *
     * @throws StoreException if the file cannot be opened or is not an SQLite database
     */
    static SqliteDatabase open(Path file) {
        SqliteDatabase database = new SqliteDatabase(file);
        database.writeLock.lock();
        try {
            // Opening applies the pragmas, which reads the file header: a file that is not SQLite
            // fails here with a clear message, before Flyway reports something vaguer.
            database.writer = database.connect(false);
        } finally {
            database.writeLock.unlock();
        }
        return database;
    }

    private static SQLiteConfig settings() {
        SQLiteConfig config = new SQLiteConfig();
        // WAL: readers never block the writer and the writer never blocks readers; a commit appends
        // to the log instead of rewriting pages in place. Persistent in the file once set.
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        // FULL: fsync the WAL at every commit. NORMAL would fsync only at checkpoints, so a power cut
        // could lose commits a caller had already been told about, and the channel acked: invariant 6
        // (stored before acknowledged) needs a commit to be on disk when the method returns.
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        // SQLite leaves foreign keys off unless each connection turns them on; the schema's
        // REFERENCES clauses mean nothing without this.
        config.enforceForeignKeys(true);
        config.setBusyTimeout(BUSY_TIMEOUT_MILLIS);
        return config;
    }

    @Override
    public Dialect dialect() {
        return Dialect.SQLITE;
    }

    @Override
    public String describe() {
        return "store " + file;
    }

    @Override
    public DataSource dataSource() {
        return dataSource;
    }

    /**
     * Runs {@code work} in one write transaction and commits it (durably) before returning. Callers
     * queue behind each other, so {@code work} runs exactly once; a failure rolls everything back.
     */
    @Override
    public <T> T withWriteTransaction(String operation, Function<Handle, T> work) {
        writeLock.lock();
        try {
            ensureOpen();
            if (writer == null) {
                writer = connect(false);
            }
            // IMMEDIATE takes SQLite's write lock at BEGIN. A DEFERRED transaction would take it at its
            // first write, and if another connection had committed since the transaction's first read,
            // SQLite could not upgrade it and would fail with SQLITE_BUSY at once, without waiting.
            return inTransaction(writer, "BEGIN IMMEDIATE", operation, work, this::discardWriter);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public <T> T withReadTransaction(String operation, Function<Handle, T> work) {
        readPermits.acquireUninterruptibly();
        try {
            ensureOpen();
            Handle reader = idleReaders.poll();
            if (reader == null) {
                reader = connect(true);
            }
            T result;
            try {
                result = inTransaction(reader, "BEGIN", operation, work, failure -> {});
            } catch (RuntimeException | Error e) {
                // Cheaper to open a fresh reader than to reason about the state this one is in.
                closeQuietly(reader, e);
                throw e;
            }
            idleReaders.push(reader);
            return result;
        } finally {
            readPermits.release();
        }
    }

    private <T> T inTransaction(
            Handle handle, String begin, String operation, Function<Handle, T> work, Consumer<Throwable> onBroken) {
        try {
            handle.execute(begin);
        } catch (JdbiException e) {
            throw translate(operation, e);
        }
        try {
            T result = work.apply(handle);
            handle.execute("COMMIT");
            return result;
        } catch (Throwable failure) {
            try {
                handle.execute("ROLLBACK");
            } catch (RuntimeException rollbackFailure) {
                // The connection may still be inside a transaction: never hand it out again.
                failure.addSuppressed(rollbackFailure);
                onBroken.accept(failure);
            }
            if (failure instanceof RuntimeException e) {
                throw translate(operation, e);
            }
            throw failure;
        }
    }

    private void discardWriter(Throwable failure) {
        Handle broken = writer;
        writer = null;
        closeQuietly(broken, failure);
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
        SQLiteException sqlite = sqliteCause(e);
        if (sqlite != null && sqlite.getResultCode() == SQLiteErrorCode.SQLITE_CONSTRAINT_FOREIGNKEY) {
            return new IllegalArgumentException(operation + " refers to a row that does not exist", e);
        }
        if (sqlite != null && isDamaged(sqlite)) {
            return new StoreException(damaged(sqlite), e);
        }
        String detail = sqlite != null ? sqlite.getMessage() : e.getMessage();
        return new StoreException("store " + file + ": " + operation + " failed: " + detail, e);
    }

    private Handle connect(boolean readOnly) {
        Connection connection;
        try {
            connection = dataSource.getConnection();
        } catch (SQLException e) {
            if (e instanceof SQLiteException sqlite && isDamaged(sqlite)) {
                throw new StoreException(damaged(sqlite), e);
            }
            throw new StoreException("cannot open store " + file + ": " + e.getMessage(), e);
        }
        Handle handle = Jdbi.open(connection);
        if (readOnly) {
            try {
                // Only the writer may write: a write through a reader would bypass writeLock.
                handle.execute("PRAGMA query_only = ON");
            } catch (JdbiException e) {
                closeQuietly(handle, e);
                throw translate("opening a reader", e);
            }
        }
        return handle;
    }

    private static boolean isDamaged(SQLiteException e) {
        return e.getResultCode() == SQLiteErrorCode.SQLITE_NOTADB
                || (e.getResultCode().code & 0xff) == SQLiteErrorCode.SQLITE_CORRUPT.code;
    }

    private String damaged(SQLiteException e) {
        return "store " + file + " is not an SQLite database or is damaged (" + e.getMessage()
                + "). If it is a Cordon store, restore it from a backup; otherwise move it aside and"
                + " Cordon will create a new, empty store there.";
    }

    private static SQLiteException sqliteCause(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLiteException sqlite) {
                return sqlite;
            }
        }
        return null;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("store " + file + " is closed");
        }
    }

    /**
     * Waits for running transactions to finish, then closes every connection. Later calls to the
     * store fail with {@link IllegalStateException}. Idempotent.
     *
     * @throws StoreException if a connection failed to close; every other connection is closed anyway
     */
    @Override
    public void close() {
        closed = true;
        StoreException failure = new StoreException("cannot close store " + file + " cleanly", null);
        writeLock.lock();
        try {
            closeQuietly(writer, failure);
            writer = null;
        } finally {
            writeLock.unlock();
        }
        readPermits.acquireUninterruptibly(READERS);
        try {
            idleReaders.forEach(reader -> closeQuietly(reader, failure));
            idleReaders.clear();
        } finally {
            readPermits.release(READERS);
        }
        if (failure.getSuppressed().length > 0) {
            throw failure;
        }
    }

    /** Closes {@code handle}, recording a failure to close as suppressed by {@code failures}. */
    private static void closeQuietly(Handle handle, Throwable failures) {
        if (handle == null) {
            return;
        }
        try {
            handle.close();
        } catch (RuntimeException e) {
            failures.addSuppressed(e);
        }
    }
}
