package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.access.Access;
import dev.cordon.core.access.Role;
import dev.cordon.core.access.SenderPolicy;
import dev.cordon.core.access.SenderRequest;
import dev.cordon.core.access.UserId;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.channel.InboundFile;
import dev.cordon.core.channel.InboundSink.InboundResult;
import dev.cordon.core.channel.Router;
import dev.cordon.core.file.FileVault;
import dev.cordon.core.file.InboundFiles;
import dev.cordon.core.store.Store;
import dev.cordon.core.store.Store.ReceivedFile;
import dev.cordon.store.Stores;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files people send, as the router takes them: fetched into the vault, stored with the message. */
class RouterFilesTest {
    static final long LIMIT = 1024;

    @TempDir
    Path dir;

    final List<SessionId> woken = new CopyOnWriteArrayList<>();
    Store store;
    AuditLog audit;
    Router router;
    FileVault vault;
    Access access;
    Chat chat;

    @BeforeEach
    void open() {
        store = Stores.sqlite(dir.resolve("cordon.db"), Clock.systemUTC());
        audit = AuditLogs.open(store.audit(), dir.resolve("keys/audit-ed25519"));
        access = Access.create(store, audit, Clock.systemUTC(), new Random(7), woken::add, c -> {});
        router = new Router(store, audit, Clock.systemUTC(), woken::add, access);
        vault = new FileVault(dir.resolve("files"));
        router.receiveFilesWith(new InboundFiles(vault, LIMIT));
        Agent main = store.ensureAgent(new AgentName("main"));
        chat = store.ensureChat("test", "c1");
        store.wire(chat.id(), main.id());
        access.grant(UserId.TERMINAL_OWNER, UserId.parse("test:alice"), Role.MEMBER, main.name());
    }

    @AfterEach
    void close() {
        audit.close();
        store.close();
    }

    InboundResult.Accepted send(String id, String text, List<InboundFile> files) {
        return (InboundResult.Accepted)
                router.accept(new NewInbound("test", "c1", id, "alice", text, true, null, null, files));
    }

    static InboundFile file(String name, String content) {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        return new InboundFile(name, "text/plain", bytes.length, () -> new ByteArrayInputStream(bytes));
    }

    List<ReceivedFile> filesOf(InboundResult.Accepted accepted) {
        return store.inboundFiles(List.of(new InboundId(accepted.inboundId())))
                .getOrDefault(new InboundId(accepted.inboundId()), List.of());
    }

    @Test
    void aMessagesFilesAreKeptInTheVaultAndStoredWithItUnderSafeDistinctNames() throws IOException {
        InboundResult.Accepted accepted =
                send("m1", "see attached", List.of(file("../notes.txt", "one"), file("notes.txt", "two")));

        List<ReceivedFile> files = filesOf(accepted);
        assertThat(files).extracting(ReceivedFile::name).containsExactly("_notes.txt", "notes.txt");
        assertThat(files).allSatisfy(f -> assertThat(f.kept()).isTrue());
        try (InputStream in = vault.open(files.get(1).sha256())) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("two");
        }
        assertThat(woken).hasSize(1);
    }

    @Test
    void aFileTooLargeOrNotFetchableLosesNoMessageAndIsAudited() {
        byte[] big = new byte[(int) LIMIT + 1];
        InboundFile undeclared =
                new InboundFile("big.bin", "application/octet-stream", -1, () -> new ByteArrayInputStream(big));
        InboundFile declared = new InboundFile("huge.iso", "application/octet-stream", 1L << 40, () -> {
            throw new AssertionError("a file the platform says is too large is not downloaded");
        });
        InboundFile broken = new InboundFile("gone.pdf", "application/pdf", 10, () -> {
            throw new IOException("the platform answered 404");
        });

        InboundResult.Accepted accepted = send("m1", "", List.of(undeclared, declared, broken));

        assertThat(accepted.duplicate()).isFalse();
        assertThat(filesOf(accepted))
                .extracting(ReceivedFile::name, ReceivedFile::problem)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(
                                "big.bin", "larger than 1 KiB, this host's limit (files.max_mb in cordon.yaml)"),
                        org.assertj.core.groups.Tuple.tuple(
                                "huge.iso", "larger than 1 KiB, this host's limit (files.max_mb in cordon.yaml)"),
                        org.assertj.core.groups.Tuple.tuple(
                                "gone.pdf", "could not be fetched: the platform answered 404"));
        assertThat(audit.read(0, 10_000))
                .filteredOn(e -> e.event().action().equals(AuditActions.INBOUND_FILE_MISSED))
                .extracting(e -> e.event().rule(), e -> e.event().reason())
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(
                                "files.max_mb", "larger than 1 KiB, this host's limit (files.max_mb in cordon.yaml)"),
                        org.assertj.core.groups.Tuple.tuple(
                                "files.max_mb", "larger than 1 KiB, this host's limit (files.max_mb in cordon.yaml)"),
                        org.assertj.core.groups.Tuple.tuple(null, "could not be fetched: the platform answered 404"));
        assertThat(store.sessionsWithPending()).hasSize(1);
    }

    @Test
    void aMessageHeldForAnAdminFetchesNoFileAndSaysWhichWereNotKept() {
        assertThat(access.setSenderPolicy(UserId.TERMINAL_OWNER, "test:c1", SenderPolicy.APPROVAL))
                .isInstanceOf(Access.Outcome.Done.class);
        InboundFile untouched = new InboundFile("plan.pdf", "application/pdf", 10, () -> {
            throw new AssertionError("a stranger's file is not downloaded");
        });

        InboundResult.Held held = (InboundResult.Held) router.accept(
                new NewInbound("test", "c1", "s1", "stranger", "hello", true, null, null, List.of(untouched)));
        access.admit(UserId.TERMINAL_OWNER, new SenderRequest.Id(held.requestId()));

        Inbound admitted =
                store.claimPending(store.sessions().getFirst().id(), 10).getFirst();
        assertThat(admitted.text())
                .isEqualTo("hello\n\n[Files sent with this message were not kept while the sender waited for an"
                        + " admin: plan.pdf. Ask for them again.]");
        assertThat(store.inboundFiles(List.of(admitted.id()))).isEmpty();
    }

    @Test
    void aRedeliveredMessageDoesNotFetchItsFilesAgain() throws IOException {
        AtomicInteger fetches = new AtomicInteger();
        InboundFile counted = new InboundFile("a.txt", "text/plain", 1, () -> {
            fetches.incrementAndGet();
            return new ByteArrayInputStream(new byte[] {'a'});
        });
        InboundResult.Accepted first = send("m1", "hi", List.of(counted));

        InboundResult.Accepted again = send("m1", "hi", List.of(counted));

        assertThat(again.duplicate()).isTrue();
        assertThat(again.inboundId()).isEqualTo(first.inboundId());
        assertThat(fetches).hasValue(1);
        assertThat(filesOf(first)).hasSize(1);
        try (var listing = Files.list(vault.dir())) {
            assertThat(listing).hasSize(1);
        }
    }
}
