package dev.cordon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.access.Role;
import dev.cordon.core.access.SenderPolicy;
import dev.cordon.core.access.UserId;
import dev.cordon.core.approval.Approval;
import dev.cordon.core.approval.Subjects;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditKeys;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.audit.AuditVerification;
import dev.cordon.core.budget.Ledger;
import dev.cordon.core.store.Store;
import dev.cordon.core.store.Store.ApprovalDecision;
import dev.cordon.core.store.Store.NewApproval;
import dev.cordon.core.store.Store.NewOutbound;
import dev.cordon.core.store.StoreException;
import dev.cordon.core.task.Schedule;
import dev.cordon.core.task.Task;
import dev.cordon.core.task.TaskId;
import dev.cordon.core.task.Tasks;
import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Usage;
import dev.cordon.testkit.PostgresServer;
import java.nio.file.Path;
import java.security.KeyPair;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Copying a real SQLite store, every table filled, into a real PostgreSQL (what cordon migrate does). */
class StoreCopyTest {
    static final PostgresServer PG = PostgresTestDatabase.PG;
    static final Instant START = Instant.parse("2030-01-02T03:04:05.678Z");

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(START);
    final PostgresTestDatabase target = new PostgresTestDatabase();
    Path file;
    String url;
    KeyPair keys;

    @BeforeEach
    void fillSqlite() {
        file = dir.resolve("cordon.db");
        url = target.url();
        keys = AuditKeys.loadOrCreate(dir.resolve("keys/audit-ed25519"));
        try (Store s = Stores.sqlite(file, clock);
                AuditLog log =
                        AuditLogs.open(s.audit(), keys, new AuditLogs.Settings(10, Duration.ofMinutes(1), 64), clock)) {
            Agent ada = s.ensureAgent(new AgentName("ada"));
            Chat chat = s.ensureChat("telegram", "42");
            s.wire(chat.id(), ada.id());
            Session session = s.ensureSession(ada.id(), chat.id(), "");
            InboundId first = s.storeInbound(session.id(), chat.id(), message("m1", "hello"))
                    .id();
            s.storeInbound(
                    session.id(),
                    chat.id(),
                    message("m2", "still pending"),
                    List.of(new Store.ReceivedFile("a.txt", "text/plain", 1, "ab".repeat(32), null)));
            s.claimPending(session.id(), 1);
            s.completeTurn(
                    session.id(),
                    List.of(first),
                    List.of(ChatMessage.user("hello"), ChatMessage.assistant("hi")),
                    new NewOutbound(chat.id(), first, "hi", false, "turn-1"));
            s.storeFileMessage(
                    session.id(),
                    new NewOutbound(chat.id(), first, "the report", false, "file-1"),
                    new Store.OutboundFile("report.pdf", "application/pdf", 3, "ab".repeat(32)));
            Approval asked = s.storeApproval(new NewApproval(
                    ada.id(),
                    session.id(),
                    chat.id(),
                    "tool.bash",
                    Subjects.of(Map.of("command", "ls")),
                    "run ls",
                    Map.of("command", "ls"),
                    START,
                    START.plusSeconds(600)));
            s.decideApproval(
                    asked.id(),
                    new ApprovalDecision(
                            Approval.Status.GRANTED,
                            "terminal:owner",
                            START,
                            "fine",
                            Approval.Scope.ALWAYS,
                            0,
                            0,
                            null));
            s.grantRole(new UserId("telegram", "7"), Role.ADMIN, ada.id(), "terminal:owner");
            s.setSenderPolicy(chat.id(), SenderPolicy.APPROVAL, "terminal:owner");
            s.holdInbound(chat.id(), ada.id(), new NewInbound("telegram", "42", "m3", "stranger", "let me in"));
            s.addPairingCode(new byte[32], ada.id(), "terminal:owner", START.plusSeconds(600));
            s.ledger()
                    .record(new Ledger.Charge(
                            ada.id(),
                            chat.id(),
                            session.id(),
                            "call-1",
                            START,
                            LocalDate.of(2030, 1, 2),
                            "m",
                            new Usage(100, 20, 3, 4),
                            1_234,
                            true,
                            true));
            Task task = s.tasks()
                    .create(new Tasks.NewTask(
                            ada.id(),
                            "report",
                            new Schedule.Every(Duration.ofHours(1), START),
                            ZoneId.of("Europe/Paris"),
                            chat.id(),
                            Task.SessionMode.ORIGIN,
                            session.id(),
                            Task.CatchUp.ALL,
                            START,
                            "terminal:owner"));
            s.tasks()
                    .fire(new Tasks.Firing(
                            task.id(),
                            START,
                            List.of(START),
                            0,
                            null,
                            START.plusSeconds(3600),
                            session.id(),
                            "report",
                            false));
            for (int i = 0; i < 25; i++) {
                log.append(AuditEvent.of(START.plusMillis(i), Actor.system("test"), "test.event", Decision.INFO)
                        .withReason(i == 7 ? "a reason with a NUL \u0000 and \u0001 in it" : "entry " + i));
            }
        }
    }

    @AfterEach
    void dropDatabase() {
        target.close();
    }

    static NewInbound message(String id, String text) {
        return new NewInbound("telegram", "42", id, "7", text);
    }

