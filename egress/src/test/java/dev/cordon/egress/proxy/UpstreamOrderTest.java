package dev.cordon.egress.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditException;
import dev.cordon.core.dlp.SecretScanner;
import dev.cordon.core.session.EgressGateway;
import dev.cordon.egress.vault.Vault;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the proxy does upstream, and when, against an origin made of a raw server socket (so the
 * test sees each byte and decides when the origin answers): the allow's audit entry and the
 * connect overlap, but no byte of the request leaves before the entry is durable; the answer's
 * head leaves with the body that came with it, and without a body that is late.
 */
class UpstreamOrderTest {
    final RecordingAuditLog audit = new RecordingAuditLog();

    @TempDir
    Path dir;

    ServerSocket origin;
    ServerSocket proxySocket;
    EgressProxy proxy;
    EgressProxy.Caller caller;

    @BeforeEach
    void start() throws IOException {
        origin = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        origin.setSoTimeout(20_000);
        Vault vault = Vault.open(dir.resolve("vault.json"), dir.resolve("keys/vault.key"));
        proxy = new HostEgressProxy(
                audit,
                host -> List.of(InetAddress.getLoopbackAddress()),
                new AddressGuard(Set.of()),
                vault,
                new SecretScanner(vault::revealAll),
                TestTls.clientFactory(),
                EgressApprovals.NONE,
                Clock.systemUTC());
        caller = new EgressProxy.Caller(
                new AgentName("main"),
                new SessionId(1L),
                new EgressRules(
                        List.of(new EgressRule(
                                "egress.allow[0]", "127.0.0.1", origin.getLocalPort(), Set.of(), List.of())),
                        List.of()));
        proxySocket = ProxyListener.serve(proxy, () -> caller);
    }

    @AfterEach
    void stop() throws IOException {
        proxySocket.close();
        origin.close();
    }

    @Test
    void theOriginIsConnectedWhileTheAllowIsWrittenButGetsNoByteBeforeItIsDurable() throws Exception {
        RecordingAuditLog.Hold hold = audit.hold();
        try (Socket client = client()) {
            send(client, "GET http://127.0.0.1:" + origin.getLocalPort() + "/x HTTP/1.1\r\nHost: a\r\n\r\n");
            try (Socket upstream = origin.accept()) {
                assertThat(hold.awaited.await(20, TimeUnit.SECONDS)).isTrue();

                assertThat(upstream.getInputStream().available())
                        .as("bytes upstream before the allow is on record")
                        .isZero();
                assertThat(audit.events()).isEmpty();

                hold.release();
                assertThat(head(upstream.getInputStream())).startsWith("GET /x HTTP/1.1\r\n");
                upstream.getOutputStream()
                        .write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
            }
            assertThat(new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                    .startsWith("HTTP/1.1 200 OK\r\n")
                    .endsWith("\r\n\r\nok");
        }
        assertThat(audit.events())
                .singleElement()
                .satisfies(e -> assertThat(e.action()).isEqualTo(AuditActions.EGRESS_ALLOW));
    }

    @Test
    void anAllowThatCannotBeRecordedClosesBothSidesHavingSentNothing() throws Exception {
        RecordingAuditLog.Hold hold = audit.hold();
        try (Socket client = client()) {
            send(client, "GET http://127.0.0.1:" + origin.getLocalPort() + "/x HTTP/1.1\r\nHost: a\r\n\r\n");
            try (Socket upstream = origin.accept()) {
                assertThat(hold.awaited.await(20, TimeUnit.SECONDS)).isTrue();

                hold.fail(new AuditException("audit entry not written: disk full"));

                assertThat(upstream.getInputStream().read())
                        .as("the origin's first byte")
                        .isEqualTo(-1);
            }
            assertThat(client.getInputStream().readAllBytes())
                    .as("the client's answer")
                    .isEmpty();
        }
        assertThat(audit.events()).isEmpty();
    }

    @Test
    void theAnswersHeadLeavesInOneWriteWithTheBodyThatCameWithIt() throws Exception {
        Recorded written = serveInBackground();
        try (Socket upstream = origin.accept()) {
            head(upstream.getInputStream());
            upstream.getOutputStream()
                    .write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".getBytes(StandardCharsets.US_ASCII));
        }
        assertThat(written.done.await(20, TimeUnit.SECONDS)).isTrue();

        assertThat(written.writes.getFirst()).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nhello");
    }

    @Test
    void theAnswersHeadIsNotHeldBackForABodyThatIsLate() throws Exception {
        Recorded written = serveInBackground();
        try (Socket upstream = origin.accept()) {
            head(upstream.getInputStream());
            OutputStream out = upstream.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();

            // The origin sends its body only once the head has reached the client.
            assertThat(written.first.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(written.writes.getFirst()).endsWith("Connection: close\r\n\r\n");
            out.write("hello".getBytes(StandardCharsets.US_ASCII));
        }
        assertThat(written.done.await(20, TimeUnit.SECONDS)).isTrue();

        assertThat(String.join("", written.writes)).endsWith("\r\n\r\nhello");
    }

    /** What the proxy wrote to a client, one string per write call. */
    record Recorded(List<String> writes, CountDownLatch first, CountDownLatch done) {}

    /** Serves one GET on a connection whose output records each write; returns at once. */
    Recorded serveInBackground() {
        Recorded r = new Recorded(new CopyOnWriteArrayList<>(), new CountDownLatch(1), new CountDownLatch(1));
        byte[] request = ("GET http://127.0.0.1:" + origin.getLocalPort() + "/x HTTP/1.1\r\nHost: a\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        OutputStream out = new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                r.writes().add(new String(b, off, len, StandardCharsets.ISO_8859_1));
                r.first().countDown();
            }
        };
        EgressGateway.Connection connection = new EgressGateway.Connection() {
            @Override
            public InputStream in() {
                return new ByteArrayInputStream(request);
            }

            @Override
            public OutputStream out() {
                return out;
            }

            @Override
            public void shutdownOutput() {}

            @Override
            public void close() {}
        };
        Thread.ofVirtual().start(() -> {
            proxy.serve(connection, caller);
            r.done().countDown();
        });
        return r;
    }

    Socket client() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), proxySocket.getLocalPort());
        s.setSoTimeout(20_000);
        return s;
    }

    static void send(Socket s, String request) throws IOException {
        s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    /** Reads up to and including the blank line that ends a head. */
    static String head(InputStream in) throws IOException {
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        while (!read.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            read.write(b);
        }
        return read.toString(StandardCharsets.ISO_8859_1);
    }
}
