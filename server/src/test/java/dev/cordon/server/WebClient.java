package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import tools.jackson.databind.JsonNode;

/**
 * A caller of a test daemon's HTTP API: with a bearer token, with a browser's cookie and CSRF token,
 * or with nothing. Sends JSON, reads JSON.
 */
final class WebClient {
    final String base;
    final Map<String, String> headers = new LinkedHashMap<>();
    private final HttpClient http =
            HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    WebClient(String base) {
        this.base = base;
    }

    /** A one-time login link (and, with {@code newToken}, an API token) from the control socket. */
    static ControlEvent.DashboardLink link(Path controlSocket, String user, boolean newToken) throws Exception {
        try (ControlClient client = new ControlClient(controlSocket)) {
            client.send(new ControlRequest.Dashboard(user, newToken));
            return client.await(ControlEvent.DashboardLink.class);
        }
    }

    /** Grants {@code user} a role for {@code agent} (null: every agent) as the owner, over the control socket. */
    static void grant(Path controlSocket, String user, String role, String agent) throws Exception {
        try (ControlClient client = new ControlClient(controlSocket)) {
            client.send(new ControlRequest.UsersGrant(user, role, agent));
            client.await(ControlEvent.Done.class);
        }
    }

    /** A caller with a fresh API token of {@code user}. */
    static WebClient token(String base, Path controlSocket, String user) throws Exception {
        return bearer(base, link(controlSocket, user, true).token());
    }

    static WebClient bearer(String base, String token) {
        WebClient c = new WebClient(base);
        c.headers.put("Authorization", "Bearer " + token);
        return c;
    }

    /** Logs in as a browser would: spends the link's code, keeps the cookie and the CSRF token. */
    static WebClient browser(ControlEvent.DashboardLink link) throws Exception {
        WebClient c = new WebClient(link.url());
        HttpResponse<String> login =
                c.send("GET", link.loginUrl().substring(link.url().length()), null);
        assertThat(login.statusCode()).isEqualTo(302);
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        c.headers.put("Cookie", cookie.substring(0, cookie.indexOf(';')));
        c.headers.put(
                "X-CSRF-Token",
                c.json("GET", "/api/v1/me", null).get("csrfToken").asString());
        return c;
    }

    HttpResponse<String> send(String method, String path, Object body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        headers.forEach(b::header);
        b.method(
                method,
                body == null
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(WebJson.write(body)));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** POSTs {@code body} as JSON without a Content-Length (chunked), as a streaming client would. */
    HttpResponse<String> postChunked(String path, Object body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        headers.forEach(b::header);
        b.header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.fromPublisher(
                        HttpRequest.BodyPublishers.ofString(WebJson.write(body))));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Uploads {@code bytes} as file {@code name} for a message to {@code agent} (POST .../files). */
    HttpResponse<String> upload(String agent, String name, String type, byte[] bytes)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/v1/agents/" + agent + "/files?name="
                        + java.net.URLEncoder.encode(name, StandardCharsets.UTF_8)))
                .timeout(Duration.ofSeconds(30));
        headers.forEach(b::header);
        b.header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    int status(String method, String path) throws IOException, InterruptedException {
        return send(method, path, method.equals("POST") ? Map.of() : null).statusCode();
    }

    /** The JSON body of a call that must succeed. */
    JsonNode json(String method, String path, Object body) throws IOException, InterruptedException {
        HttpResponse<String> r = send(method, path, body);
        assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isBetween(200, 299);
        return WebJson.MAPPER.readTree(r.body());
    }

    /** Opens {@code /api/v1/events}; events arrive as "type data-json" lines in the queue. */
    BlockingQueue<String> events() throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/v1/events"));
        headers.forEach(b::header);
        HttpResponse<java.io.InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        BlockingQueue<String> queue = new LinkedBlockingQueue<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                String type = null;
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("event: ")) {
                        type = line.substring(7);
                    } else if (line.startsWith("data: ") && type != null) {
                        queue.add(type + " " + line.substring(6));
                    }
                }
            } catch (IOException e) {
                // the stream ended
            }
        });
        return queue;
    }
}
