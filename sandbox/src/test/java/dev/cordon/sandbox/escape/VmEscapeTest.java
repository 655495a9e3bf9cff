package dev.cordon.sandbox.escape;

import static dev.cordon.sandbox.escape.EscapeSuite.CLONE_NEWUSER;
import static dev.cordon.sandbox.escape.EscapeSuite.MIB;
import static dev.cordon.sandbox.escape.EscapeSuite.SIGCHLD;
import static dev.cordon.sandbox.escape.EscapeSuite.UID;
import static dev.cordon.sandbox.escape.EscapeSuite.assertProbeWorks;
import static dev.cordon.sandbox.escape.EscapeSuite.assertRefused;
import static dev.cordon.sandbox.escape.EscapeSuite.getpid;
import static dev.cordon.sandbox.escape.EscapeSuite.openDirectory;
import static dev.cordon.sandbox.escape.EscapeSuite.probe;
import static dev.cordon.sandbox.escape.EscapeSuite.secret;
import static dev.cordon.sandbox.escape.EscapeSuite.writeFile;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.sandbox.escape.Inside.Result;
import dev.cordon.sandbox.vm.Vm;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The escape suite's attacks against the microVM backend, in two boots rather than one per
 * scenario. Where KVM cannot boot a kernel (this machine and CI) every boot is emulated and takes
 * seconds, up to half a minute under load: the suite's 65 scenarios, each its own VM, would add
 * many minutes to every build. So the attacks are the suite's own (its scripts, its syscall probe,
 * its assertions), gathered into one script per boot: the walls (files, network, kernel calls,
 * processes, environment), and the limits (memory and fork bombs, which must come last). What they
 * meet first is the same bubblewrap command line and seccomp filter as under {@link
 * BubblewrapEscapeTest}, which runs every scenario; what this test adds is the proof that inside
 * the guest those walls are really there, and that the guest itself shows nothing of the host or
 * of its own boot.
 */
class VmEscapeTest {
    /** The VM's cache (its initramfs), removed after the class. */
    @TempDir
    static Path cache;

    private static SandboxBackend backend;

    @TempDir
    Path host;

    @BeforeAll
    static void buildTheBackend() {
        backend = Vm.backend(cache);
    }

