package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditActions;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.Scripted;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code ask_user} in the real daemon: the turn waits in its real sandbox for the person's answer. */
class AskUserEndToEndTest extends DaemonTestBase {

    @Test
    void aQuestionShowsItsOptionsNumberedAndTheSameTurnGoesOnWithThePersonsChoice() throws Exception {
        startDaemon();
        model.enqueue(
                Scripted.toolCall("ask_user", "{\"question\":\"Which plan?\",\"options\":\"Blue\\nRed\"}"),
                Scripted.text("Red it is."));
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.Attach("main", true));
            client.await(ControlEvent.Attached.class);
            client.send(new ControlRequest.Say("main", "m1", "Pick a plan for me."));
            ControlEvent.Reply question = client.await(
                    ControlEvent.Reply.class, r -> r.text().startsWith("Which plan?"), Duration.ofSeconds(120));
            assertThat(question.text()).isEqualTo("Which plan?\n\n1. Blue\n2. Red\n(Answer with a number.)");
            client.send(new ControlRequest.ReplyAck(question.outboundId()));

            client.send(new ControlRequest.Say("main", "m2", "2"));
            ControlEvent.Reply done =
                    client.await(ControlEvent.Reply.class, r -> !r.text().startsWith("Which"), Duration.ofSeconds(60));
            assertThat(done.text()).isEqualTo("Red it is.");
            client.send(new ControlRequest.ReplyAck(done.outboundId()));
        }
        assertThat(model.requests().get(1).body().toString()).contains("The user chose option 2: Red");

        model.enqueue(Scripted.text("You're welcome."));
        assertThat(ask("Thanks.")).isEqualTo("You're welcome.");
        assertThat(audited(AuditActions.TURN_END))
                .as("the answer was part of the asking turn, not a turn of its own")
                .hasSize(2);
        assertThat(audited(AuditActions.USER_QUESTION)).hasSize(1);
        assertThat(audited(AuditActions.USER_ANSWER))
                .singleElement()
                .satisfies(e -> assertThat(e.details()).containsEntry("option", 2L));
    }

    @Test
    void withoutAnAnswerInTimeTheTurnGoesOnAndSaysSoAndTheToolDeadlineWaitsMeanwhile() throws Exception {
        // The wait (2 s) outlasts the tool deadline (1 s): a sandbox waiting on a person is not killed.
        java.nio.file.Files.writeString(
                home.resolve("agents/main/policy.yaml"), "sandbox: {tool_timeout_seconds: 1}\n");
        startDaemon();
        model.enqueue(
                Scripted.toolCall("ask_user", "{\"question\":\"Still there?\",\"timeout_seconds\":\"2\"}"),
                Scripted.text("Went on without you."));
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.Attach("main", true));
            client.await(ControlEvent.Attached.class);
            client.send(new ControlRequest.Say("main", "m1", "Do the thing."));
            ControlEvent.Reply done = client.await(
                    ControlEvent.Reply.class, r -> r.text().startsWith("Went on"), Duration.ofSeconds(120));
            client.send(new ControlRequest.ReplyAck(done.outboundId()));
        }
        assertThat(model.requests().get(1).body().toString())
                .contains("No answer within 2 s. Go on without it, and say what you assumed.");
        assertThat(audited(AuditActions.SANDBOX_KILL)).isEmpty();
        assertThat(audited(AuditActions.USER_ANSWER))
                .singleElement()
                .satisfies(e -> assertThat(e.rule()).isEqualTo("ask_user.timeout"));
    }
}
