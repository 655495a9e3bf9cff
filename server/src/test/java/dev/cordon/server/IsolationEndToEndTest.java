package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * An agent's policy picks its wall: the real runner, started by a real daemon, runs a turn with a
 * tool call inside runc and inside gVisor (runsc), talking to the host over the same one channel;
 * a wall this host lacks refuses the agent with a message that says why.
 */
class IsolationEndToEndTest extends DaemonTestBase {
    /** What the tool prints: pid 1's command (bwrap under bubblewrap, the JVM under an OCI runtime) and the kernel. */
    static final String PROBE =
            "echo \"pid1=$(tr '\\0' ' ' < /proc/1/cmdline | cut -c1-60)\"; echo \"kernel=$(uname -r)\";"
                    + " echo \"uid=$(id -u)\"; echo hello > /workspace/hello.txt && echo \"wrote=$?\"";

    String turnIn(String policy) throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), policy);
        startDaemon();
        model.enqueue(Scripted.toolCall("bash", EndToEndTest.json(PROBE)), Scripted.text("Done."));
        assertThat(ask("where do you run?")).isEqualTo("Done.");
        return EndToEndTest.toolResults(model.requests().get(1)).getFirst();
    }

    @Test
    void anAgentWhosePolicyNamesRuncRunsItsTurnInRunc() throws Exception {
        String output = turnIn("sandbox: {backend: runc}\n");

        assertThat(output).contains("pid1=/usr/lib/jvm").doesNotContain("bwrap");
        assertThat(output).contains("kernel=" + System.getProperty("os.version"));
        assertThat(output).contains("wrote=0");
        assertThat(output).doesNotContain("uid=0\n");
        assertThat(home.resolve("agents/main/workspace/hello.txt")).hasContent("hello");
    }

    @Test
    void anAgentThatRequiresGvisorRunsItsTurnUnderGvisorsOwnKernel() throws Exception {
        String output = turnIn("sandbox: {isolation: gvisor}\n");

        assertThat(output).contains("pid1=/usr/lib/jvm");
        // gVisor's sentry answers uname itself: not the host's kernel release.
        assertThat(output).contains("kernel=").doesNotContain("kernel=" + System.getProperty("os.version"));
        assertThat(output).contains("wrote=0");
        assertThat(home.resolve("agents/main/workspace/hello.txt")).hasContent("hello");
    }

    @Test
    void anAgentThatRequiresAVmIsRefusedWithAClearMessage() throws Exception {
        Files.writeString(home.resolve("agents/main/policy.yaml"), "sandbox: {isolation: vm}\n");
        startDaemon();
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            ControlEvent.Reply reply = client.ask("main", "hello");

            assertThat(reply.failed()).isTrue();
            assertThat(reply.text())
                    .contains("agent main requires isolation vm (sandbox.isolation in its policy.yaml)")
                    .contains("no microVM backend yet");
        }
        assertThat(model.requests()).as("the model was never called").isEmpty();
    }
}