    @BeforeEach
    void hostDirectoryIsTraversable() throws IOException {
        Files.setPosixFilePermissions(host, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void theSuitesAttacksOnFilesNetworkKernelAndEnvironmentAllFailInsideTheGuest() throws Exception {
        Path readOnly = openDirectory(host.resolve("ro"));
        Path planted = writeFile(readOnly.resolve("writable-by-all"), "original", "rw-rw-rw-");
        String secret = secret();
        writeFile(host.resolve("elsewhere/secret.txt"), secret, "rw-------");
        try (Listener loopback = Listener.on(InetAddress.ofLiteral("127.0.0.1"))) {
            Inside inside =
                    new Inside(backend, host, UID, Limits.DEFAULTS).withProbe().mount(readOnly, "/ro", Mode.READ_ONLY);
            Result r = inside.run("""
                    cat /etc/shadow >/dev/null 2>&1; echo "shadow=$?"
                    touch /usr/cordon-x 2>/dev/null; echo "usr-write=$?"
                    echo changed 2>/dev/null >> /ro/writable-by-all; echo "ro-write=$?"
                    echo ok > /workspace/w; echo "workspace-write=$?"
                    mknod /workspace/null c 1 3 2>/dev/null; echo "mknod=$?"
                    ls /cordon >/dev/null 2>&1; echo "guest-boot=$?"
                    grep -rqs %s /workspace /ro /tmp /run /proc/cmdline; echo "secret-found=$?"
                    echo "links=$(ip -o link | wc -l)"
                    echo "routes=$(ip route 2>/dev/null | wc -l)"
                    (exec 3<>/dev/tcp/127.0.0.1/%d) 2>/dev/null; echo "host-loopback=$?"
                    dmesg >/dev/null 2>&1; echo "dmesg=$?"
                    echo "commands=$(ps -eo comm= | sort -u | tr '\\n' ' ')"
                    echo "environ=$(tr '\\0' ' ' < /proc/$$/environ)"
                    %s
                    """.formatted(
                            secret,
                            loopback.port(),
                            probe(
                                    getpid(),
                                    Syscall.MOUNT.call("mount", 0, 0, 0, 0, 0),
                                    Syscall.UNSHARE.call("unshare-newuser", CLONE_NEWUSER),
                                    Syscall.PTRACE.call("traceme", 0),
                                    Syscall.BPF.call("bpf-map-create", 0, 0, 0),
                                    Syscall.KEYCTL.call("keyctl-user-keyring", 0, -4, 1),
                                    Syscall.INIT_MODULE.call("init_module", 0, 0, 0),
                                    Syscall.SYSLOG.call("syslog-read-all", 3, 0, 0),
                                    Syscall.CLONE.call("fork", SIGCHLD))));

            assertThat(r.value("shadow")).isNotEqualTo("0");
            assertThat(r.value("usr-write")).isNotEqualTo("0");
            assertThat(r.value("ro-write"))
                    .as("a read-only share stays read-only")
                    .isNotEqualTo("0");
            assertThat(planted).hasContent("original");
            assertThat(r.value("workspace-write"))
                    .as("control: the workspace is writable")
                    .isEqualTo("0");
            assertThat(Files.getAttribute(inside.workspace().resolve("w"), "unix:uid", LinkOption.NOFOLLOW_LINKS))
                    .as("what the guest writes belongs to the sandbox's uid on the host")
                    .isEqualTo(UID);
            assertThat(r.value("mknod")).isNotEqualTo("0");
            assertThat(r.value("guest-boot"))
                    .as("the guest's own boot files are not in the sandbox")
                    .isNotEqualTo("0");
            assertThat(r.value("secret-found")).isNotEqualTo("0");
            assertThat(r.value("links")).as("no network device, only loopback").isEqualTo("1");
            assertThat(r.value("routes")).isEqualTo("0");
            assertThat(r.value("host-loopback")).isNotEqualTo("0");
            assertThat(loopback.takeConnections()).isZero();
            assertThat(r.value("dmesg")).isNotEqualTo("0");
            assertThat(r.value("commands"))
                    .as("the guest's init and the channel's bridge are outside the sandbox")
                    .doesNotContain("socat", "busybox", "qemu");
            assertThat(environment(r.value("environ"))).isEqualTo(Inside.ENV);
            assertProbeWorks(r);
            assertRefused(
                    r,
                    "mount",
                    "unshare-newuser",
                    "traceme",
                    "bpf-map-create",
                    "keyctl-user-keyring",
                    "init_module",
                    "syslog-read-all");
            assertThat(r.call("fork").succeeded()).as("control: a plain fork").isTrue();
        }
    }

    /**
     * The bombs of the suite's resource scenarios, one after the other in one guest: memory first
     * (the fork bomb's sleepers would hold every pid the memory bomb's pipeline needs).
     */
    @Test
    void aMemoryBombIsOomKilledAndAForkBombStopsAtThePidsLimitOfTheGuestsCgroup() throws Exception {
        Result r = new Inside(backend, host, UID, new Limits(64 * MIB, 64, 1000)).run("""
                head -c 8M /dev/zero | tail | wc -c
                head -c 1G /dev/zero | tail | wc -c; echo "tail=${PIPESTATUS[1]}"
                perl -e '$| = 1; for my $i (1..1000) { my $p = fork;
                  if (!defined $p) { print "fork $i failed: $!\\n"; exit 0 }
                  if (!$p) { sleep 30; exit 0 } } print "all 1000 forked\\n"'
                echo survived
                """);

        assertThat(r.output()).as("control: 8 MiB fit").contains("8388608");
        assertThat(r.value("tail")).isEqualTo("137");
        assertThat(r.output()).doesNotContain("1073741824");
        assertThat(r.oomKilled())
                .as("the host learns of the OOM kill from the guest")
                .isTrue();
        assertThat(r.output()).doesNotContain("all 1000 forked").contains("Resource temporarily unavailable");
        int forked = Integer.parseInt(r.output().replaceAll("(?s).*fork (\\d+) failed.*", "$1"));
        assertThat(forked).isLessThanOrEqualTo(64);
        assertThat(r.output()).contains("survived");
    }

    private static Map<String, String> environment(String environ) {
        Map<String, String> env = new HashMap<>();
        for (String entry : environ.trim().split(" ")) {
            int eq = entry.indexOf('=');
            if (eq > 0 && !EscapeSuite.Credentials.SHELL_VARIABLES.contains(entry.substring(0, eq))) {
                env.put(entry.substring(0, eq), entry.substring(eq + 1));
            }
        }
        return env;
    }
}
