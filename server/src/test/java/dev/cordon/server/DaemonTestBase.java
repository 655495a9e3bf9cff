package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.store.Stores;
import dev.cordon.testkit.FakeModelServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A test of the real daemon on the fake model: a fresh home with the agent {@code main}, the model
 * server started before each test, and both stopped after it. A subclass writes what it needs into
 * {@link #home} (policies, cordon.yaml, more agents), then calls {@link #startDaemon()}.
 */
abstract class DaemonTestBase {
    @TempDir
    Path home;

    FakeModelServer model;
    Daemon daemon;

    @BeforeEach
    final void startModel() throws IOException {
        Files.createDirectories(home.resolve("agents/main"));
        model = FakeModelServer.start();
    }

    @AfterEach
    final void stopAll() {
        if (daemon != null) {
            daemon.close();
        }
        model.close();
    }

    void startDaemon() throws IOException {
        daemon = EndToEndTest.startOn(home, model);
    }

    /** Asks {@code agent} over a fresh control connection; the reply must not be a failure. */
    String ask(String agent, String text) throws Exception {
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            ControlEvent.Reply reply = client.ask(agent, text);
            assertThat(reply.failed()).as(reply.text()).isFalse();
            return reply.text();
        }
    }

    String ask(String text) throws Exception {
        return ask("main", text);
    }

    /** One request over a fresh control connection, and its first answer. */
    ControlEvent request(ControlRequest request) throws Exception {
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(request);
            return client.await(ControlEvent.class, e -> true, Duration.ofSeconds(30));
        }
    }

    /** Stops the daemon and reads the first session's whole stored transcript, as the store keeps it. */
    List<ChatMessage> archive() throws Exception {
        daemon.close();
        daemon = null;
        try (Store store = Stores.sqlite(new Home(home).database())) {
            return store.transcript(store.sessions().getFirst().id());
        }
    }

    List<AuditEvent> audited(String action) {
        return daemon.audit().read(0, 100_000).stream()
                .map(AuditEntry::event)
                .filter(e -> e.action().equals(action))
                .toList();
    }
}
