package dev.cordon.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChannelTokenTest {
    private final String token = ChannelToken.generate(new SecureRandom());

    @Test
    void theRunnerRefusesEveryConnectionWithoutItsTokenAndKeepsTheFirstThatHasIt() throws Exception {
        ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        int port = listener.getLocalPort();
        List<String> refused = new CopyOnWriteArrayList<>();
        CompletableFuture<Socket> accepted = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                accepted.complete(ChannelToken.acceptOne(listener, token, Duration.ofSeconds(1), refused::add));
            } catch (IOException e) {
                accepted.completeExceptionally(e);
            }
        });

        // Straight to a frame, no token: closed without an answer.
        assertThat(sendAndRead(port, "{\"type\":\"Hello\"}\n")).isEqualTo(-1);
        // Another sandbox's token, or this one's cut short or padded: closed.
        assertThat(sendAndRead(port, "cordon-token " + ChannelToken.generate(new SecureRandom()) + "\n"))
                .isEqualTo(-1);
        assertThat(sendAndRead(port, "cordon-token " + token.substring(1) + "\n"))
                .isEqualTo(-1);
        assertThat(sendAndRead(port, "cordon-token " + token + "0\n")).isEqualTo(-1);
        // Silence: closed after the patience runs out.
        try (Socket silent = new Socket(InetAddress.getLoopbackAddress(), port)) {
            assertThat(silent.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(accepted).isNotDone();

        try (Socket host = new Socket(InetAddress.getLoopbackAddress(), port)) {
            ChannelToken.present(host.getOutputStream(), token);
            host.getOutputStream().write("frame".getBytes(StandardCharsets.US_ASCII));
            host.getOutputStream().flush();
            try (Socket runnerSide = accepted.get(10, TimeUnit.SECONDS)) {
                assertThat(new String(runnerSide.getInputStream().readNBytes(5), StandardCharsets.US_ASCII))
                        .isEqualTo("frame");
            }
        }
        assertThat(refused)
                .hasSize(5)
                .allSatisfy(r -> assertThat(r).startsWith("refused a connection from /127.0.0.1"));
        assertThat(String.join("\n", refused)).doesNotContain(token);
        // One channel per sandbox: nobody connects after the host.
        assertThat(listener.isClosed()).isTrue();
    }

    private static int sendAndRead(int port, String line) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            OutputStream out = s.getOutputStream();
            out.write(line.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            return in.read();
        } catch (java.net.SocketException e) {
            // The runner closed with our bytes unread: the kernel answers with a reset. Refused all the same.
            return -1;
        }
    }
}
