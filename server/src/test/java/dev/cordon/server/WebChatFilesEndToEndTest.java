package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.testkit.Scripted;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Files in the web chat, both ways, with a real daemon, a real bubblewrap sandbox and the real
 * runner on the scripted fake model. The agent, from inside its sandbox, plants links where its
 * inbox goes ({@code inbox -> HOST_DIR}, then {@code inbox/<id> -> HOST_DIR}); the files people
 * send still land in the workspace and the host folder stays untouched, because the runner writes
 * them inside the sandbox and replaces what it finds instead of following it.
 */
class WebChatFilesEndToEndTest extends DaemonTestBase {
    static final String NOTES = "meeting at noon\n";

    static String bash(String command) {
        return WebJson.write(Map.of("command", command));
    }

    String upload(WebClient client, String name, String content) throws Exception {
        HttpResponse<String> r = client.upload("main", name, "text/plain", content.getBytes(StandardCharsets.UTF_8));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return WebJson.MAPPER.readTree(r.body()).get("upload").asString();
    }

    /** A caller with a token of {@code user}, made a member of agent main. */
    WebClient member(String user) throws Exception {
        WebClient.grant(daemon.controlSocket(), user, "member", "main");
        return WebClient.token(daemon.webUrl(), daemon.controlSocket(), user);
    }

    static String next(BlockingQueue<String> events, String type) throws InterruptedException {
        while (true) {
            String e = events.poll(120, TimeUnit.SECONDS);
            assertThat(e).as("an event " + type).isNotNull();
            if (e.startsWith(type + " ")) {
                return e;
            }
        }
    }

