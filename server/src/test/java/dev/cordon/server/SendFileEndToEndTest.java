package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.Scripted;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code send_file} in the real daemon: the agent, in its real sandbox, lays traps in its workspace
 * (a link to a file of the host, a link to the host's root, a FIFO, a file over the limit) and asks
 * the host to send each; the host refuses every one with the reason and reads nothing of the host,
 * then sends a real file, which is kept in the home's file vault and audited with its digest.
 */
class SendFileEndToEndTest extends DaemonTestBase {

    @Test
    void theHostRefusesLinksFifosDotDotAndHugeFilesFromInsideTheSandboxAndSendsARealFile() throws Exception {
        Path canary = home.getParent().resolve("host-secret-" + System.nanoTime() + ".txt");
        Files.writeString(canary, "HOST-CANARY-7f3a9\n");
        Files.writeString(home.resolve("cordon.yaml"), "files: {max_mb: 1}\n");
        startDaemon();
        String traps = String.join(
                " && ",
                "printf 'quarterly numbers\\n' > /workspace/report.txt",
                "ln -s " + canary + " /workspace/secret.txt",
                "ln -s / /workspace/hostroot",
                "mkfifo /workspace/pipe",
                "head -c 2000000 /dev/zero > /workspace/big.bin",
                "echo traps-laid");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"" + traps.replace("\\", "\\\\") + "\"}"),
                Scripted.toolCall("send_file", "{\"path\":\"/workspace/secret.txt\"}"),
                Scripted.toolCall("send_file", "{\"path\":\"hostroot" + canary + "\"}"),
                Scripted.toolCall("send_file", "{\"path\":\"/workspace/../policy.yaml\"}"),
                Scripted.toolCall("send_file", "{\"path\":\"/etc/hostname\"}"),
                Scripted.toolCall("send_file", "{\"path\":\"pipe\"}"),
                Scripted.toolCall("send_file", "{\"path\":\"big.bin\"}"),
                Scripted.toolCall("send_file", "{\"path\":\"/workspace/report.txt\",\"caption\":\"The report.\"}"),
                Scripted.text("Sent what I could."));

        ControlEvent.Reply file;
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.send(new ControlRequest.Attach("main", true));
            client.await(ControlEvent.Attached.class);
            client.send(new ControlRequest.Say("main", "m1", "Send me the files."));
            file = client.await(
                    ControlEvent.Reply.class, r -> r.text().contains("report.txt"), Duration.ofSeconds(120));
            client.send(new ControlRequest.ReplyAck(file.outboundId()));
            ControlEvent.Reply done = client.await(
                    ControlEvent.Reply.class, r -> r.text().equals("Sent what I could."), Duration.ofSeconds(120));
            client.send(new ControlRequest.ReplyAck(done.outboundId()));
        }

        List<String> results =
                model.requests().stream().skip(2).map(r -> r.body().toString()).toList();
        assertThat(results.get(0)).contains("'/workspace/secret.txt' is a symbolic link");
        assertThat(results.get(1)).contains("'hostroot' in path").contains("is a symbolic link, not a folder");
        assertThat(results.get(2)).contains("has '..'");
        assertThat(results.get(3)).contains("is outside /workspace");
        assertThat(results.get(4)).contains("'pipe' is a special file (FIFO, socket or device)");
        assertThat(results.get(5)).contains("'big.bin' has 2000000 bytes; the limit is 1048576 bytes");
        assertThat(results.get(6)).contains("Sent report.txt (18 bytes) to this chat.");

        String sha = HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256")
                        .digest("quarterly numbers\n".getBytes(StandardCharsets.UTF_8)));
        Path kept = home.resolve("data/files").resolve(sha);
        assertThat(kept).hasContent("quarterly numbers");
        // The terminal takes no uploads: it is told where the file is on the host.
        assertThat(file.text())
                .startsWith("The report.\n\n[File report.txt (18 bytes) is on the Cordon host at " + kept);
        try (Stream<Path> vault = Files.list(home.resolve("data/files"))) {
            assertThat(vault.toList())
                    .as("nothing of the host was copied")
                    .allSatisfy(p -> assertThat(Files.readString(p, StandardCharsets.ISO_8859_1))
                            .doesNotContain("HOST-CANARY"));
        }
        assertThat(audited(AuditActions.FILE_SEND)).singleElement().satisfies(e -> {
            assertThat(e.details()).containsEntry("name", "report.txt").containsEntry("sha256", sha);
            assertThat(e.details().get("size")).hasToString("18");
        });
        assertThat(audited(AuditActions.MESSAGE_DENY)).hasSize(6).allSatisfy(e -> {
            assertThat(e.rule()).isEqualTo("files");
            assertThat(e.decision()).isEqualTo(AuditEvent.Decision.DENY);
        });
    }
}
