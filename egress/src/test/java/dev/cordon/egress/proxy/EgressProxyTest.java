package dev.cordon.egress.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.cordon.core.AgentName;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.dlp.DlpAction;
import dev.cordon.core.dlp.SecretScanner;
import dev.cordon.egress.vault.Vault;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy with real sockets: a real origin server on loopback, real clients (curl and raw
 * sockets speaking malformed HTTP). Names resolve through a fixed table, so "a name that resolves
 * to 127.0.0.1" is an exact, repeatable attack; the origin is reachable only through a rule that
 * names 127.0.0.1, as the guard demands.
 */
class EgressProxyTest {
    static final AgentName AGENT = new AgentName("main");
    static final InetAddress OWN = address("192.0.2.10");

    final RecordingAuditLog audit = new RecordingAuditLog();
    final List<String> originSaw = new CopyOnWriteArrayList<>();
    final AtomicInteger lookups = new AtomicInteger();
    final Map<String, String> dns = Map.of(
            "api.test", "127.0.0.1",
            "rebind.test", "127.0.0.1",
            "meta.test", "169.254.169.254",
            "corp.test", "10.0.0.7",
            "self.test", "192.0.2.10");

    @TempDir
    Path dir;

    Vault vault;
    volatile EgressApprovals approvals = EgressApprovals.NONE;
    HttpServer origin;
    ServerSocket proxySocket;
    volatile EgressRules rules = EgressRules.DENY_ALL;
    volatile Set<String> secrets = Set.of();
    volatile DlpAction dlp = DlpAction.BLOCK;
    int originPort;

    @BeforeEach
    void start() throws IOException {
        origin = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        origin.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String seen = exchange.getRequestMethod() + " " + exchange.getRequestURI() + " host="
                    + exchange.getRequestHeaders().getFirst("Host") + " body="
                    + new String(body, StandardCharsets.UTF_8) + " auth="
                    + exchange.getRequestHeaders().getFirst("Proxy-Authorization");
            originSaw.add(seen);
            byte[] answer = ("origin says: " + seen).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        origin.start();
        originPort = origin.getAddress().getPort();

        Resolver resolver = host -> {
            lookups.incrementAndGet();
            String a = dns.get(host);
            if (a == null) {
                throw new UnknownHostException(host);
            }
            return List.of(InetAddress.getByName(a));
        };
        vault = Vault.open(dir.resolve("vault.json"), dir.resolve("keys/vault.key"));
        EgressProxy proxy = new HostEgressProxy(
                audit,
                resolver,
                new AddressGuard(Set.of(OWN)),
                vault,
                new SecretScanner(vault::revealAll),
                TestTls.clientFactory(),
                (caller, host, port) -> approvals.ask(caller, host, port),
                Clock.systemUTC());
        proxySocket =
                ProxyListener.serve(proxy, () -> new EgressProxy.Caller(AGENT, new SessionId(1L), rules, secrets, dlp));
    }

    @AfterEach
    void stop() throws IOException {
        proxySocket.close();
        origin.stop(0);
    }

    /** Allows api.test on the origin's port, and the loopback address it resolves to, by name. */
    void allowOrigin() {
        rules = new EgressRules(
                List.of(
                        new EgressRule("egress.allow[0]", "api.test", originPort, Set.of(), List.of()),
                        new EgressRule("egress.allow[1]", "127.0.0.1", originPort, Set.of(), List.of())),
                List.of());
    }

    @Test
    void underDlpRequestsRedactACredentialInTheBodyOrAHeaderIsReplacedAndTheRequestGoesOn() throws Exception {
        allowOrigin();
        dlp = DlpAction.REDACT;
        String key = "AKIAIOSFODNN7EXAMPLE";

        Curl r = curl(
                "-x",
                proxy(),
                "-H",
                "X-Note: " + key,
                "-d",
                "log line with " + key + " in it",
                "http://api.test:" + originPort + "/paste");

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(originSaw.getFirst())
                .contains("body=log line with [redacted: an AWS access key id] in it")
                .doesNotContain(key);
        AuditEvent allow = audit.events().getLast();
        assertThat(allow.action()).isEqualTo("egress.allow");
        assertThat(allow.reason()).contains("the data-loss guard redacted an AWS access key id (dlp.requests: redact)");

        // A credential in the URL cannot be redacted into a working request: refused either way.
        Curl inUrl = curl("-x", proxy(), "http://api.test:" + originPort + "/q?aws=" + key);
        assertThat(inUrl.status()).isEqualTo(403);
        assertThat(inUrl.body()).contains("\"rule\":\"dlp\"");
    }