    @Test
    void everyRowArrivesWithItsIdAndTheAuditChainStillVerifiesAndGoesOn() {
        Map<String, Long> copied = Stores.copySqliteToPostgres(file, url, PG.user(), PG.password());

        assertThat(copied.keySet()).containsExactlyElementsOf(StoreCopy.TABLES);
        assertThat(copied)
                .allSatisfy((table, rows) -> assertThat(rows).as(table).isPositive());
        try (Store before = Stores.sqlite(file, clock);
                Store after = Stores.postgres(url, PG.user(), PG.password(), clock)) {
            assertThat(after.agents()).isEqualTo(before.agents());
            assertThat(after.chats()).isEqualTo(before.chats());
            assertThat(after.sessions()).isEqualTo(before.sessions());
            assertThat(after.tasks().tasks()).isEqualTo(before.tasks().tasks());
            assertThat(after.tasks().runs(new TaskId(1), 10))
                    .isEqualTo(before.tasks().runs(new TaskId(1), 10))
                    .hasSize(1);
            Session session = after.sessions().getFirst();
            assertThat(after.transcript(session.id())).isEqualTo(before.transcript(session.id()));
            assertThat(after.recentOutbound(after.chats().getFirst().id(), 10))
                    .isEqualTo(before.recentOutbound(before.chats().getFirst().id(), 10));
            assertThat(after.sessionsWithPending()).isEqualTo(before.sessionsWithPending());
            assertThat(after.recentApprovals(10)).isEqualTo(before.recentApprovals(10));
            assertThat(after.roleGrants()).isEqualTo(before.roleGrants());
            assertThat(after.senderRequests()).isEqualTo(before.senderRequests());
            assertThat(after.senderPolicy(session.chatId())).isEqualTo(before.senderPolicy(session.chatId()));
            assertThat(after.ledger().totals(LocalDate.of(2030, 1, 1), Ledger.Grouping.CHAT))
                    .isEqualTo(before.ledger().totals(LocalDate.of(2030, 1, 1), Ledger.Grouping.CHAT));
            assertThat(after.audit().read(0, 100)).isEqualTo(before.audit().read(0, 100));

            AuditVerification verified = AuditLogs.verify(after.audit(), keys.getPublic());
            assertThat(verified.ok()).as(verified.summary()).isTrue();
            assertThat(verified.entries()).isEqualTo(25);

            // Ids continue after the copied ones, and the chain goes on from its copied head.
            assertThat(after.ensureAgent(new AgentName("bob")).id().value())
                    .isGreaterThan(after.agents().getFirst().id().value());
            try (AuditLog log = AuditLogs.open(after.audit(), keys, AuditLogs.Settings.DEFAULTS, clock)) {
                assertThat(log.append(AuditEvent.of(START, Actor.system("test"), "test.after", Decision.INFO))
                                .seq())
                        .isEqualTo(26);
            }
            assertThat(AuditLogs.verify(after.audit(), keys.getPublic()).ok()).isTrue();
        }
    }

    @Test
    void aTargetWithRowsIsRefusedAndLeftAsItWas() {
        try (Store filled = target.open(clock)) {
            filled.ensureAgent(new AgentName("already-here"));
        }

        assertThatThrownBy(() -> Stores.copySqliteToPostgres(file, url, PG.user(), PG.password()))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("is not empty (table agents has rows)");
        try (Store filled = target.open(clock)) {
            assertThat(filled.agents()).extracting(Agent::name).containsExactly(new AgentName("already-here"));
            assertThat(filled.audit().head().seq()).isZero();
        }
    }

    @Test
    void aRowTheTargetRefusesFailsTheWholeCopyWhichCanRunAgainOnceFixed() throws SQLException {
        // SQLite's integers are 64-bit, PostgreSQL's INTEGER 32: a use count edited past 2^31 fails
        // the copy at the approvals, after agents, chats, the inbox and the audit log were written.
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement st = c.createStatement()) {
            st.execute("UPDATE approvals SET uses = 3000000000");
        }

        assertThatThrownBy(() -> Stores.copySqliteToPostgres(file, url, PG.user(), PG.password()))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("cannot copy table approvals");
        try (Connection c = target.connect();
                Statement st = c.createStatement()) {
            for (String table : StoreCopy.TABLES) {
                try (var rs = st.executeQuery("SELECT count(*) FROM " + table)) {
                    rs.next();
                    assertThat(rs.getLong(1)).as(table).isZero();
                }
            }
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement st = c.createStatement()) {
            try (var rs = st.executeQuery("SELECT uses FROM approvals")) {
                rs.next();
                assertThat(rs.getLong(1)).as("the source is untouched").isEqualTo(3_000_000_000L);
            }
            st.execute("UPDATE approvals SET uses = 1");
        }

        Map<String, Long> copied = Stores.copySqliteToPostgres(file, url, PG.user(), PG.password());

        assertThat(copied).containsEntry("approvals", 1L).containsEntry("audit", 25L);
    }

    @Test
    void aNulCharacterInAMessageArrivesAsAReplacementCharacterAndExactlyInTheAuditLog() {
        try (Store s = Stores.sqlite(file, clock)) {
            Session session = s.sessions().getFirst();
            s.storeInbound(session.id(), session.chatId(), message("m-nul", "a NUL \u0000 here"));
        }

        Stores.copySqliteToPostgres(file, url, PG.user(), PG.password());

        try (Store after = target.open(clock)) {
            Session session = after.sessions().getFirst();
            assertThat(after.claimPending(session.id(), 10))
                    .extracting(Inbound::text)
                    .contains("a NUL \uFFFD here");
            assertThat(after.audit().read(7, 1).getFirst().event().reason())
                    .isEqualTo("a reason with a NUL \u0000 and \u0001 in it");
        }
    }
}
