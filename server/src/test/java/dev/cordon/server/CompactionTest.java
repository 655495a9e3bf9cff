package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Part;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A conversation that outgrows {@code turns.compact_at_tokens}: the model summarizes its older turns
 * (quietly: the chat sees none of it), later turns send the summary instead of them, and the stored
 * transcript keeps everything. Real daemon, real sandbox, fake model.
 */
class CompactionTest extends DaemonTestBase {
    @BeforeEach
    void start() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), "turns:\n  compact_at_tokens: 1000\n");
        startDaemon();
    }

    static String body(RecordedRequest request) {
        return request.body().toString();
    }

    @Test
    void olderTurnsAreSummarizedOnceTheConversationOutgrowsTheThresholdAndTheArchiveKeepsThem() throws Exception {
        // About 400 estimated tokens per message: the third turn would send over 1,000.
        String first = "first-marker " + "a".repeat(1200);
        String second = "second-marker " + "b".repeat(1200);
        String third = "third-marker " + "c".repeat(1200);
        model.enqueue(
                Scripted.text("Noted one."),
                Scripted.text("Noted two."),
                Scripted.text("SUMMARY-7: the user sent a first long message; you noted it."),
                Scripted.text("Noted three."),
                Scripted.text("Noted four."));
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            assertThat(client.ask("main", first).text()).isEqualTo("Noted one.");
            assertThat(client.ask("main", second).text()).isEqualTo("Noted two.");
            assertThat(client.ask("main", third).text()).isEqualTo("Noted three.");
            assertThat(client.ask("main", "and a short one").text()).isEqualTo("Noted four.");
            // The summary was written in the background: no delta or reply of it reached the chat.
            assertThat(client.seen).noneMatch(e -> e.toString().contains("SUMMARY-7"));
        }

        List<RecordedRequest> requests = model.requests();
        assertThat(requests).hasSize(5);
        RecordedRequest compaction = requests.get(2);
        assertThat(compaction.body().path("system").get(0).path("text").asString())
                .startsWith("You write the summary that replaces the older part of a conversation");
        assertThat(body(compaction)).contains("first-marker").doesNotContain("second-marker");
        assertThat(body(requests.get(3)))
                .contains("SUMMARY-7")
                .contains("second-marker")
                .contains("third-marker");
        assertThat(body(requests.get(3))).doesNotContain("first-marker");
        assertThat(body(requests.get(4))).contains("SUMMARY-7").doesNotContain("first-marker");

        assertThat(audited("session.compact")).singleElement().satisfies(e -> {
            assertThat(e.decision()).isEqualTo(AuditEvent.Decision.INFO);
            assertThat(e.details()).containsEntry("messages_summarized", 2L);
        });

        List<ChatMessage> archive = archive();
        assertThat(archive.toString()).contains("first-marker");
        assertThat(archive)
                .filteredOn(m -> m.parts().stream().anyMatch(p -> p instanceof Part.Summary))
                .hasSize(1);
    }
}
