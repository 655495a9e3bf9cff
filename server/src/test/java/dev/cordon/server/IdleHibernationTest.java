package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hibernation after an idle timeout from the agent's policy, with real sandboxes: the agent whose
 * policy says one second hibernates while the one on the host's ten minutes stays up, and its next
 * message resumes the conversation and the workspace in a new sandbox.
 */
class IdleHibernationTest extends DaemonTestBase {
    static final Duration WAIT = Duration.ofSeconds(60);

    @BeforeEach
    void start() throws Exception {
        Files.createDirectories(home.resolve("agents/brief"));
        Files.writeString(home.resolve("agents/brief/policy.yaml"), "sandbox:\n  idle_timeout_seconds: 1\n");
        Files.createDirectories(home.resolve("agents/patient"));
        startDaemon();
    }

    @Test
    void anAgentsOwnIdleTimeoutHibernatesItsSandboxAndTheNextMessageResumesWhereItWas() throws Exception {
        model.enqueue(
                Scripted.toolCall("bash", EndToEndTest.json("echo kept > notes.txt")),
                Scripted.text("noted"),
                Scripted.text("patient answer"));
        assertThat(ask("brief", "please take a note")).isEqualTo("noted");
        assertThat(ask("patient", "hello")).isEqualTo("patient answer");

        await().atMost(WAIT).until(() -> !stops("brief").isEmpty());

        assertThat(stops("brief").getFirst().reason()).isEqualTo("idle for 1.0 s (sandbox.idle_timeout_seconds)");
        assertThat(stops("patient")).isEmpty();
        ControlEvent.SessionListing listing = (ControlEvent.SessionListing) control(new ControlRequest.SessionsList(5));
        assertThat(listing.sessions())
                .filteredOn(r -> r.agent().equals("patient"))
                .singleElement()
                .satisfies(r -> assertThat(r.state()).isEqualTo("idle"));
        assertThat(listing.sessions())
                .filteredOn(r -> r.agent().equals("brief"))
                .singleElement()
                .satisfies(r -> assertThat(r.state()).isEqualTo("hibernated"));

        // A new sandbox: the conversation is sent again, and the workspace still has the note.
        model.enqueue(Scripted.toolCall("bash", EndToEndTest.json("cat notes.txt")), Scripted.text("still here"));
        assertThat(ask("brief", "what did you note?")).isEqualTo("still here");
        assertThat(starts("brief")).hasSize(2);
        var resumed = model.requests().get(model.requests().size() - 2);
        assertThat(resumed.body().get("messages").toString()).contains("please take a note", "noted");
        assertThat(EndToEndTest.toolResults(model.requests().getLast())).containsExactly("(no output)", "kept\n");
    }

    ControlEvent control(ControlRequest request) throws Exception {
        return ChannelTests.control(daemon, request);
    }

    List<AuditEvent> stops(String agent) {
        return ofAgent("sandbox.stop", agent);
    }

    List<AuditEvent> starts(String agent) {
        return ofAgent("sandbox.start", agent);
    }

    private List<AuditEvent> ofAgent(String action, String agent) {
        return audited(action).stream()
                .filter(e -> e.agent() != null && e.agent().value().equals(agent))
                .toList();
    }
}
