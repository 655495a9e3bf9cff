package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.AgentName;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.IrcUser;
import dev.cordon.testkit.Ngircd;
import dev.cordon.testkit.Ports;
import dev.cordon.testkit.Scripted;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * IRC end to end: a real ngircd on loopback, a real daemon with the IRC channel enabled in
 * cordon.yaml, the agent in a real bubblewrap sandbox, the fake model. People on IRC are raw
 * clients ({@link IrcUser}).
 */
class IrcEndToEndTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final String SERVER_PASSWORD = "irc-server-password";

    @TempDir
    Path home;

    @TempDir
    Path ircDir;

    Ngircd irc;
    FakeModelServer model;
    Daemon daemon;
    final List<IrcUser> users = new ArrayList<>();

    /** Tags a test whose host may run one sandbox at a time ({@code sandbox.max_live: 1}). */
    static final String ONE_SANDBOX = "one-sandbox";

    /** Tags a test whose daemon serves file links: its HTTP server on {@link #webPort}, named as {@code files.public_url}. */
    static final String FILE_LINKS = "file-links";

    int webPort;

    @BeforeEach
    void start(TestInfo test) throws Exception {
        // The server wants a password: the daemon takes it from the vault, named in cordon.yaml.
        irc = Ngircd.start(ircDir, SERVER_PASSWORD);
        Home h = new Home(home);
        Vault.open(h.vault(), h.vaultKey())
                .put("IRC_PASSWORD", SERVER_PASSWORD.getBytes(StandardCharsets.UTF_8), List.of());
        model = FakeModelServer.start();
        Files.writeString(
                home.resolve("cordon.yaml"),
                """
                channels:
                  irc:
                    server: 127.0.0.1
                    port: %d
                    tls: false
                    nick: cordonbot
                    channels: ["#cordon"]
                    password_secret: IRC_PASSWORD
                """.formatted(irc.port())
                        + (test.getTags().contains(ONE_SANDBOX) ? "sandbox:\n  max_live: 1\n" : "")
                        + (test.getTags().contains(FILE_LINKS) ? fileLinks() : ""));
        daemon = EndToEndTest.startOn(home, model);
    }

    private String fileLinks() throws java.io.IOException {
        webPort = Ports.free();
        return "http: {enabled: true, host: 127.0.0.1, port: %d}\nfiles: {public_url: 'http://127.0.0.1:%d', link_hours: 2}\n"
                .formatted(webPort, webPort);
    }

    @AfterEach
    void stop() throws Exception {
        for (IrcUser u : users) {
            u.close();
        }
        if (daemon != null) {
            daemon.close();
        }
        model.close();
        irc.close();
    }

    /** {@code nick} in #cordon, once the bot is there too. */
    IrcUser inChannel(String nick) throws Exception {
        IrcUser user = IrcUser.connect(irc.host(), irc.port(), nick, SERVER_PASSWORD);
        users.add(user);
        user.join("#cordon");
        user.awaitMember("#cordon", "cordonbot", WAIT);
        return user;
    }

    /** Wires #cordon to agent main the way a person does: a pairing code said in the channel. */
    void pair(IrcUser user) throws Exception {
        String code;
        try (ControlClient owner = new ControlClient(daemon.controlSocket())) {
            owner.send(new ControlRequest.Pair("main"));
            code = owner.await(ControlEvent.PairingCode.class).code();
        }
        user.say("#cordon", code);
        assertThat(user.await(s -> s.from().equals("cordonbot"), WAIT).text()).containsIgnoringCase("main");
    }

    ControlEvent control(ControlRequest request) throws Exception {
        return ChannelTests.control(daemon, request);
    }

    List<AuditEntry> audit(String action) {
        return ChannelTests.audit(daemon, action);
    }

    @Test
    void aMentionInAWiredChannelIsAnsweredOnIrcByTheSandboxedAgent() throws Exception {
        IrcUser alice = inChannel("alice");
        pair(alice);
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo uid=$(id -u) host=$(cat /etc/hostname)\"}"),
                Scripted.text("Hello from the sandbox."));

        alice.say("#cordon", "just chatting among ourselves");
        alice.say("#cordon", "cordonbot: hello agent");

        IrcUser.Said reply = alice.await(s -> s.from().equals("cordonbot"), WAIT);
        assertThat(reply.target()).isEqualTo("#cordon");
        assertThat(reply.text()).isEqualTo("Hello from the sandbox.");
        String firstCall = model.requests().getFirst().body().get("messages").toString();
        assertThat(firstCall).contains("hello agent").doesNotContain("just chatting", "cordonbot:");
        assertThat(EndToEndTest.toolResults(model.requests().get(1)).getFirst())
                .contains("host=cordon")
                .doesNotContain("uid=0 ");
        assertThat(audit("delivery"))
                .anySatisfy(e -> assertThat(e.event().details()).containsEntry("channel", "irc"));
    }

    @Test
    @Tag(ONE_SANDBOX)
    void aChatWaitingForASandboxSlotIsToldOnIrcThatItIsQueued() throws Exception {
        IrcUser alice = inChannel("alice");
        pair(alice);
        // The owner's terminal chat takes the host's one slot: its turn runs a command that waits
        // for a file the test creates once the IRC chat has been told it is queued.
        Path gate = new Home(home).workspace(new AgentName("main")).resolve("go");
        model.enqueue(
                Scripted.toolCall("bash", EndToEndTest.json("while [ ! -e go ]; do sleep 0.1; done; echo released")),
                Scripted.text("terminal answer"),
                Scripted.text("irc answer"));
        CompletableFuture<ControlEvent.Reply> terminal = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (ControlClient owner = new ControlClient(daemon.controlSocket())) {
                terminal.complete(owner.ask("main", "hello"));
            } catch (Exception | AssertionError e) {
                terminal.completeExceptionally(e);
            }
        });
        await().atMost(WAIT).until(() -> !model.requests().isEmpty());

        alice.say("#cordon", "cordonbot: are you there?");

        IrcUser.Said notice = alice.await(s -> s.from().equals("cordonbot"), WAIT);
        assertThat(notice.target()).isEqualTo("#cordon");
        assertThat(notice.text()).startsWith("queued: every sandbox slot of this host is in use");
        ControlEvent.SessionListing listing = (ControlEvent.SessionListing) control(new ControlRequest.SessionsList(0));
        assertThat(listing.sessions())
                .extracting(ControlEvent.SessionRow::state)
                .contains("busy", "queued");
        // The terminal's turn ends; its idle sandbox makes room, and the waiting chat is answered once.
        Files.writeString(gate, "");
        assertThat(terminal.get(WAIT.toSeconds(), TimeUnit.SECONDS).text()).isEqualTo("terminal answer");
        assertThat(alice.await(s -> s.from().equals("cordonbot"), WAIT).text()).isEqualTo("irc answer");
        assertThat(alice.drain(Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void aLongReplyArrivesAsSeveralIrcLines() throws Exception {
        IrcUser alice = inChannel("alice");
        pair(alice);
        String answer =
                "Cordon splits long replies at the IRC line limit. ".repeat(20).strip();
        model.enqueue(Scripted.text(answer));

        alice.say("#cordon", "cordonbot: tell me a lot");

        List<String> lines = new ArrayList<>();
        while (String.join(" ", lines).length() < answer.length()) {
            lines.add(alice.await(s -> s.from().equals("cordonbot"), WAIT).text());
        }
        assertThat(lines).hasSizeGreaterThan(1);
        assertThat(String.join(" ", lines)).isEqualTo(answer);
    }

    @Test
    void anUnknownSenderInAStrictChatIsDroppedAndAudited() throws Exception {
        IrcUser alice = inChannel("alice");
        pair(alice);
        IrcUser mallory = inChannel("mallory");

        mallory.say("#cordon", "cordonbot: run rm -rf / for me");

        AuditEntry dropped = ChannelTests.awaitDropped(daemon, "irc:mallory", WAIT);
        assertThat(dropped.event().rule()).isEqualTo("sender_policy strict");
        assertThat(dropped.event().details()).containsEntry("chat", "#cordon");
        assertThat(model.requests()).isEmpty();
    }

    @Test
    void anUnknownSenderInAnApprovalChatIsHeldForTheOwnerToDecide() throws Exception {
        IrcUser alice = inChannel("alice");
        pair(alice);
        assertThat(control(new ControlRequest.ChatsPolicy("irc:#cordon", "approval")))
                .isInstanceOf(ControlEvent.Done.class);
        IrcUser mallory = inChannel("mallory");

        mallory.say("#cordon", "cordonbot: may I?");

        ControlEvent.SenderRow request = ChannelTests.firstSenderRequest(daemon, WAIT);
        assertThat(request.sender()).isEqualTo("irc:mallory");
        assertThat(request.chat()).isEqualTo("irc:#cordon");
        assertThat(request.agent()).isEqualTo("main");
        assertThat(request.state()).isEqualTo("pending");
        assertThat(request.held()).isEqualTo(1);
        assertThat(model.requests()).isEmpty();

        // Once the owner admits the sender, the held message reaches the agent and is answered on IRC.
        model.enqueue(Scripted.text("Welcome, mallory."));
        assertThat(control(new ControlRequest.SendersAdmit(request.id()))).isInstanceOf(ControlEvent.Done.class);
        assertThat(mallory.await(s -> s.from().equals("cordonbot"), WAIT).text())
                .isEqualTo("Welcome, mallory.");
    }

    @Test
    void whenTheServerDropsTheBotMidTurnTheReplyArrivesOnceAfterItReconnects() throws Exception {
        IrcUser alice = inChannel("alice");
        pair(alice);
        model.enqueue(Scripted.text("Still here after the drop.").stallBefore(Duration.ofSeconds(3)));

        alice.say("#cordon", "cordonbot: are you still there?");
        await().atMost(WAIT).until(() -> !model.requests().isEmpty());
        // An IRC operator cuts the bot's connection while its turn is running.
        alice.send("OPER " + Ngircd.OPERATOR + " " + Ngircd.OPERATOR_PASSWORD);
        alice.send("KILL cordonbot :testing a dropped connection");

        IrcUser.Said reply = alice.await(s -> s.from().startsWith("cordonbot"), WAIT);
        assertThat(reply.text()).isEqualTo("Still here after the drop.");
        assertThat(alice.raw()).anyMatch(l -> l.startsWith(":cordonbot!") && l.contains(" QUIT "));
        assertThat(alice.drain(Duration.ofSeconds(2))).isEmpty();
        assertThat(audit("delivery"))
                .filteredOn(e -> e.event().decision() == AuditEvent.Decision.ALLOW)
                .filteredOn(e -> "irc".equals(e.event().details().get("channel")))
                .hasSize(2); // the pairing confirmation and this reply, each once
    }

    @Test
    void aReplyToSomeoneWhoLeftIsReportedAsFailedAndNotMarkedDelivered() throws Exception {
        IrcUser bob = IrcUser.connect(irc.host(), irc.port(), "bob", SERVER_PASSWORD);
        String code = ((ControlEvent.PairingCode) control(new ControlRequest.Pair("main"))).code();
        bob.say("cordonbot", code);
        bob.await(s -> s.from().equals("cordonbot"), WAIT);
        model.enqueue(Scripted.text("You will never read this.").stallBefore(Duration.ofSeconds(2)));

        bob.say("cordonbot", "answer me later");
        await().atMost(WAIT).until(() -> !model.requests().isEmpty());
        bob.close();

        AuditEntry failed = ChannelTests.awaitGivenUp(daemon, WAIT);
        assertThat(failed.event().reason()).contains("401").contains("bob");
        assertThat(failed.event().details()).containsEntry("given_up", true);
        // Never marked delivered, and given up on: it does not hold up the chat's later replies.
        assertThat(audit("delivery"))
                .filteredOn(e -> e.event().decision() == AuditEvent.Decision.ALLOW)
                .noneMatch(e -> e.event()
                        .details()
                        .get("outbound")
                        .equals(failed.event().details().get("outbound")));
        // The audit entry is written just before the outbox row is given up on: wait for both.
        await().atMost(WAIT)
                .untilAsserted(() -> assertThat(
                                ((ControlEvent.StatusReport) control(new ControlRequest.Status())).undeliveredReplies())
                        .isZero());
    }

    @Test
    void aHostileAgentsReplyCannotMakeTheBotSendIrcCommands() throws Exception {
        IrcUser alice = inChannel("alice");
        pair(alice);
        IrcUser watcher = IrcUser.connect(irc.host(), irc.port(), "watcher", SERVER_PASSWORD);
        users.add(watcher);
        watcher.join("#elsewhere");
        model.enqueue(Scripted.text("fine\r\nJOIN #elsewhere\r\nPRIVMSG #elsewhere :spam\u0001ACTION x\u0001"));

        alice.say("#cordon", "cordonbot: say something");

        assertThat(alice.await(s -> s.from().equals("cordonbot"), WAIT).text()).isEqualTo("fine");
        assertThat(alice.await(s -> s.from().equals("cordonbot"), WAIT).text()).isEqualTo("JOIN #elsewhere");
        assertThat(alice.await(s -> s.from().equals("cordonbot"), WAIT).text())
                .isEqualTo("PRIVMSG #elsewhere :spamACTION x");
        // Whatever the agent wrote went to #cordon as text: the bot never joined or spoke elsewhere.
        assertThat(watcher.drain(Duration.ofSeconds(1))).isEmpty();
        assertThat(watcher.raw()).noneMatch(l -> l.startsWith(":cordonbot"));
    }

    @Test
    @Tag(FILE_LINKS)
    void aFileArrivesAsALinkThatServesItsBytesAndAnAlteredLinkServesNothing() throws Exception {
        IrcUser alice = inChannel("alice");
        pair(alice);
        model.enqueue(
                Scripted.toolCall("bash", EndToEndTest.json("printf 'line one\\nline two\\n' > /workspace/notes.txt")),
                Scripted.toolCall("send_file", "{\"path\":\"notes.txt\"}"),
                Scripted.text("There you go."));

        alice.say("#cordon", "cordonbot: send me the notes");

        IrcUser.Said link =
                alice.await(s -> s.from().equals("cordonbot") && s.text().contains("/files/"), WAIT);
        assertThat(link.text())
                .startsWith("File notes.txt (18 bytes), for 2 h: http://127.0.0.1:" + webPort + "/files/");
        assertThat(alice.await(s -> s.from().equals("cordonbot"), WAIT).text()).isEqualTo("There you go.");
        java.net.URI url = java.net.URI.create(link.text().substring(link.text().indexOf("http://")));
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.http.HttpResponse<byte[]> got = http.send(
                java.net.http.HttpRequest.newBuilder(url).build(),
                java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(new String(got.body(), StandardCharsets.UTF_8)).isEqualTo("line one\nline two\n");
        assertThat(got.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
        assertThat(got.headers().firstValue("Content-Disposition")).hasValue("attachment; filename*=UTF-8''notes.txt");
        String[] parts = url.getPath().split("/");
        parts[4] = parts[4].substring(0, 10) + (parts[4].charAt(10) == 'A' ? 'B' : 'A') + parts[4].substring(11);
        java.net.http.HttpResponse<String> forged = http.send(
                java.net.http.HttpRequest.newBuilder(url.resolve(String.join("/", parts)))
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(forged.statusCode()).isEqualTo(404);
        assertThat(forged.body()).contains("unknown or has expired");
        assertThat(audit("delivery"))
                .anySatisfy(e -> assertThat(e.event().details()).containsEntry("file_as", "text"));
        assertThat(audit(dev.cordon.core.audit.AuditActions.FILE_SEND)).hasSize(1);
    }
}
