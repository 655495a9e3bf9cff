package dev.cordon.sandbox.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon killed with SIGKILL leaves no QEMU running: neither a microVM whose guest goes on
 * without its runner (here one that only sleeps) nor a KVM probe whose boot hangs. The daemon is a
 * JVM of its own ({@link Daemon}), started on this test's class path and killed by the test; a
 * QEMU it leaves would spin on a CPU until someone killed it by hand.
 */
class QemuDiesWithTheDaemonTest {
    private static final Duration GRACE = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    private Process daemon;
    private Long leftover;

    @AfterEach
    void killWhatIsLeft() {
        if (daemon != null) {
            daemon.destroyForcibly();
        }
        if (leftover != null) {
            ProcessHandle.of(leftover).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void aMicroVmWhoseGuestIgnoresItsChannelDiesWithTheDaemon() throws Exception {
        long qemu = startDaemonAndAwaitPid("vm");
        assertThat(ProcessHandle.of(qemu).flatMap(h -> h.info().commandLine()).orElse(""))
                .as("the pid the daemon reported is its VM's QEMU")
                .contains("qemu-system-x86_64", "-name cordon-orphan-vm");
        killDaemon();
        assertGone(qemu);
    }

    @Test
    void aKvmProbeWhoseBootHangsDiesWithTheDaemon() throws Exception {
        long qemu = startDaemonAndAwaitPid("probe");
        assertThat(ProcessHandle.of(qemu)).as("the hanging probe runs").isPresent();
        killDaemon();
        assertGone(qemu);
    }

    /** Starts the daemon in {@code mode} and waits for the pid of its QEMU (or of what stands in for it). */
    private long startDaemonAndAwaitPid(String mode) throws Exception {
        Path pid = dir.resolve("qemu.pid");
        Path log = dir.resolve("daemon.log");
        daemon = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "--enable-native-access=ALL-UNNAMED",
                        "-cp",
                        System.getProperty("java.class.path"),
                        Daemon.class.getName(),
                        mode,
                        dir.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
        while (!Files.exists(pid) || Files.readString(pid).isBlank()) {
            assertThat(daemon.isAlive())
                    .as(() -> "the daemon ended early: " + read(log))
                    .isTrue();
            assertThat(Instant.now())
                    .as(() -> "no QEMU within 120 s: " + read(log))
                    .isBefore(deadline);
            Thread.sleep(50);
        }
        leftover = Long.parseLong(Files.readString(pid).strip());
        return leftover;
    }

    private void killDaemon() throws Exception {
        daemon.destroyForcibly();
        assertThat(daemon.waitFor(10, TimeUnit.SECONDS)).isTrue();
    }

    private static void assertGone(long pid) throws Exception {
        Instant deadline = Instant.now().plus(GRACE);
        Optional<ProcessHandle> left = ProcessHandle.of(pid);
        while (left.isPresent() && left.get().isAlive() && Instant.now().isBefore(deadline)) {
            Thread.sleep(50);
        }
        assertThat(left.filter(ProcessHandle::isAlive))
                .as("QEMU %d still runs %s after its daemon was killed", pid, GRACE)
                .isEmpty();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }

    /**
     * The daemon: {@code vm DIR} starts a microVM whose command sleeps and writes QEMU's pid to
     * {@code DIR/qemu.pid}; {@code probe DIR} runs the KVM probe with a QEMU that writes its pid
     * there and then hangs. Either then waits to be killed.
     */
    static final class Daemon {
        private static final int UID = 200_096;

        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[1]);
            Path pid = dir.resolve("qemu.pid");
            switch (args[0]) {
                case "vm" -> {
                    Sandbox sandbox = Vm.backend(dir.resolve("cache")).start(sleeper(dir));
                    ProcessHandle qemu = await(() -> ProcessHandle.current()
                            .descendants()
                            .filter(p -> p.info()
                                    .commandLine()
                                    .orElse("")
                                    .startsWith(VmHost.find().qemu() + " "))
                            .findFirst());
                    Files.writeString(pid, Long.toString(qemu.pid()));
                    sandbox.exit().join();
                }
                case "probe" -> {
                    VmHost real = VmHost.find();
                    Path qemu = dir.resolve("qemu-system-x86_64");
                    Files.writeString(
                            qemu,
                            "#!/bin/sh\necho $$ > '" + pid + ".part'\nmv '" + pid + ".part' '" + pid
                                    + "'\nexec sleep 600\n");
                    Files.setPosixFilePermissions(qemu, PosixFilePermissions.fromString("rwx------"));
                    Path kvm = Files.createFile(dir.resolve("kvm"));
                    VmHost hanging = new VmHost(
                            qemu,
                            real.kernel(),
                            real.kernelVersion(),
                            real.modules(),
                            real.busybox(),
                            real.bwrap(),
                            real.setpriv(),
                            real.socat(),
                            real.unshare());
                    // Blocks for the probe's full timeout; the test kills this JVM long before.
                    Accelerator.probe(hanging, kvm, kvm);
                }
                default -> throw new IllegalArgumentException("vm or probe, not " + args[0]);
            }
        }

        private static SandboxSpec sleeper(Path dir) throws Exception {
            Path workspace = Files.createDirectories(dir.resolve("workspace"));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            if (Bubblewrap.isRoot()) {
                Files.setAttribute(workspace, "unix:uid", UID);
                Files.setAttribute(workspace, "unix:gid", UID);
            }
            return new SandboxSpec(
                    "orphan-vm",
                    List.of(new SandboxSpec.Mount(workspace, "/workspace", SandboxSpec.Mode.READ_WRITE)),
                    List.of("/bin/sleep", "600"),
                    Map.of("PATH", "/usr/bin:/bin"),
                    UID,
                    UID,
                    "cordon",
                    "/workspace",
                    dir.resolve("log/vm.log"),
                    Limits.DEFAULTS);
        }

        private static ProcessHandle await(java.util.function.Supplier<Optional<ProcessHandle>> find)
                throws InterruptedException {
            for (int i = 0; i < 200; i++) {
                Optional<ProcessHandle> found = find.get();
                if (found.isPresent()) {
                    return found.get();
                }
                Thread.sleep(50);
            }
            throw new IllegalStateException("no QEMU process appeared");
        }
    }
}
