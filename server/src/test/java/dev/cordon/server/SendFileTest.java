package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.Capabilities;
import dev.cordon.core.channel.ChannelAdapter;
import dev.cordon.core.channel.Delivery;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.core.dlp.DlpAction;
import dev.cordon.core.dlp.SecretScanner;
import dev.cordon.core.file.FileVault;
import dev.cordon.core.message.Destination;
import dev.cordon.core.message.FileSending;
import dev.cordon.core.message.Messaging;
import dev.cordon.core.session.HostTools;
import dev.cordon.core.store.Store;
import dev.cordon.store.Stores;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code send_file} against a real SQLite store and file vault: a file stored before a restart is
 * delivered with its bytes after it, the data-loss guard reads text files, destinations are the
 * same as for messages, and file links expire.
 */
class SendFileTest {
    static final String SECRET = "vault-secret-value-9431";

    @TempDir
    Path dir;

    Store store;
    AuditLog audit;
    Agent main;
    Chat terminal;
    Session session;
    Path workspace;
    FileVault vault;
    final AtomicReference<DlpAction> dlp = new AtomicReference<>(DlpAction.REDACT);
    final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    @BeforeEach
    void open() throws Exception {
        store = Stores.sqlite(dir.resolve("cordon.db"));
        audit = AuditLogs.open(store.audit(), dir.resolve("keys/audit-ed25519"));
        main = store.ensureAgent(new AgentName("main"));
        terminal = store.ensureChat("files", "room-1");
        store.wire(terminal.id(), main.id());
        session = store.ensureSession(main.id(), terminal.id(), "");
        workspace = Files.createDirectories(dir.resolve("workspace"));
        vault = new FileVault(dir.resolve("data/files"));
    }

    @AfterEach
    void close() {
        timer.shutdownNow();
        audit.close();
        store.close();
    }

    Messaging messaging() {
        return new Messaging(
                        store,
                        audit,
                        Clock.systemUTC(),
                        agent -> Map.of(
                                "ops", new Destination.Chat("files", "#ops"),
                                "sales", new Destination.Agent(new AgentName("sales"))),
                        channel -> channel.equals("files"),
                        chat -> {})
                .withFiles(new FileSending(
                        vault,
                        agent -> workspace,
                        1024,
                        new SecretScanner(() -> Map.of("API_TOKEN", SECRET.getBytes(StandardCharsets.UTF_8))),
                        agent -> dlp.get()));
    }

    HostTools.Result sendFile(Messaging messaging, String turn, Map<String, String> arguments) {
        Inbound asked = store.inbound(store.storeInbound(
                                session.id(),
                                terminal.id(),
                                new NewInbound("files", "room-1", turn, "owner", "send it"))
                        .id())
                .orElseThrow();
        return messaging.call(
                new HostTools.Caller(main, session, terminal, turn, List.of(asked)), Messaging.SEND_FILE, arguments);
    }

    /**
     * A channel that takes uploads and keeps what it was handed; one that {@code refusesFiles} takes
     * messages but not their files, as WhatsApp refuses a type outside its list.
     */
    static final class Uploads implements ChannelAdapter {
        final List<OutgoingMessage> got = new CopyOnWriteArrayList<>();
        final List<byte[]> bytes = new CopyOnWriteArrayList<>();
        final boolean refusesFiles;

        Uploads() {
            this(false);
        }

        Uploads(boolean refusesFiles) {
            this.refusesFiles = refusesFiles;
        }

        @Override
        public String name() {
            return "files";
        }

        @Override
        public Capabilities capabilities() {
            return new Capabilities(false, false, false, true, false, false, 0);
        }

        @Override
        public DeliveryResult deliver(OutgoingMessage message) {
            if (refusesFiles && message.file() != null) {
                got.add(message);
                return new DeliveryResult.FileRefused(
                        "(#100) Param file must be a file with one of the following types");
            }
            try {
                bytes.add(message.file() == null ? new byte[0] : message.file().readAllBytes());
            } catch (java.io.IOException e) {
                return new DeliveryResult.Failed(e.getMessage());
            }
            got.add(message);
            return new DeliveryResult.Delivered("m" + got.size());
        }
    }

