package dev.cordon.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.ChannelToken;
import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.testkit.Ports;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The runner in a pod: the host connects to it over TCP with the pod's token (docs/deploy-kubernetes.md). */
class HostConnectionListenTest {
    @Test
    void aRunnerInAPodTalksOnlyToTheHostThatPresentsItsToken() throws Exception {
        String token = ChannelToken.generate(new SecureRandom());
        int port = Ports.free();
        CompletableFuture<HostConnection> runner = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                runner.complete(HostConnection.listen(port, token));
            } catch (IOException e) {
                runner.completeExceptionally(e);
            }
        });
        Socket intruder = connect(port);
        intruder.getOutputStream()
                .write(("cordon-token " + ChannelToken.generate(new SecureRandom()) + "\n")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(intruder.getInputStream().read()).isEqualTo(-1);
        intruder.close();

        try (Socket host = connect(port)) {
            ChannelToken.present(host.getOutputStream(), token);
            FrameChannel<RunnerMessage, HostMessage> hostSide =
                    new FrameChannel<>(host.getInputStream(), host.getOutputStream(), RunnerMessage.class, host);
            try (HostConnection connection = runner.get(20, TimeUnit.SECONDS)) {
                connection.send(new RunnerMessage.Ready("test"));
                assertThat(hostSide.receive()).isEqualTo(new RunnerMessage.Ready("test"));
                hostSide.send(new HostMessage.Shutdown("done"));
                assertThat(connection.receive()).isEqualTo(new HostMessage.Shutdown("done"));
            }
        }
    }

    /** Connects once the runner listens (its thread may not have bound the port yet). */
    private static Socket connect(int port) throws Exception {
        for (int i = 0; ; i++) {
            try {
                return new Socket(InetAddress.getLoopbackAddress(), port);
            } catch (java.net.ConnectException e) {
                if (i > 200) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }
}
