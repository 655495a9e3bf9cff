package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Messages that queue up for a session become turns oldest first, as many per turn as the agent's
 * policy says ({@code turns.max_batch}), and an idle session can wait a moment to gather a burst
 * ({@code turns.gather_ms}). Real daemon, real sandbox, fake model.
 */
class BatchingTest {
    @TempDir
    Path home;

    FakeModelServer model;
    Daemon daemon;
    ControlClient client;

    @BeforeEach
    void start() throws Exception {
        model = FakeModelServer.start();
        daemon = EndToEndTest.startOn(home, model);
        client = new ControlClient(daemon.controlSocket());
        client.send(new ControlRequest.Attach("main", false));
        client.await(ControlEvent.Attached.class);
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        daemon.close();
        model.close();
    }

    @Test
    void messagesSentDuringATurnAreTakenTogetherByTheNextTurnInOrder() throws Exception {
        model.enqueue(Scripted.text("First answer.").stallBefore(Duration.ofSeconds(2)), Scripted.text("Both read."));

        long m1 = say("one");
        awaitModelRequests(1);
        say("two");
        long m3 = say("three");

        assertThat(reply(m1).text()).isEqualTo("First answer.");
        assertThat(reply(m3).text()).isEqualTo("Both read.");
        assertThat(model.requests()).hasSize(2);
        assertThat(userTexts(model.requests().get(1))).containsExactly("one", "two", "three");
    }

    @Test
    void withMaxBatchOneEveryQueuedMessageGetsItsOwnTurn() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), "turns:\n  max_batch: 1\n");
        model.enqueue(
                Scripted.text("To one.").stallBefore(Duration.ofSeconds(2)),
                Scripted.text("To two."),
                Scripted.text("To three."));

        long m1 = say("one");
        awaitModelRequests(1);
        long m2 = say("two");
        long m3 = say("three");

        assertThat(reply(m1).text()).isEqualTo("To one.");
        assertThat(reply(m2).text()).isEqualTo("To two.");
        assertThat(reply(m3).text()).isEqualTo("To three.");
        assertThat(model.requests()).hasSize(3);
        assertThat(userTexts(model.requests().get(1))).containsExactly("one", "two");
        assertThat(userTexts(model.requests().get(2))).containsExactly("one", "two", "three");
    }

    @Test
    void anIdleSessionGathersABurstIntoOneTurnWhenThePolicyAsks() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), "turns:\n  gather_ms: 1500\n");
        model.enqueue(Scripted.text("All three read."));

        say("a thought");
        say("sent in");
        long last = say("three parts");

        assertThat(reply(last).text()).isEqualTo("All three read.");
        assertThat(model.requests()).hasSize(1);
        assertThat(userTexts(model.requests().getFirst())).containsExactly("a thought", "sent in", "three parts");
    }

    /** Sends {@code text} to main and returns its inbound id once it is stored. */
    private long say(String text) throws Exception {
        String id = UUID.randomUUID().toString();
        client.send(new ControlRequest.Say("main", id, text));
        return client.await(
                        ControlEvent.Accepted.class, a -> a.clientMessageId().equals(id), Duration.ofSeconds(30))
                .inboundId();
    }

    private ControlEvent.Reply reply(long inbound) throws Exception {
        ControlEvent.Reply reply =
                client.await(ControlEvent.Reply.class, r -> r.inReplyTo() == inbound, Duration.ofSeconds(60));
        client.send(new ControlRequest.ReplyAck(reply.outboundId()));
        assertThat(reply.failed()).as(reply.text()).isFalse();
        return reply;
    }

    private void awaitModelRequests(int n) throws InterruptedException {
        for (int i = 0; i < 1500 && model.requests().size() < n; i++) {
            Thread.sleep(20);
        }
        assertThat(model.requests()).hasSizeGreaterThanOrEqualTo(n);
    }

    /** The user's words in a model request, in order, whether sent as strings or text blocks. */
    private static List<String> userTexts(RecordedRequest request) {
        List<String> texts = new ArrayList<>();
        for (JsonNode message : request.body().path("messages")) {
            if (!message.path("role").asString().equals("user")) {
                continue;
            }
            JsonNode content = message.path("content");
            if (content.isString()) {
                texts.add(content.asString());
            }
            for (JsonNode block : content) {
                if (block.path("type").asString().equals("text")) {
                    texts.add(block.path("text").asString());
                }
            }
        }
        return texts;
    }
}
