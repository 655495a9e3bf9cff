package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.OutboundId;
import dev.cordon.core.file.FileVault;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.store.Stores;
import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code files.keep_days}: a real SQLite store and a real vault folder, the store's clock moved by
 * the test and the files' times set to match; and a real daemon that sweeps its home when it starts.
 */
class FileRetentionTest {
    static final Instant NOW = Instant.now();
    static final Duration KEEP = Duration.ofDays(30);

    @TempDir
    Path dir;

    final SendFileTest.MutableClock clock = new SendFileTest.MutableClock(NOW.minus(Duration.ofDays(40)));
    Store store;
    FileVault vault;
    Chat chat;
    Session session;

    @BeforeEach
    void open() {
        store = Stores.sqlite(dir.resolve("cordon.db"), clock);
        vault = new FileVault(dir.resolve("data/files"));
        var agent = store.ensureAgent(new dev.cordon.core.AgentName("main"));
        chat = store.ensureChat("files", "room-1");
        store.wire(chat.id(), agent.id());
        session = store.ensureSession(agent.id(), chat.id(), "");
    }

    @AfterEach
    void close() {
        store.close();
    }

    /** Puts {@code text} into the vault as of the store's clock now. */
    FileVault.Blob put(String text) throws Exception {
        FileVault.Blob blob =
                vault.put(Channels.newChannel(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8))), 1024);
        Files.setLastModifiedTime(vault.path(blob.sha256()).orElseThrow(), FileTime.from(clock.instant()));
        return blob;
    }

    OutboundId send(FileVault.Blob blob, String key) {
        return store.storeFileMessage(
                session.id(),
                new Store.NewOutbound(chat.id(), null, "here it is", false, key),
                new Store.OutboundFile(key + ".pdf", "application/pdf", blob.size(), blob.sha256()));
    }

    InboundId receive(FileVault.Blob blob, String id) {
        return store.storeInbound(
                        session.id(),
                        chat.id(),
                        new NewInbound("files", "room-1", id, "owner", "look at this"),
                        List.of(new Store.ReceivedFile(id + ".txt", "text/plain", blob.size(), blob.sha256(), null)))
                .id();
    }

    FileVault.Swept sweep() throws Exception {
        return new FileRetention(vault, store, KEEP, clock).sweep();
    }

    boolean kept(FileVault.Blob blob) {
        return vault.path(blob.sha256()).isPresent();
    }

    @Test
    void aFileGoesKeepDaysAfterItsLastUseAndNeverWhileAMessageWaitsForIt() throws Exception {
        FileVault.Blob delivered = put("a report the chat got 40 days ago");
        FileVault.Blob waiting = put("a reply whose chat has been unreachable for 40 days");
        FileVault.Blob unread = put("a file a person sent, its message not handled yet");
        FileVault.Blob orphan = put("put, and then the daemon stopped before its message was stored");
        store.markDelivered(send(delivered, "k-1"), "p-1");
        send(waiting, "k-2");
        receive(unread, "m-1");
        clock.now = NOW;

        FileVault.Swept first = sweep();

        assertThat(first).isEqualTo(new FileVault.Swept(2, delivered.size() + orphan.size()));
        assertThat(kept(delivered)).isFalse();
        assertThat(kept(orphan)).isFalse();
        assertThat(kept(waiting)).as("its reply is still to be delivered").isTrue();
        assertThat(kept(unread)).as("its message is still to be handled").isTrue();

        // The message is handled now: its file is kept for KEEP from now, then goes.
        store.completeTurn(
                session.id(),
                List.of(store.claimPending(session.id(), 10).getFirst().id()),
                List.of(),
                null);
        assertThat(sweep().files()).isZero();
        clock.now = NOW.plus(KEEP).plus(Duration.ofDays(1));
        assertThat(sweep()).isEqualTo(new FileVault.Swept(1, unread.size()));
        assertThat(kept(unread)).isFalse();
        assertThat(kept(waiting)).isTrue();
    }

    @Test
    void theLogSaysHowLongInDaysOrHours() {
        assertThat(FileRetention.words(Duration.ofDays(30))).isEqualTo("30 days");
        assertThat(FileRetention.words(Duration.ofDays(1))).isEqualTo("1 day");
        assertThat(FileRetention.words(Duration.ofHours(36))).isEqualTo("36 hours");
    }

    @Test
    void theDaemonSweepsItsHomeWhenItStartsAndKeepsEverythingWithKeepDaysZero() throws Exception {
        store.close();
        Path home = dir.resolve("home");
        Path files = Files.createDirectories(home.resolve("data/files"));
        Path old = Files.writeString(files.resolve("ab".repeat(32)), "sent 40 days ago");
        Path young = Files.writeString(files.resolve("cd".repeat(32)), "sent an hour ago");
        Files.setLastModifiedTime(old, FileTime.from(NOW.minus(Duration.ofDays(40))));
        Files.setLastModifiedTime(young, FileTime.from(NOW.minus(Duration.ofHours(1))));

        Files.writeString(home.resolve("cordon.yaml"), "files: {keep_days: 0}\n");
        try (Daemon daemon = Daemon.start(home, Map.of(), EndToEndTest.RUNNER_LIB)) {
            ControlEvent.StatusReport status = status(daemon);
            assertThat(status.fileKeepDays()).as("0: for ever").isZero();
            assertThat(status.files()).isEqualTo(2);
            try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                client.send(new ControlRequest.Status(true));
                assertThat(client.await(ControlEvent.StatusReport.class))
                        .as("the brief status every CLI command asks for does not list the vault")
                        .extracting(ControlEvent.StatusReport::files, ControlEvent.StatusReport::fileBytes)
                        .containsExactly(-1L, -1L);
            }
            Thread.sleep(500); // a sweep at start, had one been scheduled, would have run by now
            assertThat(old).as("keep_days: 0 keeps files for ever").exists();
        }

        Files.writeString(home.resolve("cordon.yaml"), "files: {keep_days: 30}\n");
        try (Daemon daemon = Daemon.start(home, Map.of(), EndToEndTest.RUNNER_LIB)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (Files.exists(old) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(old)
                    .as("no message needs it and it is older than 30 days")
                    .doesNotExist();
            assertThat(young).exists();
            ControlEvent.StatusReport status = status(daemon);
            assertThat(status.files()).isEqualTo(1);
            assertThat(status.fileBytes()).isEqualTo(Files.size(young));
            assertThat(status.fileKeepDays()).isEqualTo(30);
        }
        store = Stores.sqlite(dir.resolve("cordon.db"), clock); // for close()
    }

    static ControlEvent.StatusReport status(Daemon daemon) throws Exception {
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.Status());
            return client.await(ControlEvent.StatusReport.class);
        }
    }
}