    @Test
    void curlReachesAnAllowedHostThroughTheProxyAndTheAllowIsAudited() throws Exception {
        allowOrigin();

        Curl r = curl(
                "-x",
                proxy(),
                "-H",
                "Proxy-Authorization: Basic c2VjcmV0",
                "http://api.test:" + originPort + "/hello?x=1");

        assertThat(r.body()).startsWith("origin says: GET /hello?x=1 host=api.test:" + originPort);
        assertThat(originSaw.getFirst())
                .as("proxy credentials are not passed on")
                .endsWith("auth=null");
        AuditEvent allow = audit.events().getLast();
        assertThat(allow.action()).isEqualTo("egress.allow");
        assertThat(allow.agent()).isEqualTo(AGENT);
        assertThat(allow.rule()).isEqualTo("egress.allow[1]");
        assertThat(allow.details()).containsEntry("host", "api.test").containsEntry("address", "127.0.0.1");
        assertThat(lookups)
                .as("the name is resolved once and that address is used")
                .hasValue(1);
    }

    @Test
    void curlTunnelsThroughConnectWhenTheRuleHasNoMethodOrPathLimits() throws Exception {
        allowOrigin();

        Curl r = curl("-p", "-x", proxy(), "http://api.test:" + originPort + "/tunnelled");

        assertThat(r.body()).startsWith("origin says: GET /tunnelled");
        assertThat(audit.events().getLast().details()).containsEntry("method", "CONNECT");
    }

