package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control socket itself; what the daemon answers on it is tested with a real daemon elsewhere. */
class ControlServerTest {
    @TempDir
    Path dir;

    @Test
    void aRequestTheHandlerFailsOnGetsAFailureAndTheNextConnectionIsServed() throws Exception {
        ControlServer.Handler handler = new ControlServer.Handler() {
            @Override
            public void handle(ControlConnection connection, ControlRequest request) {
                if (request instanceof ControlRequest.Status) {
                    throw new IllegalStateException("not ready yet");
                }
                connection.send(new ControlEvent.Done("served"));
            }

            @Override
            public void closed(ControlConnection connection) {}
        };
        try (ControlServer server = new ControlServer(dir.resolve("control.sock"), handler)) {
            server.start();
            try (ControlClient client = new ControlClient(dir.resolve("control.sock"))) {
                client.send(new ControlRequest.Status());

                assertThat(client.await(ControlEvent.Failure.class).message())
                        .startsWith("the daemon failed on this request (a bug; its log has the stack trace)")
                        .contains("IllegalStateException: not ready yet");
            }
            try (ControlClient client = new ControlClient(dir.resolve("control.sock"))) {
                client.send(new ControlRequest.SessionsList(0));

                assertThat(client.await(ControlEvent.Done.class).message()).isEqualTo("served");
            }
        }
    }
}
