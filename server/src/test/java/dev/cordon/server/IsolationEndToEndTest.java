package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.testkit.LocalImage;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent's policy picks its wall: the real runner, started by a real daemon, runs a turn with a
 * tool call inside runc, inside podman on an operator's image, inside gVisor (runsc) and inside a QEMU microVM, talking to the host over
 * the same one channel (a virtio-serial port for the VM). SandboxBackendsTest covers the refusals.
 */
class IsolationEndToEndTest extends DaemonTestBase {
    /** What the tool prints: pid 1's command (bwrap under bubblewrap, the JVM under an OCI runtime) and the kernel. */
    static final String PROBE =
            "echo \"pid1=$(tr '\\0' ' ' < /proc/1/cmdline | cut -c1-60)\"; echo \"kernel=$(uname -r)\";"
                    + " echo \"uid=$(id -u)\"; echo hello > /workspace/hello.txt && echo \"wrote=$?\";"
                    + " echo \"memtotal=$(awk '/MemTotal/{print $2}' /proc/meminfo)\"; echo \"cmdline=$(cat /proc/cmdline)\"";

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

    /** The image is built here with no registry ({@link LocalImage}) and removed afterwards. */
    @Test
    void anAgentWhosePolicyNamesAnImageRunsItsTurnInPodmanOnThatImage(@TempDir Path stage) throws Exception {
        String tag = "localhost/cordon-e2e:" + ProcessHandle.current().pid();
        LocalImage.build(tag, stage);
        try {
            String output = turnIn("sandbox: {backend: podman, image: " + tag + "}\n");

            assertThat(output).contains("pid1=/usr/lib/jvm").doesNotContain("bwrap");
            assertThat(output).contains("wrote=0");
            assertThat(output).doesNotContain("uid=0\n");
            assertThat(home.resolve("agents/main/workspace/hello.txt")).hasContent("hello");
        } finally {
            LocalImage.remove(tag);
        }
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

    /**
     * The guest runs the host's distribution kernel, so {@code uname -r} alone cannot tell the VM
     * from the host: the tool also shows that pid 1 is bwrap (the inner wall), and the kernel's
     * command line and memory are the guest's (the spec's 1 GiB plus the guest's overhead).
     */
    @Test
    void anAgentThatRequiresAVmRunsItsTurnInAMicroVmUnderBubblewrap() throws Exception {
        String output = turnIn("sandbox: {isolation: vm}\n");

        assertThat(output).contains("pid1=/usr/bin/bwrap").contains("cmdline=console=ttyS0 quiet");
        long memoryKib = Long.parseLong(output.replaceAll("(?s).*memtotal=(\\d+).*", "$1"));
        assertThat(memoryKib).isLessThan(2L << 20);
        assertThat(output).contains("wrote=0");
        assertThat(output).doesNotContain("uid=0\n");
        assertThat(home.resolve("agents/main/workspace/hello.txt")).hasContent("hello");
        assertThat(home.resolve("cache/vm")).isDirectoryContaining("glob:**/initramfs-*.cpio");
    }
}
