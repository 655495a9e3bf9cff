package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.PostgresServer;
import dev.cordon.testkit.Scripted;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole daemon on a real PostgreSQL chosen in cordon.yaml, with the password from the vault: a
 * turn in a real sandbox, a restart that keeps the transcript, and the audit chain verified there;
 * as a replica, it stops when it finds that another declared it dead.
 */
class PostgresDaemonTest {
    static final PostgresServer PG = PostgresServer.shared();

    @TempDir
    Path home;

    String url;
    FakeModelServer model;
    Daemon daemon;

    @BeforeEach
    void choosePostgres() throws Exception {
        url = PG.createDatabase();
        Files.writeString(
                home.resolve("cordon.yaml"),
                "store:\n  kind: postgres\n  url: " + url + "\n  user: " + PG.user()
                        + "\n  password_secret: PG_PASSWORD\n");
        Home h = new Home(home);
        Vault.open(h.vault(), h.vaultKey())
                .put("PG_PASSWORD", PG.password().getBytes(StandardCharsets.UTF_8), List.of());
        model = FakeModelServer.start();
    }

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
        }
        model.close();
        PG.dropDatabase(url);
    }

    ControlEvent.Reply ask(String text) throws Exception {
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            return client.ask("main", text);
        }
    }

    @Test
    void aTurnsMessagesTranscriptAndAuditLiveInPostgresAndSurviveARestart() throws Exception {
        model.enqueue(Scripted.text("Noted: the answer is 42."), Scripted.text("You told me 42."));
        daemon = EndToEndTest.startOn(home, model);

        assertThat(ask("remember: the answer is 42").text()).isEqualTo("Noted: the answer is 42.");
        daemon.close();
        daemon = EndToEndTest.startOn(home, model);
        assertThat(ask("what is the answer?").text()).isEqualTo("You told me 42.");
        daemon.close();
        daemon = null;

        assertThat(model.requests().get(1).body().get("messages").toString())
                .contains("remember: the answer is 42", "Noted: the answer is 42.");
        assertThat(new Home(home).database()).as("nothing went to SQLite").doesNotExist();
        try (Connection c = DriverManager.getConnection(url, PG.user(), PG.password());
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM inbound WHERE state = 'DONE'")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(2);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int verified = AuditCommand.run(
                home,
                List.of("verify"),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertThat(verified).as(out.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("OK: ");
    }

    @Test
    void aReplicaThatFindsItWasDeclaredDeadStopsItself() throws Exception {
        daemon = EndToEndTest.startOn(home, model);
        assertThat(ask("hello").text()).isEqualTo("You said: hello");
        String self = StoreChoice.replicaName(new Home(home));
        try (Connection c = DriverManager.getConnection(url, PG.user(), PG.password());
                Statement s = c.createStatement()) {
            assertThat(count(s, "SELECT count(*) FROM leases WHERE owner = '" + self + "'"))
                    .as("its session's lease")
                    .isEqualTo(1);
            // What a survivor's takeover does when this replica's heartbeat is late past its expiry.
            s.execute("DELETE FROM leases WHERE owner = '" + self + "'");
            s.execute("DELETE FROM replicas WHERE id = '" + self + "'");
        }

        Thread waiting = Thread.ofVirtual().start(() -> {
            try {
                daemon.awaitStop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        waiting.join(java.time.Duration.ofSeconds(30));
        assertThat(waiting.isAlive())
                .as("the daemon stopped on its next heartbeat")
                .isFalse();
        daemon = null;
    }

    @Test
    void sessionsListShowsEveryReplicasSessionsWhichReplicaRunsEachAndTheReplicas() throws Exception {
        Files.createDirectories(home.resolve("agents/sales"));
        daemon = EndToEndTest.startOn(home, model);
        assertThat(ask("hello").text()).isEqualTo("You said: hello");
        ControlEvent.Reply sales;
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            sales = client.ask("sales", "hi");
        }
        assertThat(sales.text()).isEqualTo("You said: hi");
        ControlEvent.SessionListing before = sessions();
        long salesSession = before.sessions().stream()
                .filter(r -> r.agent().equals("sales"))
                .findFirst()
                .orElseThrow()
                .session();
        request(new ControlRequest.SessionsKill(salesSession));
        String self = StoreChoice.replicaName(new Home(home));
        long now = System.currentTimeMillis();
        try (Connection c = DriverManager.getConnection(url, PG.user(), PG.password());
                Statement s = c.createStatement()) {
            // What another replica writes while it runs the sales session and holds the IRC connection.
            s.execute(
                    "INSERT INTO replicas (id, started_at, heartbeat_at, expires_at) VALUES ('pod-1:/var/lib/cordon', "
                            + (now - 60_000) + ", " + (now - 2_000) + ", " + (now + 600_000) + ")");
            s.execute("DELETE FROM leases WHERE name = 'session:" + salesSession + "'");
            s.execute("INSERT INTO leases (name, owner, expires_at) VALUES ('session:" + salesSession
                    + "', 'pod-1:/var/lib/cordon', " + (now + 600_000) + "), ('channel:irc', 'pod-1:/var/lib/cordon', "
                    + (now + 600_000) + ")");
        }

        ControlEvent.SessionListing listing = sessions();

        assertThat(listing.sessions())
                .anySatisfy(r -> {
                    assertThat(r.agent()).isEqualTo("main");
                    assertThat(r.state()).isIn("idle", "busy");
                    assertThat(r.replica()).isEqualTo(self);
                })
                .anySatisfy(r -> {
                    assertThat(r.session()).isEqualTo(salesSession);
                    assertThat(r.state()).isEqualTo("live");
                    assertThat(r.replica()).isEqualTo("pod-1:/var/lib/cordon");
                    assertThat(r.heartbeatAgeMillis()).isGreaterThanOrEqualTo(2_000);
                });
        assertThat(listing.replicas())
                .extracting(r -> r.name(), r -> r.self(), r -> r.channels(), r -> r.sessions())
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple(self, true, List.of(), 1),
                        org.assertj.core.groups.Tuple.tuple("pod-1:/var/lib/cordon", false, List.of("irc"), 1));
    }

    ControlEvent.SessionListing sessions() throws Exception {
        return (ControlEvent.SessionListing) request(new ControlRequest.SessionsList(5));
    }

    ControlEvent request(ControlRequest request) throws Exception {
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(request);
            return client.await(ControlEvent.class, e -> true, java.time.Duration.ofSeconds(30));
        }
    }

    static long count(Statement s, String sql) throws java.sql.SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void aPasswordSecretMissingFromTheVaultStopsTheStartWithWhatToRun() throws Exception {
        Vault.open(new Home(home).vault(), new Home(home).vaultKey()).remove("PG_PASSWORD");

        assertThatThrownBy(() -> daemon = EndToEndTest.startOn(home, model))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("store.password_secret")
                .hasMessageContaining("cordon secret set PG_PASSWORD --host-only");
    }
}
