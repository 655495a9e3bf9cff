package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.control.ApprovalView;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@code create_agent} from inside a real sandbox on the fake model: only with the capability, and
 * only once a person has seen the name and the whole AGENTS.md text and approved; the new agent gets
 * the default policy.
 */
class AgentCreationEndToEndTest extends DaemonTestBase {
    private static final String CREATE =
            "{\"name\":\"helper\",\"agents_md\":\"You are HELPER. Do chores.\"," + "\"description\":\"does chores\"}";

    @Test
    void anApprovedRequestCreatesTheAgentWithTheDefaultPolicyAndTheCreatorReachesItOnlyThroughItsDestination()
            throws Exception {
        Files.writeString(
                home.resolve("agents/main/policy.yaml"),
                "capabilities: {create_agents: true}\ndestinations: {helper: {agent: helper}}\n");
        startDaemon();
        model.enqueue(Scripted.toolCall("create_agent", CREATE), Scripted.text("made it"));

        String reply = askAndAnswer(new ControlRequest.ApprovalApprove(0, "once", 0, 0, "fine"), view -> {
            assertThat(view.kind()).isEqualTo("agent.create");
            assertThat(view.agent()).isEqualTo("main");
            assertThat(view.payload())
                    .containsEntry("name", "helper")
                    .containsEntry("agents_md", "You are HELPER. Do chores.")
                    .containsEntry("description", "does chores");
        });

        assertThat(reply).isEqualTo("made it");
        assertThat(lastToolResult())
                .contains("Created agent helper")
                .contains("default policy")
                .contains("destination 'helper'");
        assertThat(home.resolve("agents/helper/AGENTS.md")).hasContent("You are HELPER. Do chores.");
        assertThat(home.resolve("agents/helper/policy.yaml")).doesNotExist();
        assertThat(audited(AuditActions.AGENT_CREATE)).singleElement().satisfies(e -> {
            assertThat(e.actor()).isEqualTo(AuditEvent.Actor.agent(new dev.cordon.core.AgentName("main")));
            assertThat(e.agent().value()).isEqualTo("helper");
            assertThat(e.details()).containsEntry("creator", "main").containsKey("approval");
        });
        ControlEvent.AgentRow helper = ((ControlEvent.AgentListing) request(new ControlRequest.AgentsList()))
                .agents().stream()
                        .filter(a -> a.name().equals("helper"))
                        .findFirst()
                        .orElseThrow();
        assertThat(helper.policy()).isEqualTo("defaults");

        model.enqueue(Scripted.text("chores done"));
        assertThat(ask("helper", "hi")).isEqualTo("chores done");
        assertThat(model.requests().getLast().body().toString()).contains("You are HELPER. Do chores.");
    }

    @Test
    void aDeniedApprovalCreatesNothingAndTellsTheAgentWhy() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), "capabilities: {create_agents: true}\n");
        startDaemon();
        model.enqueue(Scripted.toolCall("create_agent", CREATE), Scripted.text("understood"));

        String reply = askAndAnswer(new ControlRequest.ApprovalDeny(0, "no more agents"), view -> {});

        assertThat(reply).isEqualTo("understood");
        assertThat(lastToolResult()).contains("not approved").contains("no more agents");
        assertThat(home.resolve("agents/helper")).doesNotExist();
        assertThat(audited(AuditActions.AGENT_CREATE))
                .singleElement()
                .satisfies(e -> assertThat(e.rule()).isEqualTo("approval"));
    }

    @Test
    void withoutTheCapabilityNobodyIsAskedAndNothingIsCreated() throws Exception {
        startDaemon();
        model.enqueue(Scripted.toolCall("create_agent", CREATE), Scripted.text("cannot"));

        assertThat(ask("make a helper")).isEqualTo("cannot");

        assertThat(lastToolResult()).contains("does not grant you the capability to create agents");
        assertThat(((ControlEvent.ApprovalListing) request(new ControlRequest.ApprovalList(true))).approvals())
                .isEmpty();
        assertThat(home.resolve("agents/helper")).doesNotExist();
        assertThat(audited(AuditActions.AGENT_CREATE))
                .singleElement()
                .satisfies(e -> assertThat(e.rule()).isEqualTo("capabilities.create_agents"));
    }

    /**
     * Sends a message to main, waits for its agent.create approval, checks it, answers it with
     * {@code answer} (whose id is filled in) and returns the turn's reply.
     */
    private String askAndAnswer(ControlRequest answer, java.util.function.Consumer<ApprovalView> check)
            throws Exception {
        AtomicReference<String> reply = new AtomicReference<>();
        AtomicReference<Exception> failed = new AtomicReference<>();
        Thread asking = Thread.ofVirtual().start(() -> {
            try {
                reply.set(ask("make a helper"));
            } catch (Exception e) {
                failed.set(e);
            }
        });
        AtomicReference<ApprovalView> pending = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(120)).until(() -> {
            List<ApprovalView> open =
                    ((ControlEvent.ApprovalListing) request(new ControlRequest.ApprovalList(false))).approvals();
            pending.set(open.isEmpty() ? null : open.getFirst());
            return pending.get() != null;
        });
        check.accept(pending.get());
        long id = pending.get().id();
        ControlRequest withId = switch (answer) {
            case ControlRequest.ApprovalApprove a ->
                new ControlRequest.ApprovalApprove(id, a.scope(), a.maxUses(), a.validForSeconds(), a.reason());
            case ControlRequest.ApprovalDeny d -> new ControlRequest.ApprovalDeny(id, d.reason());
            default -> throw new IllegalArgumentException(answer.toString());
        };
        request(withId);
        asking.join(Duration.ofSeconds(120));
        if (failed.get() != null) {
            throw failed.get();
        }
        return reply.get();
    }

    private String lastToolResult() {
        String body = model.requests().getLast().body().toString();
        int at = body.lastIndexOf("tool_result");
        return at < 0 ? body : body.substring(at);
    }
}
