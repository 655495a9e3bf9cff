package dev.cordon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.AgentName;
import dev.cordon.core.store.Store;
import dev.cordon.core.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

class SqliteStoreTest extends StoreContract {

    @Override
    protected Store open(Path dir, Clock clock) {
        return Stores.sqlite(dir.resolve("cordon.db"), clock);
    }

    @Test
    void createsMissingParentDirectoriesAndTheFile() {
        Path file = dir.resolve("a/b/c/store.db");

        try (Store nested = Stores.sqlite(file)) {
            nested.ensureAgent(new AgentName("ada"));
        }

        assertThat(file).isRegularFile();
    }

    @Test
    void closeReleasesEveryConnection() throws Exception {
        Fixture f = fixture("C1");
        receive(f, "m-1");
        store.sessionsWithPending();
        store.transcript(f.session().id());

        store.close();

        // SQLite checkpoints and deletes the WAL when the last connection to the file closes.
        assertThat(dir.resolve("cordon.db-wal")).doesNotExist();
        assertThat(dir.resolve("cordon.db-shm")).doesNotExist();
    }

    @Test
    void theFileIsInWalModeWithTheCurrentSchema() throws SQLException {
        store.ensureAgent(new AgentName("ada"));

        assertThat(query("PRAGMA journal_mode")).containsExactly("wal");
        assertThat(query("SELECT version FROM flyway_schema_history WHERE success = 1 ORDER BY installed_rank"))
                .containsExactly("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12");
        assertThat(query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%sqlite%'"
                        + " AND name <> 'flyway_schema_history' ORDER BY name"))
                .containsExactly(
                        "agents",
                        "approvals",
                        "audit",
                        "audit_checkpoint",
                        "chat_policies",
                        "chats",
                        "held_inbound",
                        "inbound",
                        "inbound_files",
                        "leases",
                        "model_usage",
                        "outbound",
                        "outbound_files",
                        "pairing_codes",
                        "replicas",
                        "role_grants",
                        "sender_requests",
                        "sessions",
                        "task_runs",
                        "tasks",
                        "transcript",
                        "wirings");
    }

    @Test
    void theHotQueriesReadOnlyTheirSmallPartialIndexes() {
        assertThat(plan(
                        JdbcStore.claimPending(Dialect.SQLITE),
                        Map.of("now", 1, "session", 1, "max", 5, "replica", "r")))
                .contains("USING COVERING INDEX inbound_pending");
        assertThat(plan(JdbcStore.SESSIONS_WITH_PENDING, Map.of())).contains("USING COVERING INDEX inbound_pending");
        assertThat(plan(JdbcStore.RELEASE_CLAIMS, Map.of("replica", "r"))).contains("USING INDEX inbound_claimed");
        assertThat(plan(JdbcStore.undelivered(Dialect.SQLITE), Map.of())).contains("USING INDEX outbound_undelivered");
        assertThat(plan(JdbcStore.undeliveredByChat(Dialect.SQLITE), Map.of("chat", 1)))
                .contains("USING INDEX outbound_undelivered (chat_id=?)");
        assertThat(plan(JdbcStore.IS_PAIRING_MESSAGE, Map.of("chat", 1, "message", "m")))
                .contains("pairing_codes_used");
        assertThat(plan(JdbcStore.pendingApprovals(Dialect.SQLITE), Map.of()))
                .contains("USING INDEX approvals_pending");
        assertThat(plan(
                        JdbcLedger.SPEND,
                        Map.of(
                                "agent",
                                1,
                                "chat",
                                1,
                                "day",
                                "2030-01-02",
                                "first",
                                "2030-01-01",
                                "last",
                                "2030-01-31")))
                .contains("USING INDEX model_usage_agent_day (agent_id=? AND day>? AND day<?)");
        assertThat(plan(
                        JdbcStore.usableGrant(Dialect.SQLITE),
                        Map.of("agent", 1, "kind", "tool.bash", "subject", "{}", "session", 1, "now", 0)))
                .contains("USING INDEX approvals_granted (agent_id=? AND kind=? AND subject=?)");
        assertThat(plan(JdbcTasks.EARLIEST_DUE, Map.of())).contains("tasks_due");
        assertThat(plan(JdbcTasks.DUE, Map.of("now", 1))).contains("USING INDEX tasks_due");
    }

    @Test
    void approvalRowsAreNeverDeleted() throws SQLException {
        Fixture f = fixture("C1");
        ask(f, "tool.bash", Map.of("command", "ls"));

        assertThatThrownBy(() -> execute("DELETE FROM approvals"))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("approvals are kept");
        assertThat(store.pendingApprovals()).hasSize(1);
    }

    private String plan(String sql, Map<String, Object> parameters) {
        try (Handle h = Jdbi.open("jdbc:sqlite:" + dir.resolve("cordon.db"))) {
            return String.join(
                    "\n",
                    h.createQuery("EXPLAIN QUERY PLAN " + sql)
                            .bindMap(parameters)
                            .map((rs, ctx) -> rs.getString("detail"))
                            .list());
        }
    }

    @Test
    void aFileThatIsNotSqliteFailsWithAMessageNamingTheFileAndWhatToDo() throws Exception {
        Path file = dir.resolve("garbage.db");
        Files.writeString(file, "this is not a database, just some text that is long enough. ".repeat(40));

        assertThatThrownBy(() -> Stores.sqlite(file))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("not an SQLite database")
                .hasMessageContaining("restore it from a backup");
        assertThat(Files.readString(file, StandardCharsets.UTF_8)).startsWith("this is not a database");
    }

    @Test
    void aSchemaNewerThanTheCodeFailsWithAMessageNamingTheFileAndWhatToDo() throws SQLException {
        store.close();
        execute("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum,"
                + " installed_by, execution_time, success) VALUES (99, '99', 'from the future', 'SQL',"
                + " 'V99__from_the_future.sql', 0, 'test', 0, 1)");

        assertThatThrownBy(() -> store = Stores.sqlite(dir.resolve("cordon.db")))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining(dir.resolve("cordon.db").toString())
                .hasMessageContaining("schema version 99")
                .hasMessageContaining("newer Cordon");
    }

    @Test
    void anSqliteFileOfAnotherApplicationIsNotTakenOver() throws SQLException {
        Path file = dir.resolve("other.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)");
        }

        assertThatThrownBy(() -> Stores.sqlite(file))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("not a Cordon store");
    }

    @Test
    void upgradingToTheDeletableAgentsSchemaKeepsEveryRowAndEveryReferenceToAnAgent() throws SQLException {
        Path file = dir.resolve("old.db");
        String url = "jdbc:sqlite:" + file + "?foreign_keys=true";
        org.flywaydb.core.Flyway.configure()
                .dataSource(url, null, null)
                .locations(Dialect.SQLITE.migrations)
                .target("7")
                .loggers("slf4j")
                .load()
                .migrate();
        try (Connection c = DriverManager.getConnection(url);
                Statement s = c.createStatement()) {
            s.execute("INSERT INTO agents (name, created_at) VALUES ('ada', 1), ('bob', 2)");
            s.execute("INSERT INTO chats (channel, platform_chat_id, created_at) VALUES ('test', 'c1', 3)");
            s.execute("INSERT INTO wirings (chat_id, agent_id, updated_at) VALUES (1, 2, 4)");
            s.execute("INSERT INTO sessions (agent_id, chat_id, thread_key, created_at) VALUES (2, 1, '', 5)");
        }

        try (Store upgraded = Stores.sqlite(file)) {
            var bob = upgraded.agentByName(new AgentName("bob")).orElseThrow();
            assertThat(bob.id().value()).isEqualTo(2);
            assertThat(upgraded.sessions())
                    .singleElement()
                    .satisfies(x -> assertThat(x.agentId()).isEqualTo(bob.id()));
            assertThat(upgraded.ensureAgent(new AgentName("cy")).id().value()).isEqualTo(3);
        }
        try (Connection c = DriverManager.getConnection(url);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("PRAGMA foreign_key_check")) {
            assertThat(rs.next()).as("rows that point at no agent").isFalse();
        }
    }

    private List<String> query(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cordon.db"));
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            List<String> rows = new ArrayList<>();
            while (rs.next()) {
                List<String> columns = new ArrayList<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    columns.add(rs.getString(i));
                }
                rows.add(String.join("|", columns));
            }
            return rows;
        }
    }

    private void execute(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cordon.db"));
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
