package dev.cordon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.store.Store;
import dev.cordon.core.store.StoreException;
import dev.cordon.testkit.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link StoreContract} on a real PostgreSQL (one server per JVM, a fresh database per test). */
class PostgresStoreTest extends StoreContract {
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

    @Test
    void theHotQueriesUseTheirIndexesOnceTheTablesAreLarge() throws SQLException {
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            // Without statistics on a tiny table the planner rightly scans; make scans unattractive
            // instead of filling the tables, so the plan shows which index the query can use.
            s.execute("SET enable_seqscan = off");
            assertThat(plan(
                            s,
                            JdbcStore.claimPending(Dialect.POSTGRESQL),
                            Map.of("now", "1", "session", "1", "max", "5", "replica", "'r'")))
                    .contains("inbound_pending");
            assertThat(plan(s, JdbcStore.undeliveredByChat(Dialect.POSTGRESQL), Map.of("chat", "1")))
                    .contains("outbound_undelivered");
            assertThat(plan(s, JdbcStore.pendingApprovals(Dialect.POSTGRESQL), Map.of()))
                    .contains("approvals_pending");
            assertThat(plan(
                            s,
                            JdbcStore.usableGrant(Dialect.POSTGRESQL),
                            Map.of("agent", "1", "kind", "'k'", "subject", "'{}'", "session", "1", "now", "0")))
                    .contains("approvals_granted");
            assertThat(plan(
                            s,
                            JdbcLedger.SPEND,
                            Map.of(
                                    "agent", "1",
                                    "chat", "1",
                                    "day", "'2030-01-02'",
                                    "first", "'2030-01-01'",
                                    "last", "'2030-01-31'")))
                    .contains("model_usage_agent_day");
            assertThat(plan(s, JdbcTasks.EARLIEST_DUE, Map.of())).contains("tasks_due");
            assertThat(plan(s, JdbcTasks.DUE, Map.of("now", "1"))).contains("tasks_due");
        }
    }

    /** EXPLAIN with the named parameters replaced by SQL literals. */
    private static String plan(Statement s, String sql, Map<String, String> literals) throws SQLException {
        String explained = sql;
        for (Map.Entry<String, String> p : literals.entrySet()) {
            explained = explained.replaceAll(":" + p.getKey() + "\\b", p.getValue());
        }
        List<String> lines = new ArrayList<>();
        try (var rs = s.executeQuery("EXPLAIN " + explained)) {
            while (rs.next()) {
                lines.add(rs.getString(1));
            }
        }
        return String.join("\n", lines);
    }

    @Test
    void theAppendOnlyTablesRefuseDeleteAndTruncate() throws SQLException {
        Fixture f = fixture("C1");
        ask(f, "tool.bash", Map.of("command", "ls"));
        store.ledger()
                .record(charge(
                        f.agent(),
                        f.chat(),
                        f.session(),
                        START.atZone(java.time.ZoneOffset.UTC).toLocalDate(),
                        "m",
                        5));
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            for (String sql : List.of(
                    "DELETE FROM approvals",
                    "TRUNCATE approvals CASCADE",
                    "UPDATE model_usage SET cost_micros = 0",
                    "DELETE FROM model_usage",
                    "TRUNCATE model_usage",
                    "TRUNCATE audit",
                    "TRUNCATE audit_checkpoint")) {
                assertThatThrownBy(() -> s.execute(sql))
                        .as(sql)
                        .isInstanceOf(SQLException.class)
                        .hasMessageMatching("(?s).*(append-only|approvals are kept).*");
            }
        }
    }

    @Test
    void aDatabaseOfAnotherApplicationIsNotTakenOver() throws SQLException {
        String other = PG.createDatabase();
        try {
            refusesToTakeOver(other);
        } finally {
            PG.dropDatabase(other);
        }
    }

    private void refusesToTakeOver(String other) throws SQLException {
        try (Connection c = DriverManager.getConnection(other, PG.user(), PG.password());
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE customers (id BIGINT PRIMARY KEY)");
        }

        assertThatThrownBy(() -> Stores.postgres(other, PG.user(), PG.password(), clock))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining(other)
                .hasMessageContaining("not a Cordon store");
    }

    @Test
    void aWrongPasswordFailsWithAMessageNamingTheStoreButNotThePassword() {
        assertThatThrownBy(() -> Stores.postgres(db.url() + "?connectTimeout=5", PG.user(), "not-the-password", clock))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("cannot connect to PostgreSQL store " + db.url())
                .hasMessageContaining("password")
                .hasMessageNotContaining("not-the-password")
                .hasMessageNotContaining("connectTimeout");
    }

    @Test
    void aMessageCarryingANulCharacterIsStoredWithAReplacementCharacterInsteadOfFailing() {
        // PostgreSQL's text cannot hold U+0000; failing would make the channel redeliver it forever.
        Fixture f = fixture("C1");
        NewInbound hostile = new NewInbound("test", "C1", "m-nul", "u\u0000x", "before\u0000after");

        InboundId id =
                store.storeInbound(f.session().id(), f.chat().id(), hostile).id();

        assertThat(store.inbound(id).orElseThrow().text()).isEqualTo("before\uFFFDafter");
        assertThat(store.inbound(id).orElseThrow().senderId()).isEqualTo("u\uFFFDx");
        assertThat(store.storeInbound(f.session().id(), f.chat().id(), hostile).duplicate())
                .as("a redelivery is still recognised")
                .isTrue();
    }

    @Test
    void aUrlThatIsNotPostgresIsRejected() {
        assertThatThrownBy(() -> Stores.postgres("jdbc:mysql://h/db", "u", "p", clock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("jdbc:postgresql://");
    }

    private Connection connect() throws SQLException {
        return db.connect();
    }
}
