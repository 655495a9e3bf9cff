package dev.cordon.store;

import dev.cordon.core.store.Store;
import dev.cordon.testkit.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;

/** {@link AuditContract} on a real PostgreSQL (one server per JVM, a fresh database per test). */
class PostgresAuditTest extends AuditContract {
    static final PostgresServer PG = PostgresTestDatabase.PG;

    final PostgresTestDatabase db = new PostgresTestDatabase();

    @Override
    protected Store open(Path dir, Clock clock) {
        return db.open(clock);
    }

    @AfterEach
    void dropDatabase() {
        db.close();
    }

    /** What the database's owner could do: switch the append-only triggers off, then change rows. */
    @Override
    protected void tamper(String sql, Object... parameters) {
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            s.execute("ALTER TABLE audit DISABLE TRIGGER USER");
            s.execute("ALTER TABLE audit_checkpoint DISABLE TRIGGER USER");
            try (PreparedStatement p = c.prepareStatement(sql)) {
                for (int i = 0; i < parameters.length; i++) {
                    p.setObject(i + 1, parameters[i]);
                }
                p.executeUpdate();
            }
        } catch (SQLException e) {
            throw new AssertionError("tampering failed: " + sql, e);
        }
    }

    @Override
    protected Connection connect() throws SQLException {
        return db.connect();
    }
}
