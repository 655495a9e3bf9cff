package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.LiveEvent;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The terminal channel over a real control connection (frames on a socket). */
class TerminalChannelTest {

    @Test
    void aMessagesAcceptedReachesTheClientBeforeItsSessionsAnswerEvenWhenTheAnswerIsReadyFirst() throws Exception {
        TerminalChannel terminal = new TerminalChannel();
        CountDownLatch answerSent = new CountDownLatch(2);
        terminal.connect(message -> {
            // The session answers while the message's audit entry is still being synced.
            Thread.ofVirtual().start(() -> {
                terminal.live("main", new LiveEvent.Text("Hel"));
                answerSent.countDown();
            });
            Thread.ofVirtual().start(() -> {
                answerSent.countDown();
                terminal.deliver(new OutgoingMessage(
                        21, "main", 7, message.platformMessageId(), "Hello", false, "turn:1", List.of()));
            });
            try {
                answerSent.await(5, TimeUnit.SECONDS);
                Thread.sleep(200); // long enough for an unordered send to get ahead
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new InboundSink.InboundResult.Accepted(7, false);
        });
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Socket clientSocket = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
                Socket serverSocket = listener.accept()) {
            ControlConnection connection = new ControlConnection(new FrameChannel<>(
                    serverSocket.getInputStream(), serverSocket.getOutputStream(), ControlRequest.class, serverSocket));
            FrameChannel<ControlEvent, ControlRequest> client = new FrameChannel<>(
                    clientSocket.getInputStream(), clientSocket.getOutputStream(), ControlEvent.class, clientSocket);
            terminal.attach(connection, "main");
            connection.wantAllReplies(true);

            Thread.ofVirtual().start(() -> terminal.say(connection, new ControlRequest.Say("main", "m1", "Hi")));

            List<ControlEvent> received = new ArrayList<>();
            while (received.size() < 3) {
                received.add(client.receive());
            }
            assertThat(received.get(0)).isEqualTo(new ControlEvent.Accepted("m1", 7));
            assertThat(received.subList(1, 3))
                    .containsExactlyInAnyOrder(
                            new ControlEvent.Delta("main", "Hel"),
                            new ControlEvent.Reply(21, "main", 7, "Hello", false));
        }
    }
}
