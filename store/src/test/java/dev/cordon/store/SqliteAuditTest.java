package dev.cordon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditException;
import dev.cordon.core.audit.AuditVerification;
import dev.cordon.core.store.Store;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqliteAuditTest extends AuditContract {
    private static final List<String> TRIGGERS =
            List.of("audit_no_update", "audit_no_delete", "audit_checkpoint_no_update", "audit_checkpoint_no_delete");

    @Override
    protected Store open(Path dir, Clock clock) {
        return Stores.sqlite(dir.resolve("cordon.db"), clock);
    }

    /** What someone with the file would do: drop the append-only triggers, then change rows. */
    @Override
    protected void tamper(String sql, Object... parameters) {
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            for (String trigger : TRIGGERS) {
                s.execute("DROP TRIGGER IF EXISTS " + trigger);
            }
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
        return DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cordon.db"));
    }

    @Test
    void aFailedWriteFailsItsAppendsAndTheChainGoesOnIntact() throws SQLException {
        appendEach(1, 3);
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            s.execute("CREATE TRIGGER fail_one BEFORE INSERT ON audit WHEN NEW.action = 'test.fail'"
                    + " BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
        }

        assertThatThrownBy(() -> log.append(AuditEvent.of(START, Actor.system("test"), "test.fail", Decision.INFO)))
                .isInstanceOf(AuditException.class)
                .hasMessageContaining("audit entry not written")
                .hasMessageContaining("disk on fire");
        AuditEntry next = log.append(event(4));

        assertThat(next.seq()).isEqualTo(4);
        assertThat(next.prevHash()).isEqualTo(entry(3).hash());
        AuditVerification result = verifyClosed();
        assertThat(result.ok()).as(result.summary()).isTrue();
        assertThat(result.entries()).isEqualTo(4);
    }

    private AuditEntry entry(long seq) {
        return store.audit().read(seq - 1, 1).getFirst();
    }
}
