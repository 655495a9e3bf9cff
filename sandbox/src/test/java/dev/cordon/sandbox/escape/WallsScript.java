package dev.cordon.sandbox.escape;

import static dev.cordon.sandbox.escape.EscapeSuite.AT_FDCWD;
import static dev.cordon.sandbox.escape.EscapeSuite.CLONE_NEWUSER;
import static dev.cordon.sandbox.escape.EscapeSuite.EFAULT;
import static dev.cordon.sandbox.escape.EscapeSuite.EINVAL;
import static dev.cordon.sandbox.escape.EscapeSuite.EIO;
import static dev.cordon.sandbox.escape.EscapeSuite.REFUSED;
import static dev.cordon.sandbox.escape.EscapeSuite.SIGCHLD;
import static dev.cordon.sandbox.escape.EscapeSuite.UID;
import static dev.cordon.sandbox.escape.EscapeSuite.assertProbeWorks;
import static dev.cordon.sandbox.escape.EscapeSuite.assertRefusedWith;
import static dev.cordon.sandbox.escape.EscapeSuite.getpid;
import static dev.cordon.sandbox.escape.EscapeSuite.probe;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.sandbox.escape.Inside.Result;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The first VM boot of {@link VmEscapeTest}: the attacks of every wall scenario of {@link
 * EscapeSuite} ({@link VmEscapeTest#COVERAGE} lists them) in one script, and their assertions. Each
 * line is the suite's technique, shortened where the suite compares with things a guest cannot
 * have (host pids, a second sandbox). One control of the suite is left out: a FIFO cannot be made
 * in a workspace shared over 9p (QEMU refuses special files: "broken or compromised client").
 */
final class WallsScript {
    /** The labels of the probe's calls that must be refused (EPERM, EACCES or ENOSYS). */
    static final List<String> REFUSED_CALLS = List.of(
            "mount",
            "umount2",
            "fsopen",
            "open_tree",
            "mount_setattr",
            "unshare-newuser",
            "clone-newuser",
            "unshare-newns",
            "unshare-newnet",
            "unshare-newpid",
            "clone3",
            "keyctl-user-keyring",
            "add_key",
            "bpf-map-create",
            "bpf-prog-load",
            "init_module",
            "finit_module",
            "delete_module",
            "kexec_load",
            "kexec_file_load",
            "perf_event_open",
            "userfaultfd-user-mode",
            "io_uring_setup",
            "setns-net",
            "setns-mnt",
            "chroot",
            "pivot_root",
            "name_to_handle_at",
            "open_by_handle_at",
            "readv-parent",
            "writev-parent",
            "syslog-read-all",
            "settimeofday",
            "clock_settime",
            "reboot",
            "swapon",
            "attach",
            "seize",
            "traceme");

    private WallsScript() {}

    /** The host's addresses other than loopback and link-local, as literals a bash /dev/tcp takes. */
    static List<String> otherHostAddresses() throws SocketException {
        List<String> addresses = new ArrayList<>();
        for (NetworkInterface nic : NetworkInterface.networkInterfaces().toList()) {
            if (nic.isUp() && !nic.isLoopback()) {
                nic.inetAddresses()
                        .filter(a -> !a.isLinkLocalAddress() && !a.isLoopbackAddress())
                        .map(a -> a instanceof Inet6Address
                                ? a.getHostAddress().replaceAll("%.*", "")
                                : a.getHostAddress())
                        .forEach(addresses::add);
            }
        }
        return addresses;
    }

    /**
     * The script. {@code home} is a Cordon home planted on the host, {@code beside} the directory that
     * holds the workspace, {@code elsewhere} a root-only file; none of them is mounted.
     */
    static String of(String secret, Path home, Path beside, Path elsewhere, int port, String abstractName)
            throws SocketException {
        String reach = otherHostAddresses().stream()
                .map(a -> "(exec 3<>/dev/tcp/%s/%d) 2>/dev/null; echo \"reach %s=$?\"".formatted(a, port, a))
                .collect(Collectors.joining("\n"));
        String candidates = String.join(
                " ",
                System.getProperty("user.dir"),
                home.getParent().toString(),
                System.getProperty("user.home") + "/.ssh",
                System.getProperty("user.home") + "/.m2",
                "/var/run/docker.sock",
                "/run/podman/podman.sock",
                "/var/lib/cordon");
        return """
                cat /etc/shadow >/dev/null 2>&1; echo "shadow=$?"
                cat /proc/1/root/etc/shadow >/dev/null 2>&1; echo "via-proc=$?"
                touch /usr/cordon-x 2>/dev/null; echo "usr-write=$?"
                touch /usr/bin/cordon-x 2>/dev/null; echo "usr-bin=$?"
                echo x 2>/dev/null >> /usr/bin/bash; echo "usr-bash=$?"
                echo changed 2>/dev/null >> /ro/writable-by-all; echo "ro-write=$?"
                touch /ro/new 2>/dev/null; echo "ro-create=$?"
                chmod 0600 /ro/writable-by-all 2>/dev/null; echo "ro-chmod=$?"
                mount -o remount,rw /ro 2>/dev/null; echo "remount=$?"
                echo ok > /workspace/w; echo "workspace-write=$?"
                echo ok > /rw/w; echo "rw-write=$?"
                mknod /workspace/null c 1 3 2>/dev/null; echo "mknod=$?"
                mknod /workspace/disk b 254 0 2>/dev/null; echo "mknod-block=$?"
                ls /cordon >/dev/null 2>&1; echo "guest-boot=$?"
                test -e %2$s && echo HOME-VISIBLE
                cat %2$s/vault/keys.json 2>/dev/null; echo "home-cat=$?"
                echo "found=$(find / \\( -path /proc -o -path /sys -o -path /usr -o -path /opt \\) -prune -o \\( -name cordon.db -o -name keys.json -o -name secret.txt -o -name outside.txt \\) -print 2>/dev/null | tr '\\n' ' ')"
                cat /workspace/notes.txt
                cat /workspace/absolute 2>/dev/null; echo "absolute=$?"
                cat /workspace/relative 2>/dev/null; echo "relative=$?"
                ls /workspace/directory/ 2>/dev/null; echo "directory=$?"
                cat /workspace/../outside.txt 2>/dev/null; echo "up=$?"
                cat /workspace/../../../../../../..%3$s/outside.txt 2>/dev/null; echo "deep=$?"
                cd /workspace/../../../../../..; echo "top=$(pwd)"; cd /workspace
                ln /ro/writable-by-all /workspace/shared-link 2>/dev/null; echo "hardlink-ro=$?"
                ln /usr/bin/bash /workspace/bash-link 2>/dev/null; echo "hardlink-usr=$?"
                echo a > /workspace/a; ln /workspace/a /workspace/a-link; echo "hardlink-same=$?"
                cat /proc/1/root%4$s 2>/dev/null; echo "init-planted=$?"
                echo "own-root=$(ls -A / | tr '\\n' ' ')"
                echo "all-roots=$(for p in /proc/[0-9]*; do ls -A $p/root/ 2>/dev/null; done | sort -u | tr '\\n' ' ')"
                sed 's/^/mi /' /proc/self/mountinfo
                for p in /proc/[0-9]*; do for f in $p/fd/*; do echo "fd $(readlink $f)"; done; done 2>/dev/null
                echo "rewritten-by-the-sandbox" 2>/dev/null 1<>/proc/$$/fd/1; echo "rewrite=$?"
                timeout 5 cat /proc/$$/fd/1 > /tmp/copy 2>/dev/null; echo "reopen-read=$?"
                echo "read-back=$(grep -c '^earlier sandbox said' /tmp/copy)"
                for d in sda vda vdb nvme0n1 mem kmem port kmsg kvm fuse loop0 loop-control userfaultfd vhost-net vhost-vsock net/tun mapper/control hvc0 ttyS0 vport0p1 vport1p1 vport1p2 virtio-ports; do
                  test -e /dev/$d && echo "PRESENT /dev/$d"
                done
                echo x > /dev/null && echo null-ok
                if [ -e /sys ]; then touch /sys/escape-probe 2>/dev/null; echo "sys-touch=$?"; else echo "sys-touch=absent"; fi
                for f in /proc/sys/kernel/core_pattern /proc/sys/kernel/modprobe /proc/sys/vm/drop_caches /proc/sys/kernel/hostname /proc/sys/net/ipv4/ip_forward /proc/sysrq-trigger; do
                  test -e $f || continue
                  (exec 5>>$f) 2>/dev/null; echo "open $f=$?"
                done
                (exec 5>>/proc/self/oom_score_adj); echo "oom-adj=$?"
                echo "self=$$"
                echo "commands=$(ps -eo comm= | sort -u | tr '\\n' ' ')"
                echo "count=$(ls /proc | grep -cE '^[0-9]+$')"
                echo "ctty=$(ps -o tty= -p $$)"
                kill -0 %5$d 2>/dev/null; echo "kill-host=$?"
                kill -0 $$; echo "kill-self=$?"
                (cd /tmp && bash -c 'ulimit -c unlimited; kill -SEGV $$'); echo "crashed=$?"
                su -c 'id -u' root </dev/null >/dev/null 2>&1; echo "su=$?"
                mount -t tmpfs none /tmp 2>/dev/null; echo "mount-tool=$?"
                echo "name=$(hostname)"
                hostname evil 2>/dev/null; echo "hostname-set=$?"
                echo "sysv=$(ipcs -m | tail -n +4 | sed '/^$/d' | tr -s ' ' | cut -d' ' -f2 | tr '\\n' ' ')"
                echo "posix=$(ls -A /dev/shm | tr '\\n' ' ')"
                ipcmk -M 4096 >/dev/null && echo "own-shm=$(ipcs -m | tail -n +4 | sed '/^$/d' | wc -l)"
                unshare -U true 2>/dev/null; echo "unshare-tool=$?"
                nsenter --target 1 --mount --net true 2>/dev/null; echo "nsenter=$?"
                /usr/sbin/chroot /workspace /usr/bin/true 2>/dev/null; echo "chroot-tool=$?"
                dmesg >/dev/null 2>&1; echo "dmesg=$?"
                test -e /dev/kmsg && echo DEV-KMSG
                date -s "@$(date +%%s)" >/dev/null 2>&1; echo "date=$?"
                (exec 3<>/dev/tcp/127.0.0.1/%6$d) 2>/dev/null; echo "host-loopback=$?"
                %7$s
                echo "links=$(ip -o link | wc -l)"
                echo "interfaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' ')"
                echo "routes=$(tail -n +2 /proc/net/route | wc -l)"
                getent ahosts 127.0.0.1 >/dev/null; echo "numeric=$?"
                getent hosts example.com >/dev/null; echo "dns=$?"
                (exec 3<>/dev/tcp/1.1.1.1/443) 2>/dev/null; echo "internet=$?"
                (exec 3<>/dev/udp/8.8.8.8/53) 2>/dev/null; echo "internet-udp=$?"
                perl -MIO::Socket::UNIX -e 'my $c = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => "\\0%8$s") or exit 3; print scalar <$c>' 2>/dev/null; echo "abstract=$?"
                echo "environ=$(tr '\\0' ' ' < /proc/$$/environ)"
                for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ; echo; done 2>/dev/null | sed 's/^/env /'
                needle() { echo %1$s | base64 -d; }
                echo "secret-in=$(grep -rlF -D skip -f <(needle) $(find / -mindepth 1 -maxdepth 1 -type d ! -name proc ! -name sys ! -name usr ! -name opt) /proc/cmdline 2>/dev/null | tr '\\n' ' ')"
                echo "secret-in-proc=$(for p in /proc/[0-9]*; do grep -lF -f <(needle) $p/environ $p/cmdline 2>/dev/null; done | tr '\\n' ' ')"
                for p in %9$s; do test -e "$p" && echo "VISIBLE $p"; done
                grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status
                exec 5</proc/self/ns/net 6</proc/self/ns/mnt
                sleep 30 & victim=$!
                %10$s
                script -qec '%11$s' /dev/null; echo "script=$?"
                kill $victim
                """.formatted(
                        Base64.getEncoder().encodeToString(secret.getBytes(StandardCharsets.UTF_8)),
                        home,
                        beside,
                        elsewhere,
                        ProcessHandle.current().pid(),
                        port,
                        reach,
                        abstractName,
                        candidates,
                        probeCalls(),
                        probe(
                                getpid(),
                                Syscall.IOCTL.call("tcgets", 0, 0x5401, 0),
                                Syscall.IOCTL.call("tiocsti", 0, 0x5412, 0),
                                Syscall.IOCTL.call("tiocsti-high", 0, 0x1_0000_5412L, 0)));
    }

    private static String probeCalls() {
        return probe(
                getpid(),
                Syscall.MOUNT.call("mount", 0, 0, 0, 0, 0),
                Syscall.UMOUNT2.call("umount2", 0, 0),
                Syscall.FSOPEN.call("fsopen", 0, 0),
                Syscall.OPEN_TREE.call("open_tree", AT_FDCWD, 0, 0),
                Syscall.MOUNT_SETATTR.call("mount_setattr", AT_FDCWD, 0, 0, 0, 0),
                Syscall.UNSHARE.call("unshare-newuser", CLONE_NEWUSER),
                Syscall.CLONE.call("clone-newuser", CLONE_NEWUSER | SIGCHLD),
                Syscall.UNSHARE.call("unshare-newns", 0x00020000L),
                Syscall.UNSHARE.call("unshare-newnet", 0x40000000L),
                Syscall.UNSHARE.call("unshare-newpid", 0x20000000L),
                Syscall.CLONE3.call("clone3", 0, 0),
                Syscall.KEYCTL.call("keyctl-user-keyring", 0, -4, 1),
                Syscall.ADD_KEY.call("add_key", 0, 0, 0, 0, -4),
                Syscall.BPF.call("bpf-map-create", 0, 0, 0),
                Syscall.BPF.call("bpf-prog-load", 5, 0, 0),
                Syscall.INIT_MODULE.call("init_module", 0, 0, 0),
                Syscall.FINIT_MODULE.call("finit_module", 0, 0, 0),
                Syscall.DELETE_MODULE.call("delete_module", 0, 0),
                Syscall.KEXEC_LOAD.call("kexec_load", 0, 0, 0, 0),
                Syscall.KEXEC_FILE_LOAD.call("kexec_file_load", -1, -1, 0, 0, 0),
                Syscall.PERF_EVENT_OPEN.call("perf_event_open", 0, 0, -1, -1, 0),
                Syscall.USERFAULTFD.call("userfaultfd-user-mode", 1),
                Syscall.IO_URING_SETUP.call("io_uring_setup", 1, 0),
                Syscall.SETNS.call("setns-net", 5, 0),
                Syscall.SETNS.call("setns-mnt", 6, 0x00020000),
                Syscall.CHROOT.call("chroot", 0),
                Syscall.PIVOT_ROOT.call("pivot_root", 0, 0),
                Syscall.NAME_TO_HANDLE_AT.call("name_to_handle_at", AT_FDCWD, 0, 0, 0, 0),
                Syscall.OPEN_BY_HANDLE_AT.call("open_by_handle_at", AT_FDCWD, 0, 0),
                Syscall.PROCESS_VM_READV.call("readv-parent", "$$", 0, 0, 0, 0, 0),
                Syscall.PROCESS_VM_WRITEV.call("writev-parent", "$$", 0, 0, 0, 0, 0),
                Syscall.SYSLOG.call("syslog-read-all", 3, 0, 0),
                Syscall.SETTIMEOFDAY.call("settimeofday", 0, 0),
                Syscall.CLOCK_SETTIME.call("clock_settime", 0, 0),
                Syscall.REBOOT.call("reboot", 0, 0, 0, 0),
                Syscall.SWAPON.call("swapon", 0, 0),
                Syscall.SETUID.call("setuid-root", 0),
                Syscall.SETRESUID.call("setresuid-root", 0, 0, 0),
                Syscall.SETGROUPS.call("setgroups", 0, 0),
                Syscall.SOCKET.call("packet-raw", 17, 3, 0x300),
                Syscall.SOCKET.call("inet-raw-icmp", 2, 3, 1),
                Syscall.SOCKET.call("inet6-raw-icmp", 10, 3, 58),
                Syscall.SOCKET.call("inet-stream", 2, 1, 0),
                Syscall.CLONE.call("fork", SIGCHLD),
                Syscall.PTRACE.call("attach", 16, "$victim"),
                Syscall.PTRACE.call("seize", 0x4206, "$victim"),
                // Last: had it worked, the probe would stop at its next signal.
                Syscall.PTRACE.call("traceme", 0));
    }

    /** Every wall held: what the script printed, and what is on the host afterwards. */
    static void assertAllHeld(Result r, Path workspace, Listener listener) throws IOException {
        assertThat(r.output()).as("the log as the host sees it").startsWith("earlier sandbox said");
        notZero(r, "shadow", "via-proc", "usr-write", "usr-bin", "usr-bash", "ro-write", "ro-create", "ro-chmod");
        notZero(r, "remount", "mknod", "mknod-block", "guest-boot", "home-cat", "absolute", "relative");
        notZero(r, "directory", "up", "deep", "hardlink-ro", "hardlink-usr", "init-planted", "reopen-read");
        notZero(r, "kill-host", "su", "mount-tool", "hostname-set", "unshare-tool", "nsenter", "chroot-tool");
        notZero(r, "dmesg", "date", "host-loopback", "dns", "internet", "internet-udp", "abstract");
        zero(r, "workspace-write", "rw-write", "hardlink-same", "oom-adj", "kill-self", "numeric");
        assertThat(r.output())
                .contains("followed-inside", "null-ok")
                .doesNotContain("HOME-VISIBLE", "DEV-KMSG", "VISIBLE /", "PRESENT /dev", "hello-from-the-host");
        assertThat(r.value("found").strip()).isEmpty();
        assertThat(r.value("top")).isEqualTo("/");
        assertThat(r.value("read-back")).isEqualTo("0");
        assertThat(r.value("sys-touch")).isNotEqualTo("0");
        assertThat(r.lines().stream().filter(l -> l.startsWith("open /")))
                .hasSizeGreaterThanOrEqualTo(4)
                .allSatisfy(l -> assertThat(l).doesNotEndWith("=0"));
        assertThat(r.lines().stream().filter(l -> l.startsWith("reach ")))
                .allSatisfy(l -> assertThat(l).doesNotEndWith("=0"));
        assertThat(listener.takeConnections()).isZero();

        Set<String> own = Set.of(r.value("own-root").strip().split(" ", -1));
        assertThat(r.value("all-roots").strip().split(" ", -1)).isSubsetOf(own);
        assertThat(r.lines().stream().filter(l -> l.startsWith("fd /")).map(l -> l.substring(3)))
                .as("host files the sandbox's descriptors lead to")
                .allSatisfy(t -> assertThat(t).matches("/(dev|proc|tmp|workspace|usr|opt|ro|rw)(/.*)?"));

        assertThat(Integer.parseInt(r.value("count"))).isLessThan(10);
        assertThat(r.value("commands"))
                .as("the guest's init and the channel's bridge are outside the sandbox")
                .doesNotContain("socat", "busybox", "qemu", "java ");
        assertThat(r.value("ctty").strip()).as("no controlling terminal").isEqualTo("?");
        assertThat(r.value("crashed")).isEqualTo("139");
        assertThat(Files.list(workspace.getParent())
                        .filter(f -> f.getFileName().toString().startsWith("core")))
                .isEmpty();
        assertThat(r.value("name")).isEqualTo("cordon");
        assertThat(r.value("sysv")).isBlank();
        assertThat(r.value("posix")).isBlank();
        assertThat(r.value("own-shm"))
                .as("control: ipcs sees a segment made inside")
                .isEqualTo("1");

        assertThat(r.value("links")).as("no network device, only loopback").isEqualTo("1");
        assertThat(r.value("interfaces").strip()).isEqualTo("lo");
        assertThat(r.value("routes")).isEqualTo("0");

        assertThat(environment(r.value("environ"))).isEqualTo(Inside.ENV);
        List<String> leaked = System.getenv().entrySet().stream()
                .filter(e -> e.getValue().length() >= 4 && !e.getKey().equals("SHLVL"))
                .filter(e -> !e.getValue().equals(Inside.ENV.get(e.getKey())))
                .map(e -> "env " + e.getKey() + "=" + e.getValue())
                .filter(new HashSet<>(r.lines())::contains)
                .toList();
        assertThat(leaked).isEmpty();
        assertThat(r.value("secret-in")).isBlank();
        assertThat(r.value("secret-in-proc")).isBlank();

        Map<String, String> status = new HashMap<>();
        for (String line : r.lines()) {
            String[] kv = line.split(":\t?", 2);
            if (kv.length == 2 && kv[0].matches("Uid|Gid|Groups|Cap...|NoNewPrivs")) {
                status.put(kv[0], kv[1].strip());
            }
        }
        for (String cap : List.of("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")) {
            assertThat(status).as(r.output()).containsEntry(cap, "0000000000000000");
        }
        assertThat(status).containsEntry("NoNewPrivs", "1");
        assertThat(status.get("Uid").split("\\s+", -1)).containsOnly(Integer.toString(UID));
        assertThat(Files.getAttribute(workspace.resolve("w"), "unix:uid", LinkOption.NOFOLLOW_LINKS))
                .as("what the guest writes belongs to the sandbox's uid on the host")
                .isEqualTo(UID);

        assertProbeWorks(r);
        assertRefusedWith(r, REFUSED, REFUSED_CALLS.toArray(String[]::new));
        Set<Long> noMapping = new HashSet<>(REFUSED);
        noMapping.add(EINVAL);
        assertRefusedWith(r, noMapping, "setuid-root", "setresuid-root", "setgroups");
        Set<Long> socketRefused = new HashSet<>(REFUSED);
        socketRefused.addAll(List.of(93L, 94L, 97L));
        assertRefusedWith(r, socketRefused, "packet-raw", "inet-raw-icmp", "inet6-raw-icmp");
        assertThat(r.call("inet-stream").succeeded())
                .as("control: a TCP socket")
                .isTrue();
        assertThat(r.call("fork").succeeded()).as("control: a plain fork").isTrue();
        assertThat(r.call("tcgets").errno()).as("control: fd 0 is a terminal").isEqualTo(EFAULT);
        Set<Long> tiocsti = new HashSet<>(REFUSED);
        tiocsti.add(EIO);
        assertRefusedWith(r, tiocsti, "tiocsti", "tiocsti-high");
    }

    private static void zero(Result r, String... keys) {
        for (String key : keys) {
            assertThat(r.value(key)).as("control %s:%n%s", key, r.output()).isEqualTo("0");
        }
    }

    private static void notZero(Result r, String... keys) {
        for (String key : keys) {
            assertThat(r.value(key))
                    .as("%s succeeded inside the guest:%n%s", key, r.output())
                    .isNotEqualTo("0");
        }
    }

    static Map<String, String> environment(String environ) {
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
