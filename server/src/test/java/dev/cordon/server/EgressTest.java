package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.control.ApprovalView;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
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
        daemon = EndToEndTest.startOn(home, model);
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
    void anAllowedHostIsReachedThroughTheRelayThePlaceholderIsAllTheSandboxHoldsAndAnEditAppliesNext()
            throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        HttpServer origin = origin(seen);
        try {
            int port = origin.getAddress().getPort();
            String secret = "tok-" + UUID.randomUUID();
            Vault.open(new Home(home).vault(), new Home(home).vaultKey())
                    .put(
                            "GITHUB_TOKEN",
                            secret.getBytes(StandardCharsets.UTF_8),
                            List.of(new Vault.Binding("api.github.com", null, "Authorization", null)));
            Path policy = home.resolve("agents/main/policy.yaml");
            Files.writeString(
                    policy,
                    "egress:\n  allow:\n    - {host: 127.0.0.1, port: " + port + "}\n  secrets: [GITHUB_TOKEN]\n");
            startDaemon();
            // The sandbox's NO_PROXY lists 127.0.0.1 (its own loopback); the host's goes through the proxy.
            String fetch = "curl -s -m 20 --noproxy '' -x http://127.0.0.1:3128 -w '\\nstatus=%{http_code}\\n'"
                    + " http://127.0.0.1:" + port + "/hello";

            String out = runBash("echo \"token=$GITHUB_TOKEN\"; " + fetch);

            assertThat(out).contains("token=cordon-secret-GITHUB_TOKEN", "hello from the host", "status=200");
            assertThat(seen).containsExactly("GET /hello");
            assertThat(daemon.audit().read(0, 10_000))
                    .filteredOn(e -> e.event().action().equals("egress.allow"))
                    .singleElement()
                    .satisfies(e -> assertThat(e.event().rule()).isEqualTo("egress.allow[0]"));
            String scan = runBash(EndToEndTest.scan(secret, "no-such-canary-" + UUID.randomUUID()));
            assertThat(scan).contains("env-and-proc-hits: 0", "SCAN-DONE");
            assertThat(scan.substring(scan.indexOf("env-and-proc-hits"))).doesNotContain("/");

            // From inside: the placeholder sent to a host it is not bound to, and a credential in a
            // body, are refused before anything leaves.
            String leaks = runBash(fetch.replace("curl -s", "curl -s -H \"Authorization: Bearer $GITHUB_TOKEN\"") + "; "
                    + fetch.replace("curl -s", "curl -s -d key=AKIAIOSFODNN7EXAMPLE"));
            assertThat(leaks)
                    .contains("\"rule\":\"secrets\"", "may only be sent in", "\"rule\":\"dlp\"", "an AWS access key id")
                    .doesNotContain("hello from the host");
            assertThat(seen).hasSize(1);

            Files.writeString(policy, "egress:\n  deny:\n    - {host: 127.0.0.1, port: '*'}\n");
            assertThat(runBash(fetch)).contains("status=403", "egress.deny[0]");
            assertThat(seen).hasSize(1);
        } finally {
            origin.stop(0);
        }
    }

    @Test
    void aHostNoRuleCoversBecomesAnApprovalRequestAndTheOperatorsGrantLetsTheRetryThrough() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        HttpServer origin = origin(seen);
        try {
            int port = origin.getAddress().getPort();
            startDaemon();
            String fetch = "curl -s -m 20 --noproxy '' -x http://127.0.0.1:3128 -w '\\nstatus=%{http_code}\\n'"
                    + " http://127.0.0.1:" + port + "/data";

            String refused = runBash(fetch);

            assertThat(refused).contains("status=403", "asks an operator to allow 127.0.0.1:" + port);
            ApprovalView pending;
            try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                client.send(new ControlRequest.ApprovalList(false));
                pending = client.await(ControlEvent.ApprovalListing.class)
                        .approvals()
                        .getFirst();
                assertThat(pending.kind()).isEqualTo("egress.connect");
                assertThat(pending.payload()).containsEntry("host", "127.0.0.1").containsEntry("port", "" + port);
                client.send(new ControlRequest.ApprovalApprove(pending.id(), "always", 0, 0, "needed for the task"));
                client.await(ControlEvent.ApprovalDecided.class);
            }
            String allowed = runBash(fetch + "; " + fetch);

            assertThat(allowed).contains("hello from the host").doesNotContain("status=403");
            assertThat(seen).containsExactly("GET /data", "GET /data");
            assertThat(daemon.audit().read(0, 10_000))
                    .filteredOn(e -> e.event().action().equals("egress.allow"))
                    .hasSize(2)
                    .allSatisfy(e -> assertThat(e.event().rule()).isEqualTo("approval #" + pending.id()));
            java.io.ByteArrayOutputStream explained = new java.io.ByteArrayOutputStream();
            PolicyCommand.run(
                    home,
                    Map.of(),
                    List.of("explain", "main"),
                    new java.io.PrintStream(explained, true, StandardCharsets.UTF_8),
                    System.err);
            String explanation = explained.toString(StandardCharsets.UTF_8);
            assertThat(explanation.substring(explanation.indexOf("\negress ("), explanation.indexOf("\ndlp (")))
                    .as("an always-grant acts as a rule, so explain lists it with the egress rules")
                    .contains("deny all but approvals below")
                    .contains("approval #" + pending.id(), "127.0.0.1:" + port, "approved always by terminal:owner");
        } finally {
            origin.stop(0);
        }
    }

    @Test
    void aSandboxTryingHostAfterHostCannotBuryTheApproverInQuestions() throws Exception {
        startDaemon();

        String out = runBash("for i in 1 2 3 4 5 6 7 8; do curl -s -m 20 -o /dev/null -w '%{http_code} '"
                + " http://host$i.example/; done; echo");

        assertThat(out).contains("403 403 403 403 403 403 403 403");
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.ApprovalList(false));
            assertThat(client.await(ControlEvent.ApprovalListing.class).approvals())
                    .hasSize(Daemon.MAX_OPEN_EGRESS_QUESTIONS)
                    .allSatisfy(a -> assertThat(a.kind()).isEqualTo("egress.connect"));
        }
        assertThat(daemon.audit().read(0, 10_000))
                .filteredOn(e -> e.event().action().equals("egress.deny"))
                .hasSize(8);
    }

    @Test
    void webFetchReadsAnAllowedPageAsTextAndAnotherHostGetsTheProxysRefusal() throws Exception {
        HttpServer origin = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        origin.createContext("/notes", exchange -> {
            byte[] page =
                    "<html><head><title>Notes</title><script>x()</script></head><body><h2>Today</h2><p>Ship it.</p></body></html>"
                            .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/html");
            exchange.sendResponseHeaders(200, page.length);
            exchange.getResponseBody().write(page);
            exchange.close();
        });
        origin.start();
        try {
            int port = origin.getAddress().getPort();
            Files.writeString(
                    home.resolve("agents/main/policy.yaml"),
                    "egress:\n  allow:\n    - {host: 127.0.0.1, port: " + port + "}\n");
            startDaemon();
            model.enqueue(
                    Scripted.toolCall("web_fetch", "{\"url\":\"http://127.0.0.1:" + port + "/notes\"}"),
                    Scripted.toolCall("web_fetch", "{\"url\":\"http://example.com/\"}"),
                    Scripted.text("Read."));
            try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                assertThat(client.ask("main", "read the notes").text()).isEqualTo("Read.");
            }

            List<RecordedRequest> requests = model.requests();
            assertThat(EndToEndTest.toolResults(requests.get(1)).getLast())
                    .isEqualTo("GET http://127.0.0.1:" + port + "/notes → 200 (text/html)\n\n"
                            + "Title: Notes\n\n## Today\n\nShip it.");
            assertThat(EndToEndTest.toolResults(requests.get(2)).getLast())
                    .startsWith("The egress proxy answered for http://example.com/ → 403")
                    .contains("\"error\":\"egress_denied\"", "no egress.allow rule matches GET example.com:80/");
        } finally {
            origin.stop(0);
        }
    }

    static HttpServer origin(List<String> seen) throws IOException {
        HttpServer origin = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        origin.createContext("/", exchange -> {
            seen.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
            // Read whole before answering: a server that answers an upload unread and closes resets
            // the connection, which can take its own answer with it.
            exchange.getRequestBody().transferTo(OutputStream.nullOutputStream());
            byte[] answer = "hello from the host".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        origin.start();
        return origin;
    }

    @Test
    void aRefusedUploadIsAnsweredBeforeOrAfterItsBodyAndOneThatWaitsForContinueGetsIt() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        HttpServer origin = origin(seen);
        try {
            int port = origin.getAddress().getPort();
            Files.writeString(
                    home.resolve("agents/main/policy.yaml"),
                    "egress:\n  allow:\n    - {host: 127.0.0.1, port: " + port + "}\n");
            startDaemon();
            String allowed = "http://127.0.0.1:" + port + "/up";
            String denied = "http://example.com/up";
            // Clients that send the body without waiting ("Expect:" off, as most HTTP libraries do)
            // must still hear the refusal: over the proxy's 16 MiB to an allowed host, 8 MiB to a
            // denied one. Python's urllib writes the whole body before it reads anything.
            String curl = "curl -s -m 20 -H 'Expect:' --noproxy '' -x http://127.0.0.1:3128 -o /dev/null"
                    + " -w '%{http_code} ' --data-binary @";
            String python = "no_proxy= NO_PROXY= http_proxy=http://127.0.0.1:3128 python3 -c '"
                    + "import sys,urllib.request as r,urllib.error as e\n"
                    + "try:\n r.urlopen(r.Request(sys.argv[1],data=bytes(int(sys.argv[2]))),timeout=20)\n"
                    + "except e.HTTPError as x:\n print(\"py\",x.code,end=\" \")\n"
                    + "except Exception as x:\n print(\"pyfail\",repr(x),end=\" \")' ";
            // Clients that wait for "100 Continue": told to send when allowed (else this curl waits
            // 30 s and fails), refused before sending when not.
            String waiting = "curl -s -m 20 -H 'Expect: 100-continue' --expect100-timeout 30 --noproxy ''"
                    + " -x http://127.0.0.1:3128 -o /dev/null -w '%{http_code} ' --data-binary @";
            String out = runBash("head -c 20000000 /dev/zero > big.bin; head -c 8000000 /dev/zero > mid.bin;"
                    + " head -c 2000000 /dev/zero > small.bin;"
                    + " for i in 1 2 3; do " + curl + "big.bin " + allowed + "; " + curl + "mid.bin " + denied
                    + "; done; echo;"
                    + python + allowed + " 20000000; " + python + denied + " 8000000; echo;"
                    + waiting + "small.bin " + allowed + "; " + waiting + "mid.bin " + denied + "; "
                    + waiting + "big.bin " + allowed + "; echo; rm -f big.bin mid.bin small.bin");

            List<String> lines = out.lines().toList();
            assertThat(lines).contains("413 403 413 403 413 403 ", "py 413 py 403 ", "200 403 413 ");
            assertThat(seen).containsExactly("POST /up");

            // A program that sends a denied request's head and never its body, and outlives the
            // turn (whose end closes its stream): the denial is on record all the same.
            runBash("(exec 3<>/dev/tcp/127.0.0.1/3128; printf 'POST http://example.com/stalled HTTP/1.1\\r\\n"
                    + "Host: example.com\\r\\nContent-Length: 100000\\r\\n\\r\\nonly a part' >&3; sleep 60)"
                    + " >/dev/null 2>&1 & sleep 1; echo started");
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> daemon.audit().read(0, 10_000).stream()
                            .anyMatch(e -> e.event().action().equals("egress.deny")
                                    && "/stalled".equals(e.event().details().get("path"))));
        } finally {
            origin.stop(0);
        }
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
