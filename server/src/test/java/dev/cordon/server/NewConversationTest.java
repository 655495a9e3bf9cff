package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Role;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A chat's {@code /new}: the next turn sends the model nothing said before it, the chat is told so
 * by Cordon (the model is not asked), and the stored transcript keeps everything. Real daemon, real
 * sandbox, fake model.
 */
class NewConversationTest extends DaemonTestBase {
    @Test
    void afterNewTheModelSeesNothingSaidBeforeAndTheArchiveKeepsIt() throws Exception {
        startDaemon();
        model.enqueue(Scripted.text("Hello Ada."), Scripted.text("I do not know your name."));
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            assertThat(client.ask("main", "my name is Ada-7").text()).isEqualTo("Hello Ada.");

            assertThat(client.ask("main", " /NEW ").text()).startsWith("[Cordon: a new conversation starts here.");
            assertThat(model.requests())
                    .as("/new is answered by Cordon, not the model")
                    .hasSize(1);

            assertThat(client.ask("main", "what is my name?").text()).isEqualTo("I do not know your name.");
        }

        List<RecordedRequest> requests = model.requests();
        assertThat(requests).hasSize(2);
        assertThat(requests.get(0).body().toString()).contains("Ada-7");
        assertThat(requests.get(1).body().toString())
                .contains("what is my name?")
                .doesNotContain("Ada-7")
                .doesNotContain("Hello Ada.")
                .doesNotContain("/NEW");
        assertThat(requests.get(1).body().path("messages")).hasSize(1);
        assertThat(audited("session.reset")).singleElement().satisfies(e -> {
            assertThat(e.decision()).isEqualTo(AuditEvent.Decision.INFO);
            assertThat(e.details()).containsEntry("messages_before", 2L);
        });

        assertThat(archive().toString()).contains("Ada-7").contains("/NEW").contains("what is my name?");
    }

    @Test
    void messagesAfterNewInTheSameBurstStartTheNewConversation() throws Exception {
        // An idle session that gathers a burst takes the three messages as one batch.
        Files.writeString(home.resolve("agents/main/policy.yaml"), "turns:\n  gather_ms: 1500\n");
        startDaemon();
        model.enqueue(Scripted.text("Fresh."));
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.Attach("main", false));
            client.await(ControlEvent.Attached.class);
            List<Long> inbound = new ArrayList<>();
            for (String text : List.of("remember Bob-3", "/new", "who is Bob?")) {
                String id = UUID.randomUUID().toString();
                client.send(new ControlRequest.Say("main", id, text));
                inbound.add(client.await(
                                ControlEvent.Accepted.class,
                                a -> a.clientMessageId().equals(id),
                                Duration.ofSeconds(30))
                        .inboundId());
            }

            assertThat(client.await(
                                    ControlEvent.Reply.class,
                                    r -> r.inReplyTo() == inbound.get(1),
                                    Duration.ofSeconds(60))
                            .text())
                    .startsWith("[Cordon: a new conversation starts here.");
            assertThat(client.await(
                                    ControlEvent.Reply.class,
                                    r -> r.inReplyTo() == inbound.get(2),
                                    Duration.ofSeconds(60))
                            .text())
                    .isEqualTo("Fresh.");
        }

        assertThat(model.requests())
                .singleElement()
                .satisfies(r ->
                        assertThat(r.body().toString()).contains("who is Bob?").doesNotContain("Bob-3"));
    }

    @Test
    void theDashboardsTranscriptSaysWhereTheConversationStartedAnew() {
        ChatMessage freshStart = new ChatMessage(Role.USER, List.of(new Part.Summary("")));
        ChatMessage summary = new ChatMessage(Role.USER, List.of(new Part.Summary("Ada asked for a plan.")));

        assertThat(WebApi.message(freshStart).get("text"))
                .isEqualTo("(a new conversation starts here: the agent sees nothing above)");
        assertThat((String) WebApi.message(summary).get("text"))
                .startsWith("(the agent's summary of the conversation above")
                .endsWith("Ada asked for a plan.");
    }
}