    @Test
    void aFileStoredBeforeARestartIsUploadedWithItsBytesAfterIt() throws Exception {
        byte[] pdf = "%PDF-1.4 \u0000\u0001 binary".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(workspace.resolve("report.pdf"), pdf);
        HostTools.Result sent = sendFile(messaging(), "t1", Map.of("path", "report.pdf", "caption", "Q3"));
        assertThat(sent.error()).as(sent.text()).isFalse();
        // The agent deletes its copy; the daemon stops before delivering.
        Files.delete(workspace.resolve("report.pdf"));
        audit.close();
        store.close();

        store = Stores.sqlite(dir.resolve("cordon.db"));
        audit = AuditLogs.open(store.audit(), dir.resolve("keys/audit-ed25519"));
        Uploads channel = new Uploads();
        Delivery delivery = new Delivery(store, List.of(channel), audit, Clock.systemUTC(), timer);
        delivery.filesFrom(new FileVault(dir.resolve("data/files")), f -> "unused");
        delivery.wakeAll();

        await().atMost(Duration.ofSeconds(10)).until(() -> !channel.got.isEmpty());
        OutgoingMessage message = channel.got.getFirst();
        assertThat(message.text()).isEqualTo("Q3");
        assertThat(message.file().name()).isEqualTo("report.pdf");
        assertThat(message.file().mediaType()).isEqualTo("application/pdf");
        assertThat(message.file().size()).isEqualTo(pdf.length);
        assertThat(channel.bytes.getFirst()).isEqualTo(pdf);
        await().atMost(Duration.ofSeconds(10)).until(() -> store.undelivered().isEmpty());
    }

    @Test
    void aFileThePlatformRefusesGoesAsTheTextInItsPlaceAndTheAuditSaysWhy() throws Exception {
        Files.writeString(workspace.resolve("build.tar"), "not a type the platform takes");
        HostTools.Result sent = sendFile(messaging(), "t1", Map.of("path", "build.tar", "caption", "The build."));
        assertThat(sent.error()).as(sent.text()).isFalse();
        Uploads picky = new Uploads(true);
        Delivery delivery = new Delivery(store, List.of(picky), audit, Clock.systemUTC(), timer);
        delivery.filesFrom(vault, f -> "[link to " + f.name() + "]");

        delivery.wakeAll();

        await().atMost(Duration.ofSeconds(10)).until(() -> store.undelivered().isEmpty());
        assertThat(picky.got).hasSize(2);
        assertThat(picky.got.getLast().file()).isNull();
        assertThat(picky.got.getLast().text()).isEqualTo("The build.\n\n[link to build.tar]");
        assertThat(audit.read(0, 1000))
                .filteredOn(e -> e.event().action().equals("delivery"))
                .singleElement()
                .satisfies(e -> assertThat(e.event().details())
                        .containsEntry("file_as", "text")
                        .containsEntry(
                                "file_refused", "(#100) Param file must be a file with one of the following types"));
    }

    @Test
    void theSameFileSentAgainInARedoneTurnIsOneMessage() throws Exception {
        Files.writeString(workspace.resolve("a.txt"), "alpha");
        Messaging messaging = messaging();
        assertThat(sendFile(messaging, "t1", Map.of("path", "a.txt")).error()).isFalse();
        assertThat(sendFile(messaging, "t1", Map.of("path", "/workspace/a.txt")).error())
                .isFalse();

        assertThat(store.undelivered()).hasSize(1);
    }

    @Test
    void aTextFileCarryingASecretIsRedactedOrRefusedAsThePolicySays() throws Exception {
        Files.writeString(workspace.resolve("env.txt"), "TOKEN=" + SECRET + "\n");
        Messaging messaging = messaging();

        HostTools.Result redacted = sendFile(messaging, "t1", Map.of("path", "env.txt"));
        assertThat(redacted.text()).contains("replaced what looked like");
        Store.OutboundFile file =
                store.outboundFile(store.undelivered().getFirst().id()).orElseThrow();
        try (InputStream in = vault.open(file.sha256())) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                    .doesNotContain(SECRET)
                    .startsWith("TOKEN=[redacted: ");
        }

