package dev.cordon.store;

import dev.cordon.core.store.Store;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;

class SqliteAuditTest extends AuditContract {
    private static final List<String> TRIGGERS =
            List.of("audit_no_update", "audit_no_delete", "audit_checkpoint_no_update", "audit_checkpoint_no_delete");

    @Override
    protected Store open(Path dir, Clock clock) {
        return Stores.sqlite(dir.resolve("cordon.db"), clock);
    }

    /** What someone with the file would do: drop the append-only triggers. */
    @Override
    protected void disableAppendOnly(Statement s) throws SQLException {
        for (String trigger : TRIGGERS) {
            s.execute("DROP TRIGGER IF EXISTS " + trigger);
        }
    }

    @Override
    protected Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cordon.db"));
    }

    @Override
    protected void failInsertsOf(Statement s, String action, String message) throws SQLException {
        s.execute("CREATE TRIGGER fail_one BEFORE INSERT ON audit WHEN NEW.action = '" + action + "'"
                + " BEGIN SELECT RAISE(ABORT, '" + message + "'); END");
    }
}
