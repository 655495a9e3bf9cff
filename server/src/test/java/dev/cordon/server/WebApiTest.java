package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.audit.AuditActions;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The HTTP API of a real daemon (SQLite, its real control socket): authentication, CSRF, origin
 * checks and each role's view of every endpoint. The web chat with a real sandbox is in
 * WebChatEndToEndTest; the browser in DashboardBrowserTest.
 */
class WebApiTest extends DaemonTestBase {
    static final String HTTP_ON = "http:\n  enabled: true\n  port: 0\n";

    /** Turns the dashboard on (any free port) and makes agent main ask before each bash call. */
    static void dashboardWithAskingBash(Path home) throws IOException {
        Files.writeString(home.resolve("cordon.yaml"), HTTP_ON);
        Files.writeString(home.resolve("agents/main/policy.yaml"), "tools:\n  bash:\n    default: ask\n");
    }

    String url;

    @BeforeEach
    void configure() throws IOException {
        Files.writeString(home.resolve("cordon.yaml"), HTTP_ON);
    }

    void start() throws Exception {
        startDaemon();
        url = daemon.webUrl();
    }

    WebClient owner() throws Exception {
        return WebClient.browser(WebClient.link(daemon.controlSocket(), null, false));
    }

    void grant(String user, String role, String agent) throws Exception {
        WebClient.grant(daemon.controlSocket(), user, role, agent);
    }

    WebClient tokenFor(String user) throws Exception {
        return WebClient.token(url, daemon.controlSocket(), user);
    }