        dlp.set(DlpAction.BLOCK);
        HostTools.Result blocked = sendFile(messaging, "t2", Map.of("path", "env.txt"));
        assertThat(blocked.error()).isTrue();
        assertThat(blocked.text()).contains("dlp.replies: block");
        assertThat(store.undelivered()).hasSize(1);
    }

    @Test
    void destinationsAreThoseOfMessagesAndAgentsGetNoFiles() throws Exception {
        Files.writeString(workspace.resolve("a.txt"), "alpha");
        store.ensureAgent(new AgentName("sales"));
        Messaging messaging = messaging();

        assertThat(sendFile(messaging, "t1", Map.of("path", "a.txt", "to", "nowhere"))
                        .text())
                .contains("your policy names no destination 'nowhere'");
        assertThat(sendFile(messaging, "t2", Map.of("path", "a.txt", "to", "sales"))
                        .text())
                .contains("files go to chats, not to agents");
        HostTools.Result ops = sendFile(messaging, "t3", Map.of("path", "a.txt", "to", "ops"));
        assertThat(ops.text()).isEqualTo("Sent a.txt (5 bytes) to ops.");
        assertThat(store.undelivered())
                .singleElement()
                .satisfies(o -> assertThat(store.chat(o.chatId()).orElseThrow().platformChatId())
                        .isEqualTo("#ops"));
        assertThat(audit.read(0, 100).stream().map(AuditEntry::event).map(e -> e.action() + " " + e.rule()))
                .containsExactly("message.deny destinations", "message.deny files", "file.send destinations.ops");
    }

    @Test
    void aLinkServesItsFileUntilItExpiresAndNoLongerWhenAltered() throws Exception {
        FileVault.Blob blob = vault.put(
                java.nio.channels.Channels.newChannel(new java.io.ByteArrayInputStream(new byte[] {1, 2, 3})), 10);
        MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
        FileLinks links = new FileLinks(
                vault,
                new FileSettings(
                        10,
                        java.net.URI.create("https://cordon.example.org"),
                        Duration.ofHours(1),
                        Duration.ofDays(30)),
                dir.resolve("keys/file-links.key"),
                clock);
        String text =
                links.inPlaceOf(new Attachment("a b.bin", "application/octet-stream", 3, blob.sha256(), () -> null));
        assertThat(text)
                .startsWith("File a b.bin (3 bytes), for 1 h: https://cordon.example.org/files/" + blob.sha256());
        String[] p = text.substring(text.indexOf("/files/") + 7).split("/");
        String name = java.net.URLDecoder.decode(p[3], StandardCharsets.UTF_8);

        try (InputStream in = links.open(p[0], p[1], p[2], name).orElseThrow()) {
            assertThat(in.readAllBytes()).containsExactly(1, 2, 3);
        }
        assertThat(links.open(p[0], p[1], p[2], "other.bin")).isEmpty();
        assertThat(links.open(p[0], Long.toString(Long.parseLong(p[1]) + 3600), p[2], name))
                .isEmpty();
        clock.now = clock.now.plus(Duration.ofMinutes(61));
        assertThat(links.open(p[0], p[1], p[2], name)).isEmpty();
    }

    @Test
    void withoutAPublicUrlTheTextSaysWhereTheFileIsOnTheHost() {
        FileLinks links =
                new FileLinks(vault, FileSettings.DEFAULTS, dir.resolve("keys/file-links.key"), Clock.systemUTC());

        assertThat(links.inPlaceOf(new Attachment("r.pdf", "application/pdf", 2048, "ab".repeat(32), () -> null)))
                .isEqualTo("[File r.pdf (2.0 KiB) is on the Cordon host at "
                        + vault.dir().resolve("ab".repeat(32))
                        + ": this channel cannot carry files, and the daemon has no files.public_url to link it"
                        + " from.]");
    }

    static final class MutableClock extends Clock {
        volatile Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
