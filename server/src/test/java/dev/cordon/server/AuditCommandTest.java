package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.store.Store;
import dev.cordon.store.Stores;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** {@code cordon audit verify|tail|export} against a real home's SQLite file. */
class AuditCommandTest {
    @TempDir
    Path home;

    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void writeALog() {
        Home h = new Home(home);
        try (Store store = Stores.sqlite(h.database());
                AuditLog log = AuditLogs.open(store.audit(), h.auditKey())) {
            for (int i = 1; i <= 5; i++) {
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

    int run(String... args) throws Exception {
        out.reset();
        err.reset();
        return AuditCommand.run(
                home,
                List.of(args),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void anIntactLogVerifiesAndAnEditedOneFailsAtTheEditedEntry() throws Exception {
        assertThat(run("verify")).isZero();
        assertThat(out()).startsWith("OK: 5 entries").contains("signed through seq 5");

        // The triggers that refuse updates are no obstacle to whoever owns the file: drop them first.
        try (var db = DriverManager.getConnection("jdbc:sqlite:" + new Home(home).database());
                var sql = db.createStatement()) {
            sql.executeUpdate("DROP TRIGGER audit_no_update");
            sql.executeUpdate("UPDATE audit SET agent = 'victim' WHERE seq = 3");
        }

        assertThat(run("verify")).isEqualTo(1);
        assertThat(out()).startsWith("BROKEN at seq 3: hash-mismatch");
    }

    @Test
    void tailPrintsTheLastEntriesOnePerLine() throws Exception {
        assertThat(run("tail", "-n", "2")).isZero();

        assertThat(out().lines().toList())
                .containsExactly(
                        "4 2026-11-22T03:00:04Z allow sandbox.start main system:sessions {sandbox=main-s1-4}",
                        "5 2026-11-22T03:00:05Z allow sandbox.start main system:sessions {sandbox=main-s1-5}");
    }

    @Test
    void exportWritesEveryEntryAsAJsonLine() throws Exception {
        assertThat(run("export", "--format", "jsonl")).isZero();

        List<String> lines = out().lines().toList();
        assertThat(lines).hasSize(5);
        JsonNode first = dev.cordon.protocol.Wire.mapper().readTree(lines.getFirst());
        assertThat(first.path("activity_name").asString()).isEqualTo("sandbox.start");
        assertThat(first.path("action").asString()).isEqualTo("Allowed");
    }

    @Test
    void badUsageAndAMissingHomeAreClearErrors() throws Exception {
        assertThat(run("export", "--format", "csv")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("the only export format is jsonl");
        assertThat(run("frobnicate")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("usage: cordon audit verify");
        assertThat(AuditCommand.run(
                        home.resolve("nowhere"),
                        List.of("verify"),
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8)))
                .isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("no Cordon database at");
    }
}
