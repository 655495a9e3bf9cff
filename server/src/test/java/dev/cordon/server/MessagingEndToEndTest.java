package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code send_message} in the real daemon: real store, real sandboxes and runners, the fake model.
 * Each agent's instructions name it, so the model requests show whose turn asked.
 */
class MessagingEndToEndTest extends DaemonTestBase {

    @BeforeEach
    void twoAgents() throws Exception {
        Files.writeString(home.resolve("agents/main/AGENTS.md"), "You are main.\n");
        Files.createDirectories(home.resolve("agents/sales"));
        Files.writeString(home.resolve("agents/sales/AGENTS.md"), "You are sales.\n");
    }

    @Test
    void anAgentCannotMessageAnotherAgentItsPolicyDoesNotNameAndTheRefusalIsAudited() throws Exception {
        startDaemon();
        model.enqueue(
                Scripted.toolCall("send_message", "{\"to\":\"sales\",\"text\":\"Give me your price list.\"}"),
                Scripted.text("Could not."));

        assertThat(ask("Ask sales for the prices.")).isEqualTo("Could not.");

        assertThat(model.requests().get(1).body().toString())
                .contains("your policy names no destination 'sales'; it names none");
        assertThat(turnsOf("You are sales.")).as("sales never ran a turn").isEmpty();
        assertThat(audited(AuditActions.MESSAGE_DENY)).singleElement().satisfies(e -> {
            assertThat(e.rule()).isEqualTo("destinations");
            assertThat(e.decision()).isEqualTo(AuditEvent.Decision.DENY);
        });
        assertThat(audited(AuditActions.MESSAGE_SEND)).isEmpty();
        assertThat(audited(AuditActions.AGENT_MESSAGE)).isEmpty();
    }

    @Test
    void withAGrantTheOtherAgentHearsWhoWroteInItsOwnSessionAndItsReplyComesBackToTheSender() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), "destinations:\n  sales: {agent: sales}\n");
        startDaemon();
        // After the tool call every answer is the fake model's echo, whichever agent asks first.
        model.enqueue(
                Scripted.toolCall("send_message", "{\"to\":\"sales\",\"text\":\"What does the blue plan cost?\"}"));

        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.Attach("main", true));
            client.await(ControlEvent.Attached.class);
            client.send(new ControlRequest.Say("main", "m1", "Ask sales about the blue plan."));
            ControlEvent.Reply back = client.await(
                    ControlEvent.Reply.class,
                    r -> r.text().contains("[Reply from agent sales, through Cordon]"),
                    Duration.ofSeconds(120));
            client.send(new ControlRequest.ReplyAck(back.outboundId()));
            assertThat(back.text()).contains("What does the blue plan cost?");
        }

        RecordedRequest salesTurn = turnsOf("You are sales.").getFirst();
        assertThat(salesTurn.body().toString())
                .contains("[Message from agent main, through Cordon; your reply goes back to it]")
                .contains("What does the blue plan cost?")
                .doesNotContain("Ask sales about the blue plan.");
        assertThat(model.requests().stream()
                        .filter(r -> r.body().toString().contains("You are main."))
                        .map(r -> r.body().toString()))
                .anySatisfy(b -> assertThat(b).contains("Sent to sales; its reply will come to you here"));

        AuditEvent sent = audited(AuditActions.MESSAGE_SEND).getFirst();
        assertThat(sent.agent().value()).isEqualTo("main");
        assertThat(sent.rule()).isEqualTo("destinations.sales");
        List<AuditEvent> handed = audited(AuditActions.AGENT_MESSAGE);
        assertThat(handed)
                .extracting(e -> e.details().get("from") + ">" + e.details().get("to") + " h"
                        + e.details().get("hops"))
                .containsExactly("main>sales h1", "sales>main h2");
        assertThat(handed.get(0).session())
                .as("sales talks with main in a session of its own")
                .isNotEqualTo(sent.session());
        assertThat(handed.get(1).session())
                .as("the reply comes into the session that sent")
                .isEqualTo(sent.session());
    }

    @Test
    void aMessageToANamedChatIsDeliveredThroughItsChannelAndTheSameMessageTwiceInATurnIsSentOnce() throws Exception {
        Files.writeString(
                home.resolve("agents/main/policy.yaml"),
                "destinations:\n  desk: {channel: terminal, chat: sales}\n  gone: {channel: slack, chat: C1}\n");
        startDaemon();
        String send = "{\"to\":\"desk\",\"text\":\"The build is green.\"}";
        model.enqueue(
                Scripted.toolCall("send_message", send),
                Scripted.toolCall("send_message", send),
                Scripted.toolCall("send_message", "{\"to\":\"gone\",\"text\":\"x\"}"),
                Scripted.text("Told them."));
        try (ControlClient desk = new ControlClient(daemon.controlSocket())) {
            desk.send(new ControlRequest.Attach("sales", true));
            desk.await(ControlEvent.Attached.class);

            assertThat(ask("Tell the sales desk the build is green.")).isEqualTo("Told them.");

            ControlEvent.Reply told = desk.await(ControlEvent.Reply.class, r -> true, Duration.ofSeconds(60));
            assertThat(told.text()).isEqualTo("The build is green.");
            desk.send(new ControlRequest.ReplyAck(told.outboundId()));
        }
        assertThat(model.requests().get(3).body().toString())
                .contains("destination 'gone' is on channel 'slack', which this host does not run");
        assertThat(audited(AuditActions.MESSAGE_SEND))
                .hasSize(2)
                .extracting(e -> e.details().get("outbound"))
                .as("the second identical message is the first one again")
                .containsOnly(
                        audited(AuditActions.MESSAGE_SEND).getFirst().details().get("outbound"));
        // Delivery audits a message after the channel took it, so the entries may trail the replies.
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(audited(AuditActions.DELIVERY))
                        .filteredOn(e -> "terminal".equals(e.details().get("channel")))
                        .filteredOn(e -> e.agent() != null && e.agent().value().equals("main"))
                        .hasSize(2));
        assertThat(turnsOf("You are sales."))
                .as("a chat destination is no message to its agent")
                .isEmpty();
    }

    private List<RecordedRequest> turnsOf(String marker) {
        return model.requests().stream()
                .filter(r -> r.body().toString().contains(marker))
                .toList();
    }
}
