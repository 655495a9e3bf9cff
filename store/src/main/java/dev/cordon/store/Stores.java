package dev.cordon.store;

import dev.cordon.core.store.Store;
import dev.cordon.core.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Objects;

/** Opens {@link Store}s. The only public class of this module. */
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
        Objects.requireNonNull(dbFile, "dbFile");
        Objects.requireNonNull(clock, "clock");
        Path file = dbFile.toAbsolutePath().normalize();
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new StoreException("cannot create the directory of store " + file + ": " + e, e);
        }
        SqliteDatabase database = SqliteDatabase.open(file);
        try {
            SqliteMigrations.migrate(database);
        } catch (RuntimeException e) {
            try {
                database.close();
            } catch (RuntimeException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
        return new SqliteStore(database, clock);
    }
}
