package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditActions;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A folder of one agent's workspace lent read-only to another, attacked from inside the reader's
 * real sandbox: it can read the folder, cannot write to it, and sees nothing else of the owner's.
 */
class SharingEndToEndTest extends DaemonTestBase {

    @Test
    void theReaderSeesOnlyTheSharedFolderCannotWriteToItAndLosesItAtItsNextSandboxAfterUnshare() throws Exception {
        Path ownerWorkspace = home.resolve("agents/main/workspace");
        Files.createDirectories(ownerWorkspace.resolve("reports"));
        Files.writeString(ownerWorkspace.resolve("reports/q3.txt"), "Q3 revenue: 42\n");
        Files.writeString(ownerWorkspace.resolve("secret-plans.txt"), "MAIN-PRIVATE\n");
        Files.createDirectories(home.resolve("agents/sales"));
        startDaemon();

        assertThat(request(new ControlRequest.AgentsShare("main", "../main", "sales", false)))
                .isInstanceOf(ControlEvent.Failure.class);
        assertThat(request(new ControlRequest.AgentsShare("main", "reports", "sales", false)))
                .isInstanceOf(ControlEvent.Done.class);

        model.enqueue(
                bash("cat /shared/main/reports/q3.txt"),
                bash("echo tampered > /shared/main/reports/q3.txt; echo rc=$?"),
                bash("touch /shared/main/reports/new.txt; mkdir /shared/main/reports/sub; echo rc=$?"),
                bash("ls -A /shared/main; echo --; ls -A /workspace"),
                bash("find / -xdev -name 'secret-plans*' 2>/dev/null; grep -rs MAIN-PRIVATE /shared /workspace /tmp;"
                        + " echo searched"),
                Scripted.text("checked"));
        assertThat(ask("sales", "Look at the reports.")).isEqualTo("checked");

        List<String> results = model.requests().stream()
                .skip(1)
                .limit(5)
                .map(r -> lastToolResult(r.body().toString()))
                .toList();
        assertThat(results.get(0)).contains("Q3 revenue: 42");
        assertThat(results.get(1)).contains("Read-only file system").contains("rc=1");
        assertThat(results.get(2)).contains("Read-only file system").doesNotContain("rc=0");
        assertThat(results.get(3)).contains("reports\\n--").doesNotContain("secret-plans");
        assertThat(results.get(4))
                .contains("searched")
                .doesNotContain("secret-plans.txt")
                .doesNotContain("MAIN-PRIVATE\\n");
        assertThat(Files.readString(ownerWorkspace.resolve("reports/q3.txt"))).isEqualTo("Q3 revenue: 42\n");
        assertThat(ownerWorkspace.resolve("reports/new.txt")).doesNotExist();

        assertThat(request(new ControlRequest.AgentsShare("main", "reports", "sales", true)))
                .isInstanceOf(ControlEvent.Done.class);
        ControlEvent.SessionListing listing = (ControlEvent.SessionListing) request(new ControlRequest.SessionsList(0));
        long live = listing.sessions().stream()
                .filter(s -> s.agent().equals("sales"))
                .findFirst()
                .orElseThrow()
                .session();
        assertThat(request(new ControlRequest.SessionsKill(live))).isInstanceOf(ControlEvent.Done.class);
        model.enqueue(bash("ls /shared/main/reports; echo rc=$?"), Scripted.text("gone"));
        assertThat(ask("sales", "Look again.")).isEqualTo("gone");
        assertThat(lastToolResult(model.requests().getLast().body().toString()))
                .contains("No such file or directory")
                .doesNotContain("q3.txt");

        assertThat(audited(AuditActions.SHARE_GRANT)).singleElement().satisfies(e -> {
            assertThat(e.agent().value()).isEqualTo("sales");
            assertThat(e.details()).containsEntry("mount", "/shared/main/reports");
        });
        assertThat(audited(AuditActions.SHARE_REVOKE)).hasSize(1);
    }

    private static Scripted bash(String command) {
        return Scripted.toolCall(
                "bash", "{\"command\":\"" + command.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}");
    }

    /** The body from its last tool result on: what the model was told the last command printed. */
    private static String lastToolResult(String body) {
        int at = body.lastIndexOf("tool_result");
        return at < 0 ? body : body.substring(at);
    }
}
