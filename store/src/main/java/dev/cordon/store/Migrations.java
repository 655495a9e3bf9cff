package dev.cordon.store;

import dev.cordon.core.store.StoreException;
import java.util.Arrays;
import java.util.Comparator;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;

/** Brings a store's schema to the newest version this code knows, with Flyway. */
final class Migrations {
    private Migrations() {}

    /**
     * Applies every migration the database lacks, each in its own transaction. Blocks until done.
     *
     * @throws StoreException if the database's schema is newer than this code, if an applied migration
     *     was edited since, or if a migration fails (that migration is rolled back)
     */
    static void migrate(Database database) {
        Flyway flyway = Flyway.configure(Migrations.class.getClassLoader())
                .dataSource(database.dataSource())
                .locations(database.dialect().migrations)
                .failOnMissingLocations(true)
                .validateMigrationNaming(true)
                .cleanDisabled(true)
                // Cordon logs through SLF4J. Left to choose, Flyway falls back to java.util.logging
                // when SLF4J has no provider and prints INFO lines to stderr.
                .loggers("slf4j")
                // Flyway by default ignores migrations it finds applied but does not know ("future")
                // and would let old code write into a schema it does not understand. Fail instead.
                .ignoreMigrationPatterns(new String[0])
                .load();
        try {
            flyway.migrate();
        } catch (FlywayException e) {
            // Only on failure: the info() scan costs as much as the migration check itself.
            try {
                refuseNewerSchema(database, flyway.info(), e);
            } catch (FlywayException infoFailure) {
                e.addSuppressed(infoFailure);
            }
            throw new StoreException(
                    "cannot bring " + database.describe() + " to the current schema: " + e.getMessage()
                            + " If it is not a Cordon store, point Cordon at another one;"
                            + " if it is, restore it from a backup.",
                    e);
        }
    }

    /** Explains a failure caused by a schema newer than this code, which Flyway words poorly. */
    private static void refuseNewerSchema(Database database, MigrationInfoService info, FlywayException cause) {
        MigrationInfo[] all = info.all();
        MigrationInfo newest = Arrays.stream(all)
                .filter(m ->
                        m.getState() == MigrationState.FUTURE_SUCCESS || m.getState() == MigrationState.FUTURE_FAILED)
                .max(Comparator.comparing(MigrationInfo::getVersion))
                .orElse(null);
        if (newest == null) {
            return;
        }
        String known = Arrays.stream(all)
                .filter(m -> m.getState().isResolved() && m.getVersion() != null)
                .map(MigrationInfo::getVersion)
                .max(Comparator.naturalOrder())
                .map(Object::toString)
                .orElse("none");
        throw new StoreException(
                database.describe() + " has schema version " + newest.getVersion()
                        + ", newer than this Cordon knows (" + known + "): a newer Cordon has used it."
                        + " Run that newer Cordon, or restore a backup taken before the upgrade.",
                cause);
    }
}
