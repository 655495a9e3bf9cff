package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditActions;
import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.IrcUser;
import dev.cordon.testkit.Ngircd;
import dev.cordon.testkit.Scripted;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file sent to IRC, which has no uploads: a real ngircd, the real daemon with its HTTP server and
 * {@code files.public_url}, the agent in a real sandbox. The channel gets a link; the link serves the
 * file as a download, and an altered link serves nothing.
 */
class IrcFileLinkEndToEndTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final String SERVER_PASSWORD = "irc-server-password";

    @TempDir
    Path home;

    @TempDir
    Path ircDir;

    Ngircd irc;
    FakeModelServer model;
    Daemon daemon;
    IrcUser alice;

    @AfterEach
    void stop() throws Exception {
        if (alice != null) {
            alice.close();
        }
        if (daemon != null) {
            daemon.close();
        }
        if (model != null) {
            model.close();
        }
        if (irc != null) {
            irc.close();
        }
    }

    @Test
    void aFileToIrcArrivesAsALinkThatServesItsBytesAndAnAlteredLinkServesNothing() throws Exception {
        irc = Ngircd.start(ircDir, SERVER_PASSWORD);
        Home h = new Home(home);
        Vault.open(h.vault(), h.vaultKey())
                .put("IRC_PASSWORD", SERVER_PASSWORD.getBytes(StandardCharsets.UTF_8), List.of());
        model = FakeModelServer.start();
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        Files.writeString(home.resolve("cordon.yaml"), """
                channels:
                  irc:
                    server: 127.0.0.1
                    port: %d
                    tls: false
                    nick: cordonbot
                    channels: ["#cordon"]
                    password_secret: IRC_PASSWORD
                http: {enabled: true, host: 127.0.0.1, port: %d}
                files: {public_url: "http://127.0.0.1:%d", link_hours: 2}
                """.formatted(irc.port(), port, port));
        daemon = EndToEndTest.startOn(home, model);
        alice = IrcUser.connect(irc.host(), irc.port(), "alice", SERVER_PASSWORD);
        alice.join("#cordon");
        alice.awaitMember("#cordon", "cordonbot", WAIT);
        String code;
        try (ControlClient owner = new ControlClient(daemon.controlSocket())) {
            owner.send(new ControlRequest.Pair("main"));
            code = owner.await(ControlEvent.PairingCode.class).code();
        }
        alice.say("#cordon", code);
        alice.await(s -> s.from().equals("cordonbot"), WAIT);
        model.enqueue(
                Scripted.toolCall("bash", EndToEndTest.json("printf 'line one\\nline two\\n' > /workspace/notes.txt")),
                Scripted.toolCall("send_file", "{\"path\":\"notes.txt\"}"),
                Scripted.text("There you go."));

        alice.say("#cordon", "cordonbot: send me the notes");

        IrcUser.Said link =
                alice.await(s -> s.from().equals("cordonbot") && s.text().contains("/files/"), WAIT);
        assertThat(link.text()).startsWith("File notes.txt (18 bytes), for 2 h: http://127.0.0.1:" + port + "/files/");
        assertThat(alice.await(s -> s.from().equals("cordonbot"), WAIT).text()).isEqualTo("There you go.");
        URI url = URI.create(link.text().substring(link.text().indexOf("http://")));
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<byte[]> got =
                http.send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(new String(got.body(), StandardCharsets.UTF_8)).isEqualTo("line one\nline two\n");
        assertThat(got.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
        assertThat(got.headers().firstValue("Content-Disposition")).hasValue("attachment; filename*=UTF-8''notes.txt");

        String[] parts = url.getPath().split("/");
        parts[4] = parts[4].substring(0, 10) + (parts[4].charAt(10) == 'A' ? 'B' : 'A') + parts[4].substring(11);
        HttpResponse<String> forged = http.send(
                HttpRequest.newBuilder(url.resolve(String.join("/", parts))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(forged.statusCode()).isEqualTo(404);
        assertThat(forged.body()).contains("unknown or has expired");
        assertThat(ChannelTests.audit(daemon, "delivery"))
                .anySatisfy(e -> assertThat(e.event().details()).containsEntry("file_as", "text"));
        assertThat(ChannelTests.audit(daemon, AuditActions.FILE_SEND)).hasSize(1);
    }
}
