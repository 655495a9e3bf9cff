package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The walking skeleton end to end: a real daemon, real SQLite, a real bubblewrap sandbox running
 * the real runner, and the fake model server speaking the Anthropic wire format.
 */
class EndToEndTest {
    static final Path RUNNER_LIB =
            Path.of("../runner/target/lib").toAbsolutePath().normalize();

    /** A daemon on {@code home} whose model is the fake {@code model} (Anthropic API, its default model). */
    static Daemon startOn(Path home, FakeModelServer model) throws IOException {
        return Daemon.start(
                home,
                Map.of(
                        "ANTHROPIC_API_KEY",
                        "sk-ant-test",
                        "ANTHROPIC_BASE_URL",
                        model.baseUrl().toString()),
                RUNNER_LIB);
    }

    @TempDir
    Path home;

    FakeModelServer model;
    Daemon daemon;
    String apiKey;

    @BeforeEach
    void start() throws IOException {
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        apiKey = "sk-ant-api03-" + HexFormat.of().formatHex(random) + "-TESTKEY";
        model = FakeModelServer.start();
        model.requireApiKey(apiKey);
        daemon = startDaemon();
    }

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
        }
        model.close();
    }

    Daemon startDaemon() throws IOException {
        return Daemon.start(
                home,
                Map.of(
                        "ANTHROPIC_API_KEY",
                        apiKey,
                        "ANTHROPIC_BASE_URL",
                        model.baseUrl().toString()),
                RUNNER_LIB);
    }

    ControlEvent.Reply ask(String text) throws Exception {
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            ControlEvent.Reply reply = client.ask("main", text);
            lastDeltas = client.seen.stream()
                    .filter(e -> e instanceof ControlEvent.Delta)
                    .map(e -> ((ControlEvent.Delta) e).text())
                    .collect(java.util.stream.Collectors.joining());
            return reply;
        }
    }

    String lastDeltas = "";

    @Test
    void agentRunsBashInsideTheSandboxAsAnUnprivilegedUserWithoutHostPaths() throws Exception {
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"id -u && cat /etc/hostname && ls /\"}"),
                Scripted.text("All done."));

        ControlEvent.Reply reply = ask("who are you and where?");

        assertThat(reply.failed()).as(reply.text()).isFalse();
        assertThat(reply.text()).isEqualTo("All done.");
        String output = toolResults(model.requests().get(1)).getFirst();
        List<String> lines = output.lines().toList();
        assertThat(Integer.parseInt(lines.get(0).strip())).isPositive();
        assertThat(lines.get(1).strip()).isEqualTo("cordon");
        List<String> root =
                lines.subList(2, lines.size()).stream().map(String::strip).toList();
        assertThat(root).contains("workspace", "usr", "tmp", "proc");
        assertThat(root).doesNotContain("root", "home", "work", "var", "srv", "mnt", "opt-host");
        assertThat(output).doesNotContain(home.toString());
    }

    @Test
    void fileWrittenInOneTurnIsReadBackInTheNextAndLivesInTheAgentsWorkspace() throws Exception {
        model.enqueue(
                Scripted.toolCall("write", "{\"path\":\"notes/plan.txt\",\"content\":\"ship the skeleton\\n\"}"),
                Scripted.text("Saved."),
                Scripted.toolCall("read", "{\"path\":\"notes/plan.txt\"}"),
                Scripted.text("It says: ship the skeleton"));

        assertThat(ask("save my plan").text()).isEqualTo("Saved.");
        assertThat(ask("what was my plan?").text()).isEqualTo("It says: ship the skeleton");

        assertThat(toolResults(model.requests().get(3))).last().asString().contains("ship the skeleton");
        assertThat(home.resolve("agents/main/workspace/notes/plan.txt")).hasContent("ship the skeleton\n");
    }

    @Test
    void noSecretIsVisibleAnywhereInsideTheSandbox() throws Exception {
        // A canary planted in the workspace proves the scan finds what is there.
        Files.createDirectories(home.resolve("agents/main/workspace"));
        String canary = "canary-" + UUID.randomUUID();
        Files.writeString(home.resolve("agents/main/workspace/canary.txt"), canary);
        model.enqueue(Scripted.toolCall("bash", json(scan(apiKey, canary))), Scripted.text("Scanned."));

        assertThat(ask("scan yourself").text()).isEqualTo("Scanned.");

        List<RecordedRequest> requests = model.requests();
        String scan = toolResults(requests.get(1)).getFirst();
        assertThat(scan).contains("SCAN-DONE").contains("env-and-proc-hits: 0");
        // Every file visible inside was searched for the key and the canary: only the canary is found.
        assertThat(scan.lines().filter(l -> l.startsWith("/"))).containsExactly("/workspace/canary.txt");
        // The key did reach the provider, in the header, added by the host's gateway.
        assertThat(requests).allSatisfy(r -> assertThat(r.header("x-api-key")).contains(apiKey));
    }

    @Test
    void transcriptSurvivesADaemonRestart() throws Exception {
        model.enqueue(Scripted.text("Noted: the answer is 42."), Scripted.text("You told me 42."));
        assertThat(ask("remember: the answer is 42").text()).isEqualTo("Noted: the answer is 42.");

        daemon.close();
        daemon = startDaemon();

        assertThat(ask("what is the answer?").text()).isEqualTo("You told me 42.");
        JsonNode messages = model.requests().get(1).body().get("messages");
        List<String> texts = new ArrayList<>();
        messages.forEach(m -> texts.add(m.toString()));
        assertThat(texts.get(0)).contains("remember: the answer is 42");
        assertThat(texts.get(1)).contains("Noted: the answer is 42.");
        assertThat(texts.get(2)).contains("what is the answer?");
    }

    @Test
    void replyThatArrivesWithNoTerminalAttachedIsShownOnNextAttach() throws Exception {
        model.enqueue(Scripted.text("Here is your late reply.").stallBefore(Duration.ofMillis(300)));
        long inboundId;
        try (ControlClient sender = new ControlClient(daemon.controlSocket())) {
            sender.send(new ControlRequest.Attach("main", false));
            sender.await(ControlEvent.Attached.class);
            sender.send(new ControlRequest.Say("main", "m-1", "reply later please"));
            inboundId = sender.await(ControlEvent.Accepted.class).inboundId();
        }
        try (ControlClient console = new ControlClient(daemon.controlSocket())) {
            console.send(new ControlRequest.Attach("main", true));
            ControlEvent.Reply reply =
                    console.await(ControlEvent.Reply.class, r -> r.inReplyTo() == inboundId, Duration.ofSeconds(60));
            console.send(new ControlRequest.ReplyAck(reply.outboundId()));
            assertThat(reply.text()).isEqualTo("Here is your late reply.");
        }
    }

    @Test
    void replyIsStreamedToTheTerminalAsItIsGenerated() throws Exception {
        model.enqueue(Scripted.text("Streaming works, piece by piece.").splitInto(3));

        ControlEvent.Reply reply = ask("stream please");

        assertThat(reply.text()).isEqualTo("Streaming works, piece by piece.");
        // The word being written waits until the data-loss guard knows it is not a secret; the
        // reply brings it.
        assertThat(lastDeltas).isEqualTo("Streaming works, piece by ");
    }

    @Test
    void aCredentialInAStreamedReplyNeverReachesTheTerminalNeitherLiveNorInTheReply() throws Exception {
        String key = "AKIAIOSFODNN7EXAMPLE";
        model.enqueue(Scripted.text("Found it: " + key + " in the old config, and more text after it.")
                .splitInto(3));

        ControlEvent.Reply reply = ask("what is in the config?");

        assertThat(reply.text())
                .isEqualTo("Found it: [redacted: an AWS access key id] in the old config, and more text after it.");
        assertThat(lastDeltas)
                .startsWith("Found it: [redacted: an AWS access key id] in the old")
                .doesNotContain("AKIA");
        assertThat(reply.text()).startsWith(lastDeltas);
    }

    @Test
    void openAiCompatibleEndpointWorksEndToEnd() throws Exception {
        daemon.close();
        daemon = Daemon.start(
                home,
                Map.of(
                        "OPENAI_API_KEY",
                        apiKey,
                        "OPENAI_BASE_URL",
                        model.openAiBaseUrl().toString(),
                        "CORDON_MODEL",
                        "llama3.2"),
                RUNNER_LIB);
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo hello from $(id -u) | awk '{print $1, $2, $3}'\"}"),
                Scripted.text("Ran it."));

        assertThat(ask("run something").text()).isEqualTo("Ran it.");

        RecordedRequest second = model.requests().get(1);
        assertThat(second.path()).isEqualTo("/v1/chat/completions");
        assertThat(second.header("authorization")).contains("Bearer " + apiKey);
        assertThat(second.body().get("model").asString()).isEqualTo("llama3.2");
        assertThat(second.body().toString()).contains("hello from");
    }

    @Test
    void aTurnCutShortByStoppingTheDaemonIsRedoneAfterRestart() throws Exception {
        model.enqueue(
                Scripted.text("This reply never arrives.").stallBefore(Duration.ofSeconds(20)),
                Scripted.text("Done after the restart."));
        long inboundId;
        try (ControlClient sender = new ControlClient(daemon.controlSocket())) {
            sender.send(new ControlRequest.Attach("main", false));
            sender.await(ControlEvent.Attached.class);
            sender.send(new ControlRequest.Say("main", "m-1", "a long task"));
            inboundId = sender.await(ControlEvent.Accepted.class).inboundId();
            for (int i = 0; i < 3_000 && model.requests().isEmpty(); i++) {
                Thread.sleep(10);
            }
            assertThat(model.requests()).hasSize(1);
        }

        daemon.close();
        daemon = startDaemon();

        try (ControlClient console = new ControlClient(daemon.controlSocket())) {
            console.send(new ControlRequest.Attach("main", true));
            ControlEvent.Reply reply =
                    console.await(ControlEvent.Reply.class, r -> r.inReplyTo() == inboundId, Duration.ofSeconds(60));
            assertThat(reply.failed()).isFalse();
            assertThat(reply.text()).isEqualTo("Done after the restart.");
            assertThat(console.seen).noneMatch(e -> e instanceof ControlEvent.Reply r && r.failed());
        }
    }

    @Test
    void aMemoryBombKillsOnlyItsOwnSandboxAndTheSessionIsToldWhy() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), "sandbox:\n  memory_mb: 96\n");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"x=a; while true; do x=$x$x; done\"}"),
                Scripted.text("Recovered."));

        ControlEvent.Reply bombed = ask("allocate everything");

        assertThat(bombed.failed()).isTrue();
        assertThat(bombed.text()).contains("went over its memory limit");
        assertThat(ask("still there?").text()).isEqualTo("Recovered.");
    }

    @Test
    void anInvalidAgentPolicyFailsClosedWithTheFileAndField() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), "sandbox:\n  memory_mb: lots\n");

        ControlEvent.Reply reply = ask("hello");

        assertThat(reply.failed()).isTrue();
        assertThat(reply.text()).contains("policy.yaml").contains("sandbox.memory_mb");
        assertThat(model.requests()).isEmpty();
    }

    @Test
    void anInvalidPolicyEditKeepsTheLastValidVersionInForceAndEveryVersionIsKeptAndAudited() throws Exception {
        Path policy = home.resolve("agents/main/policy.yaml");
        Files.writeString(policy, "sandbox:\n  memory_mb: 512\n");
        model.enqueue(Scripted.text("one"), Scripted.text("two"), Scripted.text("three"));
        assertThat(ask("first").text()).isEqualTo("one");

        Files.writeString(policy, "sandbox:\n  memory_mb: lots\n");
        ControlEvent.Reply second = ask("second");
        assertThat(second.failed()).as(second.text()).isFalse();
        assertThat(second.text()).isEqualTo("two");

        Files.writeString(policy, "sandbox:\n  memory_mb: 256\n");
        assertThat(ask("third").text()).isEqualTo("three");

        try (var kept = Files.list(home.resolve("policies/main"))) {
            assertThat(kept.map(p -> p.getFileName().toString()).sorted().toList())
                    .hasSize(2)
                    .satisfies(names -> {
                        assertThat(names.get(0)).startsWith("1-");
                        assertThat(names.get(1)).startsWith("2-");
                    });
        }
        List<dev.cordon.core.audit.AuditEvent> changes = daemon.audit().read(0, 1_000).stream()
                .map(dev.cordon.core.audit.AuditEntry::event)
                .filter(e -> e.action().equals("policy.change"))
                .toList();
        assertThat(changes)
                .extracting(e -> e.decision().label() + " " + e.details())
                .hasSize(3)
                .satisfies(lines -> {
                    assertThat(lines.get(0)).startsWith("allow").contains("version=1");
                    assertThat(lines.get(1)).startsWith("deny").contains("in_force=1");
                    assertThat(lines.get(2)).startsWith("allow").contains("version=2");
                });
        assertThat(changes.get(1).reason()).contains("policy.yaml", "sandbox.memory_mb");
    }

    @Test
    void policyCheckValidatesAFileWithoutApplyingIt() throws Exception {
        Path good = Files.writeString(home.resolve("good.yaml"), "sandbox:\n  pids: 64\n  disk_mb: 1024\n");
        Path bad = Files.writeString(home.resolve("bad.yaml"), "sandbox:\n  pids: -1\n");

        assertThat(Main.policy(home, List.of("check", good.toString()))).isZero();
        assertThat(Main.policy(home, List.of("check", bad.toString()))).isEqualTo(1);
        assertThat(Main.policy(home, List.of("check"))).isEqualTo(2);
        assertThat(home.resolve("policies")).doesNotExist();
    }

    @Test
    void anAllowlistedFolderIsMountedReadOnlyAndACredentialFolderIsRefused() throws Exception {
        Path shared = Files.createDirectories(home.getParent().resolve(home.getFileName() + "-shared/reports"));
        Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(shared.resolve("q3.txt"), "revenue up\n");
        Files.createDirectories(shared.resolve(".ssh"));
        Files.writeString(
                home.resolve("cordon.yaml"), "sandbox:\n  mount_allowlist:\n    - {path: " + shared + ", mode: ro}\n");
        Files.writeString(
                home.resolve("agents/main/policy.yaml"),
                "sandbox:\n  mounts:\n    - {host: " + shared.resolve("q3.txt") + ", target: /mnt/q3.txt, mode: ro}\n");
        daemon.close();
        daemon = startDaemon();
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"cat /mnt/q3.txt; echo x >> /mnt/q3.txt\"}"),
                Scripted.text("Read it."));

        assertThat(ask("read the report").text()).isEqualTo("Read it.");
        String output = toolResults(model.requests().get(1)).getFirst();
        assertThat(output).contains("revenue up").containsAnyOf("Read-only file system", "Permission denied");
        assertThat(shared.resolve("q3.txt")).hasContent("revenue up\n");

        Files.writeString(
                home.resolve("agents/main/policy.yaml"),
                "sandbox:\n  mounts:\n    - {host: " + shared.resolve(".ssh") + ", target: /mnt/keys, mode: ro}\n");
        daemon.close();
        daemon = startDaemon();
        ControlEvent.Reply refused = ask("read the keys");
        assertThat(refused.failed()).isTrue();
        assertThat(refused.text()).contains(".ssh").contains("credentials");
    }

    @Test
    void modelErrorBecomesAFailedReplyThatSaysWhy() throws Exception {
        model.enqueue(Scripted.error(400, "invalid_request_error", "prompt is too long"));

        ControlEvent.Reply reply = ask("hello");

        assertThat(reply.failed()).isTrue();
        assertThat(reply.text()).contains("invalid_request_error").contains("prompt is too long");
    }

    @Test
    void malformedControlFrameGetsAClearFailureAndTheDaemonKeepsServing() throws Exception {
        try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            raw.connect(UnixDomainSocketAddress.of(daemon.controlSocket()));
            OutputStream out = Channels.newOutputStream(raw);
            byte[] junk = "{\"type\":\"launch_missiles\"}".getBytes(StandardCharsets.UTF_8);
            out.write(new byte[] {0, 0, 0, (byte) junk.length});
            out.write(junk);
            out.flush();
            byte[] answer = Channels.newInputStream(raw).readAllBytes();
            assertThat(new String(answer, StandardCharsets.UTF_8))
                    .contains("failure")
                    .contains("malformed");
        }
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.Status());
            ControlEvent.StatusReport status = client.await(ControlEvent.StatusReport.class);
            assertThat(status.agents()).containsExactly("main");
            assertThat(status.modelProblem()).isNull();
            assertThat(status.dashboard()).as("http: is not enabled here").isNull();
        }
    }

    /**
     * A bash command that counts {@code secret} in the environment and in every process's environ,
     * command line and mounts, then lists every file visible inside that holds {@code secret} or
     * {@code canary}. The needles arrive base64-encoded, so neither appears in a command line.
     */
    static String scan(String secret, String canary) {
        String k = Base64.getEncoder().encodeToString(secret.getBytes(StandardCharsets.UTF_8));
        String c = Base64.getEncoder().encodeToString(canary.getBytes(StandardCharsets.UTF_8));
        return "k=$(printf %s '" + k + "' | base64 -d); c=$(printf %s '" + c + "' | base64 -d); "
                + "n=$({ env; cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline /proc/[0-9]*/mountinfo /proc/self/status "
                + "2>/dev/null; } | tr '\\0' '\\n' | grep -cF -f <(printf '%s\\n' \"$k\")); "
                + "echo \"env-and-proc-hits: $n\"; "
                + "grep -rlsF -f <(printf '%s\\n%s\\n' \"$k\" \"$c\") / --exclude-dir=proc --exclude-dir=sys "
                + "--exclude-dir=dev; echo SCAN-DONE";
    }

    static String json(String command) {
        return "{\"command\":" + dev.cordon.protocol.Wire.mapper().writeValueAsString(command)
                + ",\"timeout_ms\":600000}";
    }

    /** The text of every tool_result block in an Anthropic request, in order. */
    static List<String> toolResults(RecordedRequest request) {
        List<String> results = new ArrayList<>();
        for (JsonNode message : request.body().get("messages")) {
            JsonNode content = message.get("content");
            if (content == null || !content.isArray()) {
                continue;
            }
            for (JsonNode block : content) {
                if ("tool_result".equals(block.path("type").asString())) {
                    JsonNode c = block.get("content");
                    if (c.isString()) {
                        results.add(c.asString());
                    } else {
                        StringBuilder text = new StringBuilder();
                        c.forEach(part -> text.append(part.path("text").asString()));
                        results.add(text.toString());
                    }
                }
            }
        }
        return results;
    }
}