    @Test
    void filesReachTheWorkspaceThroughPlantedLinksWithoutTouchingTheHostAndSentFilesComeBackAsLinks() throws Exception {
        Path victim = Files.createDirectories(home.getParent().resolve("victim-" + System.nanoTime()));
        Files.writeString(home.resolve("cordon.yaml"), WebApiTest.HTTP_ON);
        model.enqueue(
                Scripted.toolCall("bash", bash("ln -s " + victim + " /workspace/inbox && echo planted")),
                Scripted.text("Ready."),
                Scripted.toolCall(
                        "bash",
                        bash("cat /workspace/inbox/*/notes.txt && for i in $(seq 1 50); do"
                                + " [ -e /workspace/inbox/$i ] || ln -s " + victim + " /workspace/inbox/$i; done")),
                Scripted.text("Read it."),
                Scripted.toolCall("bash", bash("cat /workspace/inbox/*/second.txt")),
                Scripted.toolCall("send_file", "{\"path\":\"/workspace/inbox/3/second.txt\"}"),
                Scripted.text("Sent it back."));
        startDaemon();
        String url = daemon.webUrl();
        WebClient alice = member("web:alice");
        WebClient bob = member("web:bob");
        WebClient owner = WebClient.token(url, daemon.controlSocket(), null);
        BlockingQueue<String> aliceSees = alice.events();

        alice.json("POST", "/api/v1/agents/main/messages", Map.of("text", "get ready", "clientMessageId", "m1"));
        assertThat(next(aliceSees, "reply")).contains("Ready.");
        assertThat(Files.isSymbolicLink(home.resolve("agents/main/workspace/inbox")))
                .isTrue();
        assertThat(Files.isSameFile(home.resolve("agents/main/workspace/inbox"), victim))
                .as("the trap is real: on the host, a write through the workspace's inbox lands in the host folder")
                .isTrue();

        String first = upload(alice, "notes.txt", NOTES);
        alice.json(
                "POST",
                "/api/v1/agents/main/messages",
                Map.of("text", "", "clientMessageId", "m2", "files", List.of(first)));
        assertThat(next(aliceSees, "reply")).contains("Read it.");

        String second = upload(alice, "second.txt", "the second file\n");
        alice.json(
                "POST",
                "/api/v1/agents/main/messages",
                Map.of("text", "and this one", "clientMessageId", "m3", "files", List.of(second)));
        String file = next(aliceSees, "reply");
        assertThat(next(aliceSees, "reply")).contains("Sent it back.");

        try (var listing = Files.list(victim)) {
            assertThat(listing).as("the host folder the links pointed to").isEmpty();
        }
        Path inbox = home.resolve("agents/main/workspace/inbox");
        assertThat(Files.isDirectory(inbox, LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(Files.isDirectory(inbox.resolve("3"), LinkOption.NOFOLLOW_LINKS))
                .isTrue();
        assertThat(inbox.resolve("2/notes.txt")).hasContent("meeting at noon");
        assertThat(inbox.resolve("3/second.txt")).hasContent("the second file");
        assertThat(EndToEndTest.toolResults(model.requests().get(3)).getLast()).contains("meeting at noon");
        assertThat(EndToEndTest.toolResults(model.requests().get(5)).getLast()).contains("the second file");
        assertThat(model.requests().get(4).body().get("messages").toString())
                .contains("and this one")
                .contains("/workspace/inbox/3/second.txt (text/plain, 16 bytes)");

        JsonNode reply = WebJson.MAPPER.readTree(file.substring("reply ".length()));
        String link = reply.get("file").get("url").asString();
        assertThat(reply.get("file").get("name").asString()).isEqualTo("second.txt");
        JsonNode listed =
                alice.json("GET", "/api/v1/agents/main/messages", null).get("files");
        assertThat(listed).as("a reloaded chat lists the files the agent sent").hasSize(1);
        assertThat(listed.get(0).get("url").asString()).isEqualTo(link);
        assertThat(bob.json("GET", "/api/v1/agents/main/messages", null).get("files"))
                .as("not in another member's chat")
                .isEmpty();
        HttpResponse<String> download = alice.send("GET", link, null);
        assertThat(download.statusCode()).isEqualTo(200);
        assertThat(download.body()).isEqualTo("the second file\n");
        assertThat(download.headers().firstValue("Content-Disposition").orElseThrow())
                .startsWith("attachment;");
        assertThat(bob.send("GET", link, null).statusCode())
                .as("another member's chat")
                .isEqualTo(404);
        assertThat(owner.send("GET", link, null).statusCode()).as("an admin").isEqualTo(200);
        assertThat(new WebClient(url).send("GET", link, null).statusCode()).isEqualTo(401);
    }

    @Test
    void uploadsKeepTheLimitTheCsrfRuleAndTheirOwner() throws Exception {
        Files.writeString(home.resolve("cordon.yaml"), WebApiTest.HTTP_ON + "files:\n  max_mb: 1\n");
        startDaemon();
        String url = daemon.webUrl();
        WebClient alice = member("web:alice");
        WebClient bob = member("web:bob");

        HttpResponse<String> big =
                alice.upload("main", "big.bin", "application/octet-stream", new byte[1024 * 1024 + 1]);
        assertThat(big.statusCode()).isEqualTo(413);
        assertThat(big.body()).contains("file 'big.bin' is larger than 1 MiB").contains("files.max_mb");

        WebClient browser = WebClient.browser(WebClient.link(daemon.controlSocket(), "web:alice", false));
        browser.headers.remove("X-CSRF-Token");
        assertThat(browser.upload("main", "a.txt", "text/plain", new byte[] {'a'})
                        .statusCode())
                .isEqualTo(403);

        String alices = upload(alice, "a.txt", "alice's");
        HttpResponse<String> stolen = bob.send(
                "POST",
                "/api/v1/agents/main/messages",
                Map.of("text", "mine now", "clientMessageId", "b1", "files", List.of(alices)));
        assertThat(stolen.statusCode()).isEqualTo(400);
        assertThat(stolen.body()).contains("is unknown, expired (after an hour) or not yours");
        HttpResponse<String> empty =
                alice.send("POST", "/api/v1/agents/main/messages", Map.of("text", " ", "clientMessageId", "a1"));
        assertThat(empty.statusCode()).isEqualTo(400);
        assertThat(new WebClient(url)
                        .upload("main", "a.txt", "text/plain", new byte[] {'a'})
                        .statusCode())
                .isEqualTo(401);
    }
}
