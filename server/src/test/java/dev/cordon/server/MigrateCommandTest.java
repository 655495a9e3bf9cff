package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.store.Store;
import dev.cordon.egress.vault.Vault;
import dev.cordon.store.Stores;
import dev.cordon.testkit.PostgresServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cordon migrate --from sqlite --to postgres} on a real home (SQLite file, audit key, vault)
 * into a real PostgreSQL, then the host-side commands reading the store cordon.yaml now names.
 */
class MigrateCommandTest {
    static final PostgresServer PG = PostgresServer.shared();

    @TempDir
    Path root;

    Home home;
    String url;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void aHomeThatRanOnSqlite() throws IOException {
        home = new Home(root);
        home.create();
        url = PG.createDatabase();
        try (Store store = Stores.sqlite(home.database());
                AuditLog log = AuditLogs.open(store.audit(), home.auditKey())) {
            store.ensureAgent(new AgentName("main"));
            store.ensureAgent(new AgentName("sales"));
            for (int i = 1; i <= 30; i++) {
                log.append(AuditEvent.of(
                                Instant.parse("2026-11-22T03:00:00Z").plusSeconds(i),
                                AuditEvent.Actor.system("sessions"),
                                AuditActions.SANDBOX_START,
                                AuditEvent.Decision.ALLOW)
                        .withAgent(new AgentName("main"))
                        .withDetails(Map.of("sandbox", "main-s1-" + i)));
            }
        }
    }

    @AfterEach
    void dropDatabase() {
        PG.dropDatabase(url);
    }

    void choosePostgres(String secret) throws IOException {
        Files.writeString(root.resolve("cordon.yaml"), """
                store:
                  kind: postgres
                  url: %s
                  user: %s
                  password_secret: %s
                """.formatted(url, PG.user(), secret));
    }

    void storePassword(String name) {
        Vault.open(home.vault(), home.vaultKey()).put(name, PG.password().getBytes(StandardCharsets.UTF_8), List.of());
    }

    int migrate(String... args) {
        out.reset();
        err.reset();
        return MigrateCommand.run(
                root,
                List.of(args),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    int audit(String... args) throws InterruptedException {
        out.reset();
        err.reset();
        return AuditCommand.run(
                root,
                List.of(args),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theDataMovesAndTheAuditChainVerifiesInPostgresAfterwards() throws Exception {
        choosePostgres("PG_PASSWORD");
        storePassword("PG_PASSWORD");

        assertThat(migrate("--from", "sqlite", "--to", "postgres")).as(err()).isZero();

        assertThat(out()).contains("agents", "audit ", "30", "OK: 30 entries").doesNotContain(PG.password());
        assertThat(audit("verify")).as(err()).isZero();
        assertThat(out()).startsWith("OK: 30 entries");
        try (Store store = StoreChoice.open(home, StoreChoice.of(home), Clock.systemUTC())) {
            assertThat(store.agents())
                    .extracting(Agent::name)
                    .containsExactly(new AgentName("main"), new AgentName("sales"));
        }
        assertThat(home.database())
                .as("the SQLite store is kept as the way back")
                .isRegularFile();
    }

    @Test
    void aSecondMigrationIntoTheFilledDatabaseIsRefusedAndChangesNothing() throws Exception {
        choosePostgres("PG_PASSWORD");
        storePassword("PG_PASSWORD");
        assertThat(migrate("--from", "sqlite", "--to", "postgres")).as(err()).isZero();

        assertThat(migrate("--from", "sqlite", "--to", "postgres")).isEqualTo(1);

        assertThat(err()).contains("is not empty (table agents has rows)", "Nothing was changed");
        assertThat(audit("verify")).isZero();
        assertThat(out()).startsWith("OK: 30 entries");
    }

    @Test
    void withoutAPostgresTargetInCordonYamlItSaysWhatToWrite() {
        assertThat(migrate("--from", "sqlite", "--to", "postgres")).isEqualTo(2);
        assertThat(err()).contains("must name the target first", "kind: postgres", "password_secret");

        assertThat(migrate("--from", "postgres", "--to", "sqlite")).isEqualTo(2);
        assertThat(err()).contains("usage: cordon migrate --from sqlite --to postgres");
    }

    @Test
    void aPasswordSecretMissingFromTheVaultIsNamedWithTheCommandThatStoresIt() throws Exception {
        choosePostgres("PG_PASSWORD");

        assertThat(migrate("--from", "sqlite", "--to", "postgres")).isEqualTo(2);
        assertThat(err()).contains("no secret PG_PASSWORD", "cordon secret set PG_PASSWORD --host-only");
        assertThat(audit("verify")).isEqualTo(2);
        assertThat(err()).contains("store.password_secret", "no secret PG_PASSWORD");
    }

    @Test
    void aRunningDaemonStopsTheMigration() throws Exception {
        choosePostgres("PG_PASSWORD");
        storePassword("PG_PASSWORD");
        // Another JVM holds the lock the way a daemon does (a POSIX lock; one JVM cannot test its own).
        Path holder = root.resolve("HoldLock.java");
        Files.writeString(holder, """
                import java.nio.channels.FileChannel;
                import java.nio.file.*;
                class HoldLock {
                    public static void main(String[] a) throws Exception {
                        var c = FileChannel.open(Path.of(a[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                        c.lock();
                        System.out.println("locked");
                        Thread.sleep(60_000);
                    }
                }
                """);
        Process daemon = new ProcessBuilder(
                        ProcessHandle.current().info().command().orElseThrow(),
                        holder.toString(),
                        home.run().resolve("daemon.lock").toString())
                .redirectErrorStream(true)
                .start();
        try {
            assertThat(new java.io.BufferedReader(
                                    new java.io.InputStreamReader(daemon.getInputStream(), StandardCharsets.UTF_8))
                            .readLine())
                    .isEqualTo("locked");

            assertThat(migrate("--from", "sqlite", "--to", "postgres")).isEqualTo(1);

            assertThat(err()).contains("a Cordon daemon is serving", "stop it first");
        } finally {
            daemon.destroy();
            daemon.waitFor();
        }
    }
}
