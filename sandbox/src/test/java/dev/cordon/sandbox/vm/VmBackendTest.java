package dev.cordon.sandbox.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.core.sandbox.SandboxSpec.Mount;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The microVM backend end to end on this host: a real QEMU boots the host's kernel (emulated where
 * KVM cannot boot it), and the command runs under bubblewrap inside.
 */
class VmBackendTest {
    static final int UID = 200_095;

    @TempDir
    Path host;

    @Test
    void aCommandRunsAsItsUidUnderBubblewrapInTheGuestAndWritesOnlyItsWorkspace() throws Exception {
        SandboxBackend backend = Vm.backend(host.resolve("cache"));
        assertThat(backend.isolation()).isEqualTo(Isolation.VM);
        Path workspace = workspace();
        Path log = host.resolve("log/vm.log");
        try (Sandbox sandbox = backend.start(spec(
                "vm-cmd",
                List.of(new Mount(workspace, "/workspace", Mode.READ_WRITE)),
                "id -u; uname -r; echo written > /workspace/out; touch /usr/x 2>&1; ip -o link; exit 3",
                log))) {
            assertThat(sandbox.exit().get(120, TimeUnit.SECONDS))
                    .as(Files.readString(log))
                    .isEqualTo(3);
        }
        String out = Files.readString(log);
        assertThat(out)
                .contains(Integer.toString(UID))
                .contains("Read-only file system")
                .contains("1: lo:");
        assertThat(out).doesNotContain("2: ");
        assertThat(workspace.resolve("out")).as(out).hasContent("written");
        assertThat(Files.getAttribute(workspace.resolve("out"), "unix:uid", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(UID);
    }

    /** As root (as on CI), QEMU runs as the sandbox's uid once it has opened its files. */
    @Test
    void theRunnersSocketReachesTheHostOverVirtioSerialForExactlyOneConnection() throws Exception {
        SandboxBackend backend = Vm.backend(host.resolve("cache"));
        Path runDir = Files.createDirectories(host.resolve("run"));
        Path socket = runDir.resolve("host.sock");
        Path log = host.resolve("log/chan.log");
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(socket));
            Files.setAttribute(socket, "unix:uid", UID);
            try (Sandbox sandbox = backend.start(spec(
                    "vm-chan",
                    List.of(
                            new Mount(runDir, "/run/cordon", Mode.READ_ONLY),
                            new Mount(workspace(), "/workspace", Mode.READ_WRITE)),
                    "echo hello-host | socat -t5 - UNIX-CONNECT:/run/cordon/host.sock;"
                            + " if socat -T1 - UNIX-CONNECT:/run/cordon/host.sock </dev/null; then echo second-connected;"
                            + " else echo second-refused; fi",
                    log))) {
                try (SocketChannel connection = listener.accept()) {
                    BufferedReader in = new BufferedReader(
                            new InputStreamReader(Channels.newInputStream(connection), StandardCharsets.UTF_8));
                    assertThat(in.readLine()).isEqualTo("hello-host");
                    // QEMU connected before the guest started, as root; since then it runs as the
                    // sandbox's uid under its own seccomp filter.
                    String qemu = qemuStatus("cordon-vm-chan");
                    assertThat(qemu).containsPattern("(?m)^Uid:\\s+" + UID + "\\s+" + UID + "\\s+" + UID);
                    assertThat(qemu).containsPattern("(?m)^Seccomp:\\s+2$");
                    // While it runs, the host's view of it is QEMU's (not its wrapper's): a guest's worth of memory.
                    assertThat(sandbox.usage())
                            .hasValueSatisfying(u -> assertThat(u.memoryBytes()).isGreaterThan(32L << 20));
                    OutputStream out = Channels.newOutputStream(connection);
                    out.write("hello-guest\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    assertThat(sandbox.exit().get(120, TimeUnit.SECONDS))
                            .as(Files.readString(log))
                            .isZero();
                }
            }
        }
        assertThat(Files.readString(log)).contains("hello-guest", "second-refused");
    }

    /** {@code /proc/<pid>/status} of this JVM's QEMU named {@code name} (not of the wrapper it runs under). */
    private static String qemuStatus(String name) throws Exception {
        ProcessHandle qemu = ProcessHandle.current()
                .descendants()
                .filter(p -> p.info().command().orElse("").endsWith("/qemu-system-x86_64"))
                .filter(p -> p.info().commandLine().orElse("").contains("-name " + name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no QEMU process named " + name));
        return Files.readString(Path.of("/proc", Long.toString(qemu.pid()), "status"));
    }

    private Path workspace() throws Exception {
        Path workspace = Files.createDirectories(host.resolve("workspace"));
        Files.setPosixFilePermissions(host, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setAttribute(workspace, "unix:uid", UID);
        Files.setAttribute(workspace, "unix:gid", UID);
        return workspace;
    }

    private static SandboxSpec spec(String id, List<Mount> mounts, String script, Path log) {
        return new SandboxSpec(
                id,
                mounts,
                List.of("/bin/bash", "-c", script),
                Map.of("PATH", "/usr/bin:/bin"),
                UID,
                UID,
                "cordon",
                "/workspace",
                log,
                Limits.DEFAULTS);
    }
}
