package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code cordon agents create|list} against the real daemon: folders, store rows, audit, and a first turn. */
class AgentControlTest extends DaemonTestBase {
    @BeforeEach
    void start() throws Exception {
        startDaemon();
    }

    @Test
    void aCreatedAgentHasItsFolderIsListedAuditedAndAnswersWithItsInstructions() throws Exception {
        ControlEvent created = request(new ControlRequest.AgentsCreate("sales", "You are the sales agent. Be brief."));

        assertThat(created)
                .isInstanceOfSatisfying(
                        ControlEvent.Done.class,
                        d -> assertThat(d.message())
                                .startsWith("Created agent sales in " + home.resolve("agents/sales")));
        assertThat(Files.readString(home.resolve("agents/sales/AGENTS.md")))
                .isEqualTo("You are the sales agent. Be brief.\n");
        assertThat(home.resolve("agents/sales/workspace")).isDirectory();
        assertThat(audited("agent.create")).singleElement().satisfies(e -> {
            assertThat(e.agent().value()).isEqualTo("sales");
            assertThat(e.actor()).isEqualTo(AuditEvent.Actor.user("terminal:owner"));
        });

        model.enqueue(Scripted.text("Buy now."));
        assertThat(ask("sales", "hello")).isEqualTo("Buy now.");
        assertThat(model.requests()
                        .getLast()
                        .body()
                        .path("system")
                        .get(0)
                        .path("text")
                        .asString())
                .contains("You are the sales agent. Be brief.");

        ControlEvent.AgentListing listing = (ControlEvent.AgentListing) request(new ControlRequest.AgentsList());
        assertThat(listing.agents()).extracting(ControlEvent.AgentRow::name).containsExactly("main", "sales");
        assertThat(listing.agents().get(1)).satisfies(row -> {
            assertThat(row.sessions()).isEqualTo(1);
            assertThat(row.liveSessions()).isEqualTo(1);
            assertThat(row.policy()).isEqualTo("defaults");
            assertThat(row.memoryBytes()).isEqualTo(-1);
        });
    }

    @Test
    void aDuplicateOrBadNameIsRefusedAndChangesNothing() throws Exception {
        Files.writeString(home.resolve("agents/main/AGENTS.md"), "Mine.\n");

        assertThat(request(new ControlRequest.AgentsCreate("main", "Overwrite?")))
                .isInstanceOfSatisfying(
                        ControlEvent.Failure.class,
                        f -> assertThat(f.message())
                                .isEqualTo("agent main already exists (" + home.resolve("agents/main") + ")"));
        assertThat(request(new ControlRequest.AgentsCreate("../etc", null)))
                .isInstanceOfSatisfying(
                        ControlEvent.Failure.class, f -> assertThat(f.message()).contains("../etc"));
        assertThat(Files.readString(home.resolve("agents/main/AGENTS.md"))).isEqualTo("Mine.\n");
        assertThat(home.resolve("etc")).doesNotExist();
        assertThat(((ControlEvent.AgentListing) request(new ControlRequest.AgentsList())).agents())
                .extracting(ControlEvent.AgentRow::name)
                .containsExactly("main");
    }

    @Test
    void anInvalidPolicyIsShownInTheListing() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), "sandbox:\n  pids: lots\n");

        ControlEvent.AgentRow main = firstRow();

        assertThat(main.policy()).startsWith("invalid, the agent cannot run: ").contains("sandbox.pids");
    }

    @Test
    void aPolicyWithSeveralErrorsKeepsItsRowShortAndSaysWhereTheRestAre() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), "tools:\n  bash: maybe\nsandbox:\n  pids: lots\n");

        ControlEvent.AgentRow main = firstRow();

        assertThat(main.policy())
                .startsWith("invalid, the agent cannot run: ")
                .endsWith(" (and 1 more: ./cordon policy explain main)")
                .doesNotContain("\n");
    }

    private ControlEvent.AgentRow firstRow() throws Exception {
        return ((ControlEvent.AgentListing) request(new ControlRequest.AgentsList()))
                .agents()
                .getFirst();
    }
}