    /** As ./cordon dashboard does on a stopped daemon: start it, and ask the moment its socket takes a connection. */
    @Test
    void theDashboardsAddressIsThereAsSoonAsTheControlSocketIs() throws Exception {
        CompletableFuture<Daemon> starting = CompletableFuture.supplyAsync(() -> {
            try {
                return EndToEndTest.startOn(home, model);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        Path socket = home.resolve("run/control.sock");
        ControlEvent.DashboardLink link = null;
        while (link == null && !starting.isDone()) {
            try {
                link = WebClient.link(socket, null, false);
            } catch (SocketException | NoSuchFileException e) {
                Thread.sleep(1); // not listening yet
            }
        }
        daemon = starting.get();
        if (link == null) {
            link = WebClient.link(socket, null, false); // the start won the race: nothing to show
        }

        assertThat(link.url()).isEqualTo(daemon.webUrl()).doesNotEndWith(":0");
        try (ControlClient client = new ControlClient(socket)) {
            client.send(new ControlRequest.Status());
            assertThat(client.await(ControlEvent.StatusReport.class).dashboard())
                    .isEqualTo(link.url());
        }
    }

    @Test
    void aLoginLinkWorksOnceAndGivesAStrictHttpOnlyCookieWhoseChangesNeedTheCsrfToken() throws Exception {
        start();
        ControlEvent.DashboardLink link = WebClient.link(daemon.controlSocket(), null, false);
        assertThat(link.url()).startsWith("http://127.0.0.1:");
        assertThat(link.user()).isEqualTo("web:owner");
        assertThat(link.token()).as("the owner's first token is shown once").startsWith("cordon_");

        WebClient anonymous = new WebClient(url);
        String path = link.loginUrl().substring(url.length());
        HttpResponse<String> login = anonymous.send("GET", path, null);
        assertThat(login.statusCode()).isEqualTo(302);
        assertThat(login.headers().firstValue("Set-Cookie").orElseThrow())
                .contains("HttpOnly")
                .contains("SameSite=Strict");
        assertThat(anonymous.send("GET", path, null).statusCode())
                .as("a used code")
                .isEqualTo(401);

        WebClient browser = WebClient.browser(WebClient.link(daemon.controlSocket(), null, false));
        JsonNode me = browser.json("GET", "/api/v1/me", null);
        assertThat(me.get("user").asString()).isEqualTo("web:owner");
        assertThat(me.get("roles").get("main").asString()).isEqualTo("owner");

        String csrf = browser.headers.remove("X-CSRF-Token");
        assertThat(browser.status("POST", "/api/v1/logout")).as("no CSRF token").isEqualTo(403);
        browser.headers.put("X-CSRF-Token", "forged");
        assertThat(browser.status("POST", "/api/v1/logout"))
                .as("a wrong CSRF token")
                .isEqualTo(403);
        browser.headers.put("X-CSRF-Token", csrf);
        assertThat(browser.status("POST", "/api/v1/logout")).isEqualTo(200);
        assertThat(browser.status("GET", "/api/v1/me")).as("logged out").isEqualTo(401);

        assertThat(audited(AuditActions.WEB_LOGIN)).hasSize(2);
        assertThat(audited(AuditActions.WEB_DENIED))
                .as("the two refused logouts")
                .hasSize(2)
                .allSatisfy(e -> assertThat(e.reason()).contains("X-CSRF-Token"));
        assertThat(audited(AuditActions.WEB_LOGOUT))
                .singleElement()
                .satisfies(e -> assertThat(e.actor().id()).isEqualTo("web:owner"));
        assertThat(audited(AuditActions.WEB_CREDENTIAL)).hasSize(2);
        String tokens = Files.readString(home.resolve("data/web-tokens"));
        assertThat(tokens).as("only hashes on disk").doesNotContain(link.token());
        assertThat(tokens).contains(WebAuth.sha256(link.token()));
    }

    @Test
    void everyApiRouteRefusesAMissingOrForgedCredential() throws Exception {
        start();
        WebClient nobody = new WebClient(url);
        WebClient forged = WebClient.bearer(url, "cordon_forged");
        WebClient badCookie = new WebClient(url);
        badCookie.headers.put("Cookie", WebServer.COOKIE + "=forged");
        List<String> routes = daemon.webRoutes().stream()
                .filter(r -> r.contains(" /api/") || r.endsWith(" /metrics"))
                .toList();
        assertThat(routes).hasSizeGreaterThan(15);
        for (String route : routes) {
            String method = route.substring(0, route.indexOf(' '));
            String path = route.substring(route.indexOf(' ') + 1)
                    .replace("{agent}", "main")
                    .replace("{session}", "1")
                    .replace("{approval}", "1")
                    .replace("{task}", "1")
                    .replace("{outbound}", "1");
            assertThat(nobody.status(method, path))
                    .as(route + " without a credential")
                    .isEqualTo(401);
            assertThat(forged.status(method, path))
                    .as(route + " with a forged token")
                    .isEqualTo(401);
            assertThat(badCookie.status(method, path))
                    .as(route + " with a forged cookie")
                    .isEqualTo(401);
        }
        WebClient owner = WebClient.bearer(
                url, WebClient.link(daemon.controlSocket(), null, true).token());
        assertThat(owner.json("GET", "/api/v1/me", null).get("csrfToken").isNull())
                .as("a bearer token needs no CSRF token: no browser sends it by itself")
                .isTrue();
        assertThat(owner.status("POST", "/api/v1/logout")).isEqualTo(200);
    }

    @Test
    void crossOriginRequestsAndForeignHostsAreRefusedAndEveryAnswerCarriesTheSecurityHeaders() throws Exception {
        start();
        WebClient owner = owner();
        owner.headers.put("Origin", "http://evil.example");
        HttpResponse<String> cross = owner.send("GET", "/api/v1/agents", null);
        assertThat(cross.statusCode()).isEqualTo(403);
        assertThat(cross.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        assertThat(owner.status("OPTIONS", "/api/v1/agents")).isEqualTo(403);
        owner.headers.remove("Origin");
        owner.headers.put("Sec-Fetch-Site", "cross-site");
        assertThat(owner.status("POST", "/api/v1/logout")).isEqualTo(403);
        owner.headers.remove("Sec-Fetch-Site");
        owner.headers.put("Origin", url);
        assertThat(owner.status("GET", "/api/v1/agents")).as("its own origin").isEqualTo(200);

        // DNS rebinding: evil.example resolving to 127.0.0.1 still says Host: evil.example.
        URI uri = URI.create(url);
        try (Socket s = new Socket(uri.getHost(), uri.getPort())) {
            OutputStream out = s.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: evil.example:" + uri.getPort() + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 421");
        }

        for (String path : List.of("/", "/app.js", "/api/v1/me")) {
            HttpResponse<String> r = new WebClient(url).send("GET", path, null);
            assertThat(r.headers().firstValue("Content-Security-Policy").orElseThrow())
                    .contains("script-src 'self'")
                    .contains("frame-ancestors 'none'")
                    .doesNotContain("unsafe-inline");
            assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(r.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
        }
        assertThat(new WebClient(url).send("GET", "/", null).body())
                .contains("<script type=\"module\" src=\"/app.js\"></script>")
                .doesNotContainPattern("<script>|\\son[a-z]+=\"");
    }

    @Test
    void membersTalkAdminsGovernTheirAgentAndOnlyOwnersAndGlobalAdminsSeeEverything() throws Exception {
        long approval = ApprovalControlTest.leftPending(
                home,
                Map.of("command", "rm -rf build/"),
                "clean the build",
                Instant.now().plus(Duration.ofHours(1)));
        start();
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.AgentsCreate("sales", null));
            client.await(ControlEvent.Done.class);
        }
        grant("web:alice", "member", "main");
        grant("web:bob", "admin", "main");
        WebClient alice = tokenFor("web:alice");
        WebClient bob = tokenFor("web:bob");
        WebClient owner = owner();

        // A member: sees and talks to its agent, nothing of its configuration, approvals or audit.
        assertThat(names(alice.json("GET", "/api/v1/agents", null).get("agents")))
                .containsExactly("main");
        JsonNode asMember = alice.json("GET", "/api/v1/agents/main", null);
        assertThat(asMember.get("policyExplain").isNull()).isTrue();
        assertThat(asMember.get("instructions").asString())
                .as("members read, admins edit")
                .isNotBlank();
        assertThat(asMember.get("editable").get("instructions").asBoolean()).isFalse();
        assertThat(asMember.get("sessions")).isEmpty();
        assertThat(alice.status("GET", "/api/v1/agents/sales")).isEqualTo(403);
        assertThat(alice.json("GET", "/api/v1/approvals", null).get("approvals"))
                .isEmpty();
        assertThat(alice.status("GET", "/api/v1/approvals/" + approval)).isEqualTo(403);
        HttpResponse<String> refused =
                alice.send("POST", "/api/v1/approvals/" + approval + "/decision", Map.of("decision", "always"));
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("web:alice").contains("owners and admins");
        assertThat(audited(AuditActions.WEB_DENIED))
                .anySatisfy(e -> assertThat(e.actor().id()).isEqualTo("web:alice"));
        assertThat(alice.json("GET", "/api/v1/sessions", null).get("sessions")).isEmpty();
        assertThat(alice.status("GET", "/api/v1/sessions/1/transcript")).isEqualTo(403);
        assertThat(alice.status("POST", "/api/v1/sessions/1/stop")).isEqualTo(403);
        assertThat(alice.status("GET", "/api/v1/audit")).isEqualTo(403);
        assertThat(alice.status("GET", "/api/v1/audit?agent=main")).isEqualTo(403);
        assertThat(alice.status("GET", "/api/v1/audit/verify")).isEqualTo(403);
        assertThat(alice.status("GET", "/metrics")).isEqualTo(403);
        assertThat(alice.json("GET", "/api/v1/usage", null).get("usage")).isEmpty();
        assertThat(alice.status("POST", "/api/v1/agents/sales/messages")).isEqualTo(403);

        // An admin of main: its policy, approvals, sessions and audit entries; not sales, not the whole log.
        JsonNode main = bob.json("GET", "/api/v1/agents/main", null);
        assertThat(main.get("policyExplain").asString()).contains("main");
        assertThat(main.get("instructions").asString()).isNotBlank();
        assertThat(main.get("sessions")).hasSize(1);
        assertThat(bob.status("GET", "/api/v1/agents/sales")).isEqualTo(403);
        JsonNode pending = bob.json("GET", "/api/v1/approvals", null).get("approvals");
        assertThat(pending).hasSize(1);
        assertThat(pending.get(0).get("payload").get("command").asString()).isEqualTo("rm -rf build/");
        assertThat(bob.json("GET", "/api/v1/sessions", null).get("sessions")).hasSize(1);
        assertThat(bob.json("GET", "/api/v1/sessions/1/transcript", null).get("messages"))
                .isEmpty();
        assertThat(bob.json("GET", "/api/v1/audit?agent=main", null).get("entries"))
                .isNotEmpty();
        assertThat(bob.status("GET", "/api/v1/audit?agent=sales")).isEqualTo(403);
        assertThat(bob.status("GET", "/api/v1/audit")).isEqualTo(403);
        assertThat(bob.status("GET", "/metrics")).isEqualTo(403);
        assertThat(bob.status("POST", "/api/v1/sessions/1/stop"))
                .as("no live sandbox")
                .isEqualTo(409);
        assertThat(bob.status("POST", "/api/v1/approvals/" + approval + "/decision"))
                .as("no decision")
                .isEqualTo(400);
        JsonNode decided = bob.json(
                "POST", "/api/v1/approvals/" + approval + "/decision", Map.of("decision", "deny", "reason", "no"));
        assertThat(decided.get("approval").get("status").asString()).isEqualTo("denied");
        assertThat(bob.send("POST", "/api/v1/approvals/" + approval + "/decision", Map.of("decision", "once"))
                        .statusCode())
                .as("already decided")
                .isEqualTo(409);
        assertThat(audited(AuditActions.APPROVAL_ANSWER))
                .singleElement()
                .satisfies(e -> assertThat(e.actor().id()).isEqualTo("web:bob"));

        // The owner: everything.
        assertThat(names(owner.json("GET", "/api/v1/agents", null).get("agents")))
                .containsExactly("main", "sales");
        JsonNode log = owner.json("GET", "/api/v1/audit?action=approval.&limit=5", null);
        assertThat(log.get("entries").get(0).get("action").asString()).isEqualTo("approval.answer");
        assertThat(owner.json("GET", "/api/v1/audit/verify", null).get("ok").asBoolean())
                .isTrue();
        assertThat(owner.send("GET", "/metrics", null).body())
                .contains("cordon_approvals_pending 0.0")
                .contains("cordon_sessions{state=\"busy\"}");
        assertThat(owner.status("GET", "/api/v1/audit?limit=5000")).isEqualTo(400);
        assertThat(owner.status("GET", "/api/v1/agents/Not%20A%20Name")).isEqualTo(400);
        assertThat(owner.status("GET", "/api/v1/agents/nobody")).isEqualTo(404);
    }

    private static List<String> names(JsonNode agents) {
        return agents.valueStream().map(a -> a.get("name").asString()).toList();
    }

    @Test
    void aBodyOverTheApisLimitGetsA413ThatNamesTheLimitAndTheDaemonGoesOn() throws Exception {
        start();
        WebClient owner = owner();
        // Just over, twice and eight times the limit; each ten times on the same client (a reset,
        // where the server closes with bytes unread, comes in some rounds, not all).
        for (long size : new long[] {WebServer.MAX_BODY + 1, 2 * WebServer.MAX_BODY, 8 * WebServer.MAX_BODY}) {
            for (int round = 0; round < 10; round++) {
                HttpResponse<String> r = owner.send(
                        "POST",
                        "/api/v1/agents/main/messages",
                        Map.of("text", "x".repeat((int) size), "clientMessageId", "big-" + size + "-" + round));
                assertThat(r.statusCode()).as("%d bytes, round %d", size, round).isEqualTo(413);
                assertThat(WebJson.MAPPER.readTree(r.body()).get("error").asString())
                        .contains(
                                "bytes, over the " + WebServer.MAX_BODY + " bytes the API takes",
                                "/agents/{agent}/files");
            }
        }
        // Chunked (no Content-Length): Javalin counts as it reads.
        HttpResponse<String> r = owner.postChunked(
                "/api/v1/agents/main/messages", Map.of("text", "x".repeat(3 << 20), "clientMessageId", "big-chunked"));
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(WebJson.MAPPER.readTree(r.body()).get("error").asString())
                .startsWith("the request body is over the " + WebServer.MAX_BODY + " bytes the API takes");
        HttpResponse<String> small = owner.send(
                "POST", "/api/v1/agents/main/messages", Map.of("text", "hello", "clientMessageId", "small-1"));
        assertThat(small.statusCode()).as(small.body()).isEqualTo(202);
        // The agent answers it (the fake model echoes), so the turn is over before the daemon stops.
        await().atMost(Duration.ofSeconds(60))
                .until(() -> owner.json("GET", "/api/v1/agents/main/messages", null)
                        .get("messages")
                        .toString()
                        .contains("You said: hello"));
        assertThat(owner.json("GET", "/api/v1/agents/main/messages", null)
                        .get("messages")
                        .toString())
                .as("none of the refused messages is stored")
                .doesNotContain("xxxxxxxx");
    }
}
