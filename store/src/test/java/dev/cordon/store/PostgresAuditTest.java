package dev.cordon.store;

import dev.cordon.core.store.Store;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;

/** {@link AuditContract} on a real PostgreSQL (one server per JVM, a fresh database per test). */
class PostgresAuditTest extends AuditContract {
    final PostgresTestDatabase db = new PostgresTestDatabase();

    @Override
    protected Store open(Path dir, Clock clock) {
        return db.open(clock);
    }

    @AfterEach
    void dropDatabase() {
        db.close();
    }

    /** What the database's owner could do: switch the append-only triggers off. */
    @Override
    protected void disableAppendOnly(Statement s) throws SQLException {
        s.execute("ALTER TABLE audit DISABLE TRIGGER USER");
        s.execute("ALTER TABLE audit_checkpoint DISABLE TRIGGER USER");
    }

    @Override
    protected Connection connect() throws SQLException {
        return db.connect();
    }

    @Override
    protected void failInsertsOf(Statement s, String action, String message) throws SQLException {
        s.execute("CREATE FUNCTION fail_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + " IF NEW.action = '" + action + "' THEN RAISE EXCEPTION '" + message + "'; END IF;"
                + " RETURN NEW; END $$");
        s.execute("CREATE TRIGGER fail_one BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION fail_one()");
    }
}
