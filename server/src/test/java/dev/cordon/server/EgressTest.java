package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The network wall from inside a real sandbox: the only way out is the runner's relay on the
 * sandbox's loopback, over the one channel, to the host's egress proxy, which applies the agent's
 * rules and audits every decision.
 */
class EgressTest {
    @TempDir
    Path home;

    FakeModelServer model;
    Daemon daemon;

    @BeforeEach
    void start() throws IOException {
        model = FakeModelServer.start();
        Files.createDirectories(home.resolve("agents/main"));
    }

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
        }
        model.close();
    }

    void startDaemon() throws IOException {
        daemon = Daemon.start(
                home,
                Map.of(
                        "ANTHROPIC_API_KEY",
                        "sk-ant-test",
                        "ANTHROPIC_BASE_URL",
                        model.baseUrl().toString()),
                EndToEndTest.RUNNER_LIB);
    }

    String runBash(String command) throws Exception {
        model.enqueue(Scripted.toolCall("bash", EndToEndTest.json(command)));
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            ControlEvent.Reply reply = client.ask("main", "run it");
            assertThat(reply.failed()).as(reply.text()).isFalse();
        }
        List<RecordedRequest> requests = model.requests();
        return EndToEndTest.toolResults(requests.getLast()).getLast();
    }

    @Test
    void aHostNoRuleAllowsGetsTheStructured403ThroughTheRelayAndTheDenialIsAudited() throws Exception {
        startDaemon();

        String out = runBash("echo \"proxy=$HTTPS_PROXY\"; curl -s -m 20 -w '\\nstatus=%{http_code}\\n'"
                + " http://example.com/upload?x=1");

        assertThat(out).contains("proxy=http://127.0.0.1:3128", "status=403");
        assertThat(out)
                .contains("\"error\":\"egress_denied\"", "no egress.allow rule matches GET example.com:80/upload");
        List<AuditEntry> log = daemon.audit().read(0, 10_000);
        assertThat(log)
                .filteredOn(e -> e.event().action().equals("egress.deny"))
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.event().agent().value()).isEqualTo("main");
                    assertThat(e.event().session()).isNotNull();
                    assertThat(e.event().decision()).isEqualTo(AuditEvent.Decision.DENY);
                    assertThat(e.event().details())
                            .containsEntry("host", "example.com")
                            .containsEntry("path", "/upload");
                });
    }

    @Test
    void anHttpsTunnelToADeniedHostIsRefusedAndDirectConnectionsHaveNoRoute() throws Exception {
        startDaemon();

        String out = runBash("curl -s -m 20 https://example.com/ ; echo \"tunnel-rc=$?\";"
                + " curl -s -m 5 --noproxy '*' http://93.184.215.14/ ; echo \"direct-rc=$?\";"
                + " curl -s -m 5 --noproxy '*' http://10.0.2.2/ ; echo \"private-rc=$?\"");

        // 56: the proxy refused the CONNECT (curl reports the proxy's 403 that way).
        assertThat(out).contains("tunnel-rc=56");
        // 7: could not connect. The sandbox's network namespace has only its own loopback.
        assertThat(out).contains("direct-rc=7", "private-rc=7");
        assertThat(daemon.audit().read(0, 10_000))
                .filteredOn(e -> e.event().action().equals("egress.deny"))
                .singleElement()
                .satisfies(e -> assertThat(e.event().details()).containsEntry("method", "CONNECT"));
    }
}
