package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the audit log says about the configuration and about message bodies: a start with a new or
 * changed cordon.yaml is recorded; bodies appear only when the operator turns them on.
 */
class AuditedConfigTest {
    @TempDir
    Path home;

    List<AuditEvent> events(Daemon daemon, String action) {
        return daemon.audit().read(0, 10_000).stream()
                .map(e -> e.event())
                .filter(e -> e.action().equals(action))
                .toList();
    }

    @Test
    void aStartWithANewOrChangedConfigurationIsAuditedAndAnUnchangedOneIsNot() throws Exception {
        Files.writeString(home.resolve("cordon.yaml"), "approvals:\n  timeout_seconds: 60\n");
        try (Daemon first = Daemon.start(home, Map.of(), EndToEndTest.RUNNER_LIB)) {
            assertThat(events(first, "config.change")).singleElement().satisfies(e -> {
                assertThat(e.reason()).isEqualTo("the first start with this home");
                assertThat(e.details()).containsEntry("previous", "none").containsKey("sha256");
            });
        }
        try (Daemon same = Daemon.start(home, Map.of(), EndToEndTest.RUNNER_LIB)) {
            assertThat(events(same, "config.change")).hasSize(1);
        }
        Files.writeString(home.resolve("cordon.yaml"), "approvals:\n  timeout_seconds: 120\n");
        try (Daemon changed = Daemon.start(home, Map.of(), EndToEndTest.RUNNER_LIB)) {
            List<AuditEvent> changes = events(changed, "config.change");
            assertThat(changes).hasSize(2);
            assertThat(changes.getLast().reason()).isEqualTo("cordon.yaml changed since the last start");
            assertThat(changes.getLast().details().get("previous"))
                    .isEqualTo(changes.getFirst().details().get("sha256"));
        }
    }

    @Test
    void messageBodiesAreAuditedOnlyWhenTheOperatorTurnsThemOn() throws Exception {
        String secretish = "body-" + UUID.randomUUID();
        try (Daemon off = Daemon.start(home, Map.of(), EndToEndTest.RUNNER_LIB)) {
            say(off, secretish);
            assertThat(events(off, "inbound.accepted"))
                    .singleElement()
                    .satisfies(e -> assertThat(e.details()).doesNotContainKey("body"));
        }
        Files.writeString(home.resolve("cordon.yaml"), "audit:\n  message_bodies: true\n");
        try (Daemon on = Daemon.start(home, Map.of(), EndToEndTest.RUNNER_LIB)) {
            say(on, secretish + "-2");
            assertThat(events(on, "inbound.accepted").getLast().details()).containsEntry("body", secretish + "-2");
            assertThat(events(on, "config.change").getLast().details()).containsEntry("message_bodies", true);
        }
    }

    @Test
    void aMalformedAuditSectionIsRefusedWithTheField() throws Exception {
        Files.writeString(home.resolve("cordon.yaml"), "audit:\n  message_bodies: sometimes\n");
        assertThatThrownBy(() -> Config.load(home, Map.of()))
                .hasMessageContaining("audit.message_bodies must be true or false");
        Files.writeString(home.resolve("cordon.yaml"), "audit:\n  bodies: true\n");
        assertThatThrownBy(() -> Config.load(home, Map.of())).hasMessageContaining("bodies");
    }

    static void say(Daemon daemon, String text) throws Exception {
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.Attach("main", false));
            client.await(ControlEvent.Attached.class);
            client.send(new ControlRequest.Say("main", UUID.randomUUID().toString(), text));
            client.await(ControlEvent.Accepted.class, e -> true, Duration.ofSeconds(60));
        }
    }
}
