package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditKeys;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.audit.AuditVerification;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.store.Stores;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code cordon agents delete} against the real daemon, store and sandbox: refused while the agent
 * runs, then archived with its memory and transcripts, audited with the chain intact, and the name
 * free for a new agent that sees nothing of the old one.
 */
class AgentDeleteEndToEndTest extends DaemonTestBase {

    @Test
    void aDeletedAgentIsArchivedAndARecreatedOneSeesNoneOfItsMemoryOrTranscripts() throws Exception {
        startDaemon();
        assertThat(request(new ControlRequest.AgentsCreate("sales", "You are OLD-SALES.")))
                .isInstanceOf(ControlEvent.Done.class);
        model.enqueue(Scripted.toolCall("remember", "{\"fact\":\"the code word is PELICAN\"}"), Scripted.text("noted"));
        assertThat(ask("sales", "Remember the code word PELICAN.")).isEqualTo("noted");

        assertThat(request(new ControlRequest.AgentsDelete("sales", false)))
                .isInstanceOfSatisfying(
                        ControlEvent.Failure.class,
                        f -> assertThat(f.message()).contains("1 live session").contains("--force"));
        // With a disk quota the workspace is an ext4 image, which the archive keeps as it is.
        boolean image = Files.exists(home.resolve("agents/sales/workspace.img"));

        ControlEvent deleted = request(new ControlRequest.AgentsDelete("sales", true));

        assertThat(deleted).isInstanceOf(ControlEvent.Done.class);
        String done = ((ControlEvent.Done) deleted).message();
        assertThat(done).contains("Deleted agent sales. Archived in " + home.resolve("archive"));
        assertThat(done).contains("Stopped 1 live sandbox").contains("Unwired 1 chat");
        assertThat(home.resolve("agents/sales")).doesNotExist();
        Path archive;
        try (Stream<Path> dirs = Files.list(home.resolve("archive"))) {
            archive = dirs.filter(p -> p.getFileName().toString().startsWith("sales-"))
                    .findFirst()
                    .orElseThrow();
        }
        assertThat(archive.resolve("agent/AGENTS.md")).hasContent("You are OLD-SALES.");
        if (image) {
            assertThat(archive.resolve("agent/workspace.img")).isNotEmptyFile();
            assertThat(archive.resolve("agent/workspace")).isEmptyDirectory();
        } else {
            assertThat(archive.resolve("agent/workspace/MEMORY.md")).content().contains("PELICAN");
        }
        try (Stream<Path> transcripts = Files.list(archive.resolve("transcripts"))) {
            List<Path> files = transcripts.toList();
            assertThat(files)
                    .singleElement()
                    .satisfies(f -> assertThat(f.getFileName().toString()).matches("session-\\d+\\.jsonl"));
            assertThat(Files.readString(files.getFirst())).contains("Remember the code word PELICAN.");
        }
        assertThat(audited(AuditActions.AGENT_DELETE)).singleElement().satisfies(e -> {
            assertThat(e.agent().value()).isEqualTo("sales");
            assertThat(e.details())
                    .containsEntry("archive", archive.toString())
                    .containsEntry("stopped_sandboxes", 1L)
                    .containsEntry("transcripts", 1L);
        });
        assertThat(((ControlEvent.AgentListing) request(new ControlRequest.AgentsList())).agents())
                .extracting(ControlEvent.AgentRow::name)
                .containsExactly("main");
        assertThat(request(new ControlRequest.AgentsDelete("sales", true)))
                .isInstanceOfSatisfying(
                        ControlEvent.Failure.class, f -> assertThat(f.message()).contains("there is no agent sales"));

        assertThat(request(new ControlRequest.AgentsCreate("sales", "You are NEW-SALES.")))
                .isInstanceOf(ControlEvent.Done.class);
        model.enqueue(Scripted.text("fresh"));
        assertThat(ask("sales", "What do you know?")).isEqualTo("fresh");
        String body = model.requests().getLast().body().toString();
        assertThat(body)
                .contains("NEW-SALES")
                .doesNotContain("OLD-SALES")
                .doesNotContain("PELICAN")
                .doesNotContain("Remember the code word");

        daemon.close();
        daemon = null;
        Home h = new Home(home);
        try (Store store = Stores.sqlite(h.database())) {
            AuditVerification verified =
                    AuditLogs.verify(store.audit(), AuditKeys.readPublicKey(AuditKeys.publicKeyFile(h.auditKey())));
            assertThat(verified.ok()).as(verified.toString()).isTrue();
            long oldSessions = store.sessions().stream()
                    .filter(s -> store.agent(s.agentId())
                            .map(a -> a.name().equals(new AgentName("sales")))
                            .orElse(false))
                    .count();
            assertThat(oldSessions)
                    .as("the old agent's session is kept beside the new one's")
                    .isEqualTo(2);
            assertThat(store.agents()).extracting(a -> a.name().value()).containsExactly("main", "sales");
        }
    }
}