    @Test
    void aDeniedHostGetsAStructured403NamingTheMissingRuleAndNothingLeaves() throws Exception {
        Curl r = curl("-x", proxy(), "http://api.test:" + originPort + "/secret");

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body())
                .contains("\"error\":\"egress_denied\"", "\"rule\":null", "no egress.allow rule matches GET api.test")
                .contains("agents/main/policy.yaml");
        assertThat(originSaw).isEmpty();
        assertThat(lookups).as("a denied name is not even resolved").hasValue(0);
        AuditEvent deny = audit.events().getLast();
        assertThat(deny.action()).isEqualTo("egress.deny");
        assertThat(deny.decision()).isEqualTo(AuditEvent.Decision.DENY);
        assertThat(deny.details()).containsEntry("path", "/secret");
    }

    @Test
    void aDenyRuleWinsAndIsNamedInTheAnswer() throws Exception {
        allowOrigin();
        rules = new EgressRules(
                rules.allow(),
                List.of(new EgressRule("egress.deny[0]", "api.test", EgressRule.ANY_PORT, Set.of("POST"), List.of())));

        Curl r = curl("-x", proxy(), "-d", "data", "http://api.test:" + originPort + "/write");

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).contains("\"rule\":\"egress.deny[0]\"");
        assertThat(curl("-x", proxy(), "http://api.test:" + originPort + "/read")
                        .status())
                .isEqualTo(200);
    }

    @Test
    void namesThatResolveInwardAreRefusedEvenWhenTheNameIsAllowed() throws Exception {
        rules = new EgressRules(
                List.of(new EgressRule("egress.allow[0]", "*.test", EgressRule.ANY_PORT, Set.of(), List.of())),
                List.of());

        for (String host : List.of("rebind.test", "meta.test", "corp.test", "self.test")) {
            Curl r = curl("-x", proxy(), "http://" + host + ":" + originPort + "/");
            assertThat(r.status()).as(host).isEqualTo(403);
            assertThat(r.body()).as(host).contains("only an egress.allow rule naming that address");
        }
        assertThat(curl("-x", proxy(), "http://meta.test/latest/meta-data/").body())
                .contains("169.254.169.254 is a cloud metadata address");
        assertThat(curl("-x", proxy(), "http://self.test/").body()).contains("the Cordon host itself");
        assertThat(curl("-p", "-x", proxy(), "http://corp.test:" + originPort + "/")
                        .status())
                .as("a tunnel is refused the same way")
                .isNotEqualTo(200);
        assertThat(curl("-x", proxy(), "http://127.0.0.1:" + originPort + "/").status())
                .as("an address literal needs its own rule too")
                .isEqualTo(403);
        assertThat(originSaw).isEmpty();
    }

    @Test
    void aHostNoRuleCoversIsPutToAPersonAndTheirGrantLetsTheNextRequestThrough() throws Exception {
        List<String> asked = new CopyOnWriteArrayList<>();
        approvals = (caller, host, port) -> {
            asked.add(caller.agent().value() + " " + host + ":" + port);
            return asked.size() == 1
                    ? new EgressApprovals.Asked.Waiting(7)
                    : new EgressApprovals.Asked.Granted(7, "approved by terminal:owner for this session");
        };

        Curl first = curl("-x", proxy(), "http://127.0.0.1:" + originPort + "/a");
        Curl second = curl("-x", proxy(), "http://127.0.0.1:" + originPort + "/b");

        assertThat(first.status()).isEqualTo(403);
        assertThat(first.body()).contains("approval #7 asks an operator", "cordon approvals approve 7");
        assertThat(second.status())
                .as("the grant names the address, so the guard lets loopback through")
                .isEqualTo(200);
        assertThat(originSaw).singleElement().asString().startsWith("GET /b");
        assertThat(asked).containsExactly("main 127.0.0.1:" + originPort, "main 127.0.0.1:" + originPort);
        assertThat(audit.events().getLast().rule()).isEqualTo("approval #7");
    }

    @Test
    void anExplicitDenyIsNeverPutToAPerson() throws Exception {
        List<String> asked = new CopyOnWriteArrayList<>();
        approvals = (caller, host, port) -> {
            asked.add(host);
            return new EgressApprovals.Asked.Granted(1, "approved");
        };
        rules = new EgressRules(
                List.of(),
                List.of(new EgressRule("egress.deny[0]", "api.test", EgressRule.ANY_PORT, Set.of(), List.of())));

        assertThat(curl("-x", proxy(), "http://api.test:" + originPort + "/").status())
                .isEqualTo(403);
        assertThat(asked).isEmpty();
        assertThat(curl("-x", proxy(), "http://rebind.test:" + originPort + "/").status())
                .as("a grant for a name never unlocks the loopback address it resolves to")
                .isEqualTo(403);
        assertThat(originSaw).isEmpty();
    }

    @Test
    void aChunkedBodyArrivesWhole() throws Exception {
        allowOrigin();

        String answer = raw("POST http://api.test:" + originPort + "/upload HTTP/1.1\r\nHost: api.test\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");

        assertThat(answer).startsWith("HTTP/1.1 200").contains("body=hello world");
    }

    @Test
    void bytesAfterTheDeclaredBodyNeverReachTheOriginAsASecondRequest() throws Exception {
        allowOrigin();
        String smuggled = "GET http://api.test:" + originPort + "/smuggled HTTP/1.1\r\nHost: api.test\r\n\r\n";

        raw("POST http://api.test:" + originPort + "/first HTTP/1.1\r\nHost: api.test\r\nContent-Length: 5\r\n\r\nhello"
                + smuggled);

        assertThat(originSaw).hasSize(1);
        assertThat(originSaw.getFirst()).startsWith("POST /first").contains("body=hello");
    }

    @Test
    void malformedRequestsAreRefusedWithAReasonAndNothingIsForwarded() throws Exception {
        allowOrigin();
        String target = "http://api.test:" + originPort + "/";
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("GET " + target + " HTTP/1.1\r\nX-Big: " + "a".repeat(9_000) + "\r\n\r\n", "431");
        cases.put("GET " + target + " HTTP/1.1\r\n" + "X-Many: 1\r\n".repeat(6_000) + "\r\n", "431");
        cases.put("GET " + target + " HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n", "400 Bad Request");
        cases.put("GET " + target + " HTTP/1.1\nHost: a\n\n", "bare LF");
        cases.put(
                "POST " + target + " HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "ambiguous framing");
        cases.put(
                "POST " + target + " HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                "more than one Content-Length");
        cases.put("POST " + target + " HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc", "is not a number");
        cases.put("POST " + target + " HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n", "501");
        cases.put("POST " + target + " HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n", "malformed header line");
        cases.put(
                "POST " + target + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                "is not a hex number");
        cases.put(
                "POST " + target + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
                "not followed by CRLF");
        cases.put("GET / HTTP/1.1\r\nHost: api.test\r\n\r\n", "must be an absolute http:// URL");
        cases.put("GET http://user@api.test:" + originPort + "/ HTTP/1.1\r\n\r\n", "user information");
        cases.put("GET http://api.test:" + originPort + "/a/%2e%2e/admin HTTP/1.1\r\n\r\n", "dot segments");
        cases.put("GET http://api.test:" + originPort + "/a\\b HTTP/1.1\r\n\r\n", "backslash");
        cases.put("GET " + target + " HTTP/2.0\r\n\r\n", "unsupported protocol version");
        cases.put("CONNECT api.test HTTP/1.1\r\n\r\n", "CONNECT needs host:port");
        cases.put("GET " + target + " HTTP/1.1\r\nX-A: a\u0001b\r\n\r\n", "control character");

        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, String> c : cases.entrySet()) {
            String answer = raw(c.getKey());
            if (!answer.contains(c.getValue())
                    || !answer.startsWith("HTTP/1.1 4") && !answer.startsWith("HTTP/1.1 5")) {
                wrong.add(HttpHead.printable(c.getKey()) + " -> " + HttpHead.printable(answer));
            }
        }
        assertThat(wrong).isEmpty();
        assertThat(originSaw).isEmpty();
    }

    @Test
    void aRefusedRequestIsAnsweredAfterItsBodySoAClientThatSendsFirstHearsWhy() throws Exception {
        allowOrigin();
        String allowed = "http://api.test:" + originPort + "/up";
        byte[] twentyMb = new byte[20_000_000];
        ByteArrayOutputStream chunked = new ByteArrayOutputStream();
        for (int i = 0; i < 17; i++) {
            chunked.write("100000\r\n".getBytes(StandardCharsets.US_ASCII));
            chunked.write(new byte[0x100000]);
            chunked.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        chunked.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));

        // Each client writes its whole request before it reads: a proxy that answers and closes
        // mid-body makes these writes fail, and the client never reads the answer.
        assertThat(sendAllThenRead("POST " + allowed + " HTTP/1.1\r\nContent-Length: 20000000\r\n\r\n", twentyMb))
                .startsWith("HTTP/1.1 413")
                .contains("send larger uploads over HTTPS");
        assertThat(sendAllThenRead(
                        "POST " + allowed + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", chunked.toByteArray()))
                .startsWith("HTTP/1.1 413");
        assertThat(sendAllThenRead(
                        "POST http://denied.test/up HTTP/1.1\r\nContent-Length: 4000000\r\n\r\n", new byte[4_000_000]))
                .startsWith("HTTP/1.1 403")
                .contains("egress_denied");
        assertThat(originSaw).isEmpty();
    }

    @Test
    void aDenialIsOnRecordBeforeTheProxyWaitsForTheBody() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxySocket.getLocalPort())) {
            s.getOutputStream()
                    .write("POST http://denied.test/up HTTP/1.1\r\nContent-Length: 1000\r\n\r\nonly a part"
                            .getBytes(StandardCharsets.US_ASCII));
            // The body never finishes: the deny is audited anyway, while the proxy still reads.
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> audit.events().stream()
                            .anyMatch(e -> e.action().equals("egress.deny")
                                    && "denied.test".equals(e.details().get("host"))));
        }
    }

    @Test
    void aClientThatWaitsForContinueIsToldToSendOrRefusedBeforeItSends() throws Exception {
        allowOrigin();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxySocket.getLocalPort())) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(("POST http://api.test:" + originPort + "/up HTTP/1.1\r\nContent-Length: 5\r\n"
                            + "Expect: 100-continue\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] interim = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            assertThat(new String(in.readNBytes(interim.length), StandardCharsets.US_ASCII))
                    .isEqualTo(new String(interim, StandardCharsets.US_ASCII));
            out.write("hello".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1))
                    .startsWith("HTTP/1.1 200")
                    .contains("body=hello");
        }
        for (String refused : List.of(
                "POST http://api.test:" + originPort + "/up HTTP/1.1\r\nContent-Length: 20000000\r\n",
                "POST http://denied.test/up HTTP/1.1\r\nContent-Length: 5\r\n")) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxySocket.getLocalPort())) {
                s.setSoTimeout(20_000);
                s.getOutputStream()
                        .write((refused + "Expect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                // No body sent: the answer must come without it.
                assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1))
                        .as(refused)
                        .matches("(?s)HTTP/1.1 (413|403) .*");
            }
        }
        assertThat(originSaw).hasSize(1);
    }

    @Test
    void anOriginThatClosesWithoutAnsweringGetsA502NotAnEmptyReply() throws Exception {
        // Three origins that take the request head and then: close, reset, or answer early (a 413
        // to an upload they will not take) and reset while the body is still coming. Their receive
        // buffer is set small before they listen, so the 15 MB body cannot all be in flight (the
        // proxy's send buffer grows to 4 MiB at most): the proxy is still sending when the reset
        // comes, and its write fails.
        for (String origin : List.of("close", "reset", "early")) {
            try (ServerSocket rude = new ServerSocket()) {
                rude.setReceiveBufferSize(4096);
                rude.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
                Thread.ofVirtual().start(() -> {
                    try (Socket c = rude.accept()) {
                        InputStream in = c.getInputStream();
                        int matched = 0;
                        while (matched < 4) { // up to the head's blank line
                            int b = in.read();
                            matched = b < 0 ? 4 : (b == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : 0);
                        }
                        if (!origin.equals("close")) {
                            if (origin.equals("early")) {
                                c.getOutputStream()
                                        .write("HTTP/1.1 413 Content Too Large\r\nContent-Length: 9\r\n\r\ntoo large"
                                                .getBytes(StandardCharsets.US_ASCII));
                                Thread.sleep(500);
                            }
                            c.setSoLinger(true, 0);
                        }
                    } catch (IOException | InterruptedException e) {
                        // the test's assertions tell
                    }
                });
                int port = rude.getLocalPort();
                rules = new EgressRules(
                        List.of(new EgressRule("egress.allow[0]", "127.0.0.1", port, Set.of(), List.of())), List.of());

                String answer = sendAllThenRead(
                        "POST http://127.0.0.1:" + port + "/up HTTP/1.1\r\nContent-Length: 15000000\r\n\r\n",
                        new byte[15_000_000]);

                if (origin.equals("early")) {
                    assertThat(answer).as(origin).startsWith("HTTP/1.1 413").endsWith("too large");
                } else {
                    assertThat(answer)
                            .as(origin)
                            .startsWith("HTTP/1.1 502")
                            .contains("\"error\":\"unanswered\"", "127.0.0.1:" + port + " closed the connection");
                }
            }
        }
    }

    /** Writes {@code head} and {@code body} whole (failing the test if the proxy stops reading), then reads the answer. */
    String sendAllThenRead(String head, byte[] body) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxySocket.getLocalPort())) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void unreservedEscapesAreDecodedSoAPathRuleSeesWhatTheOriginSees() throws Exception {
        rules = new EgressRules(
                List.of(
                        new EgressRule("egress.allow[0]", "api.test", originPort, Set.of(), List.of()),
                        new EgressRule("egress.allow[1]", "127.0.0.1", originPort, Set.of(), List.of())),
                List.of(new EgressRule("egress.deny[0]", "api.test", originPort, Set.of(), List.of("/admin/**"))));

        String answer = raw("GET http://api.test:" + originPort + "/%61dmin/users HTTP/1.1\r\n\r\n");

        assertThat(answer).startsWith("HTTP/1.1 403").contains("egress.deny[0]");
    }

    // --- helpers

    record Curl(int status, String body) {}

    String proxy() {
        return "http://127.0.0.1:" + proxySocket.getLocalPort();
    }

    static Curl curl(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("curl", "-s", "--noproxy", "", "-m", "20", "-w", "\n%{http_code}"));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        int nl = out.lastIndexOf('\n');
        return new Curl(Integer.parseInt(out.substring(nl + 1).strip()), out.substring(0, nl));
    }

    /** Sends {@code request} as is and returns everything the proxy answered before closing. */
    String raw(String request) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxySocket.getLocalPort())) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(request.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            } catch (IOException e) {
                // the proxy may answer and close before reading everything
            }
            InputStream in = s.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            try {
                in.transferTo(answer);
            } catch (IOException e) {
                // a reset after the answer
            }
            return answer.toString(StandardCharsets.ISO_8859_1);
        }
    }

    static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
