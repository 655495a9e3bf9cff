package dev.cordon.sandbox.escape;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cordon.core.sandbox.Limit;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.sandbox.escape.Inside.Call;
import dev.cordon.sandbox.escape.Inside.Result;
import dev.cordon.sandbox.escape.Inside.Running;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conformance and escape suite every sandbox backend must pass. Each scenario starts a real
 * sandbox of {@link #backend()}, attempts an attack from inside and asserts that it failed; where
 * it makes the test able to fail, the same technique is shown to work on something the sandbox is
 * allowed to reach (its workspace, its own loopback, its own processes), so a scenario cannot pass
 * only because the technique itself is broken.
 *
 * <p>To add a backend: extend this class, return the backend, and override a capability hook
 * ({@link #enforcesLimits()}, {@link #runsAsSpecUid()}) for each guarantee it does not make. A
 * declared gap is never silent: the scenarios that need it are skipped with the gap as the reason,
 * and a test in {@link DeclaredGaps} asserts that the declaration itself is true.
 *
 * <p>Scripts inside run with bash and the tools of the sandbox's {@code /usr} (coreutils, perl,
 * util-linux, procps, iproute2); raw syscalls go through {@code SyscallProbe} on the test's own JDK,
 * mounted read-only ({@link Inside#withProbe()}). Only x86_64 and aarch64 have syscall numbers.
 */
abstract class EscapeSuite {
    static final int UID = 200_090;
    static final int OTHER_UID = 200_091;
    static final long MIB = 1L << 20;

    static final long EPERM = 1;
    static final long EIO = 5;
    static final long EFAULT = 14;
    static final long EACCES = 13;
    static final long EINVAL = 22;

    /** The exit signal fork passes to clone: clone with only this flag is a plain fork. */
    static final long SIGCHLD = 17;

    static final long CLONE_NEWUSER = 0x10000000;
    static final long AT_FDCWD = -100;
    static final long ENOSYS = 38;

    /**
     * Errnos that mean "not allowed" rather than "malformed call" (EFAULT, EBADF, EINVAL): a denied
     * syscall must give one of these. Pointer arguments are 0, so a call that got past every
     * permission check would fail with EFAULT instead and the scenario would fail.
     */
    static final Set<Long> REFUSED = Set.of(EPERM, EACCES, ENOSYS);

    @TempDir
    Path host;

    /** The backend under test. Called once per scenario; it may return the same instance every time. */
    protected abstract SandboxBackend backend();

    /**
     * Whether this backend enforces every {@link Limit} (memory, pids, CPU) on this host; by default,
     * what the backend itself reports. When it does not, the resource scenarios are skipped, and
     * {@link DeclaredGaps} checks that each limit it cannot enforce makes it refuse to start.
     */
    protected boolean enforcesLimits() {
        return backend().enforceableLimits().containsAll(EnumSet.allOf(Limit.class));
    }

    /**
     * Whether each sandbox runs as its spec's host uid, so that two agents are also separated by file
     * ownership. When it does not, sandboxes must run as the daemon's own (non-root) uid.
     */
    protected boolean runsAsSpecUid() {
        return true;
    }

    /**
     * Whether going over a limit stops the sandbox as a whole rather than the offending process:
     * under gVisor the sandbox's cgroup holds its own kernel too, so a memory bomb takes the sentry
     * with it, and a fork bomb may. The resource scenarios then check that the sandbox was stopped,
     * or at least held to its limits, and that nothing outside it was touched.
     */
    protected boolean limitsStopTheWholeSandbox() {
        return false;
    }

    /**
     * Whether the sandbox's kernel is an emulation (gVisor): its {@code /proc} has fewer files and
     * status fields than Linux's, and System V IPC lives inside it where {@code ipcs} does not list
     * it. Scenarios then check what the emulation shows and skip only the controls it cannot give.
     */
    protected boolean emulatesTheKernel() {
        return false;
    }

    @BeforeEach
    void hostDirectoryIsTraversable() throws IOException {
        // JUnit makes it 0700. Each scenario chooses the permissions of what it plants; the test
        // directory must not be what stops the sandbox uid.
        Files.setPosixFilePermissions(host, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    Inside inside() {
        return inside(UID);
    }

    Inside inside(int uid) {
        return new Inside(backend(), host, uid, enforcesLimits() ? Limits.DEFAULTS : Limits.UNLIMITED);
    }

    /** A fresh secret string: it exists in this JVM and wherever the scenario writes it, nowhere else. */
    static String secret() {
        return "cordon-secret-" + UUID.randomUUID();
    }

    static String probe(String... calls) {
        return Inside.PROBE + " " + String.join(" ", calls);
    }

    static Path writeFile(Path file, String content, String permissions) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
        return file;
    }

    static Path openDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    /** Each labelled call was made and refused with a permission errno; see {@link #REFUSED}. */
    static void assertRefused(Result r, String... labels) {
        assertRefusedWith(r, REFUSED, labels);
    }

    static void assertRefusedWith(Result r, Set<Long> errnos, String... labels) {
        for (String label : labels) {
            Call call = r.call(label);
            assertThat(call.succeeded())
                    .as("%s succeeded inside the sandbox:%n%s", label, r.output())
                    .isFalse();
            assertThat(errnos).as("errno of %s:%n%s", label, r.output()).contains(call.errno());
        }
    }

    /**
     * The mount points in {@code mountinfo} (lines of {@code /proc/self/mountinfo}) that are writable
     * and hold host data: not a pseudo filesystem, not a bind-mounted device node the sandbox may use.
     */
    static Set<String> writableHostMounts(List<String> mountinfo) {
        Set<String> pseudo = Set.of("tmpfs", "proc", "devpts", "mqueue", "sysfs", "cgroup", "cgroup2", "ramfs");
        Set<String> devices = Set.of(
                "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/console");
        Set<String> writable = new HashSet<>();
        for (String line : mountinfo) {
            String[] halves = line.split(" - ", 2);
            if (halves.length < 2) {
                continue;
            }
            String[] f = halves[0].split(" ", -1);
            if (f.length < 6) {
                continue;
            }
            boolean rw = Arrays.asList(f[5].split(",", -1)).contains("rw");
            String type = halves[1].split(" ", -1)[0];
            if (rw && !pseudo.contains(type) && !devices.contains(f[4])) {
                writable.add(f[4]);
            }
        }
        return writable;
    }

    /** The control of every probe scenario: the probe ran, and an ordinary call succeeded. */
    static void assertProbeWorks(Result r) {
        assertThat(r.call("getpid").succeeded()).as(r.output()).isTrue();
    }

    static String getpid() {
        return Syscall.GETPID.call("getpid");
    }

    /** Host processes whose command ends with {@code program} and whose arguments contain {@code marker}. */
    static List<ProcessHandle> hostProcesses(String program, String marker) {
        return ProcessHandle.allProcesses()
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().command().orElse("").endsWith("/" + program))
                .filter(p -> p.info().commandLine().orElse("").contains(marker))
                .toList();
    }

    static String hostCommand(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    static int marker() {
        return 900_000 + ThreadLocalRandom.current().nextInt(90_000);
    }

    // ---------------------------------------------------------------------------------------------

    /** What a backend declares it does not guarantee, checked rather than trusted. */
    @Nested
    class DeclaredGaps {
        @Test
        void eachLimitIsEnforcedOrASpecThatNeedsItIsRefused(TestReporter report) {
            Set<Limit> enforceable = backend().enforceableLimits();
            assertThat(enforcesLimits())
                    .as("the suite's hook agrees with what the backend reports")
                    .isEqualTo(enforceable.containsAll(EnumSet.allOf(Limit.class)));
            for (Limit limit : Limit.values()) {
                Inside sandbox = new Inside(backend(), host, UID, only(limit));
                if (enforceable.contains(limit)) {
                    // What the limit does is for Resources to show; here, that such a spec starts at all.
                    assertThat(sandbox.run("echo started").output()).contains("started");
                } else {
                    assertThatThrownBy(() -> sandbox.run("echo started"))
                            .as("a spec that needs %s, which the backend cannot enforce", limit)
                            .isInstanceOf(SandboxException.class);
                    report.publishEntry(
                            "declared gap", backend().name() + " does not enforce " + limit + " on this host");
                }
            }
            report.publishEntry("limits", backend().name() + " enforces " + enforceable + " on this host");
        }

        private static Limits only(Limit limit) {
            return switch (limit) {
                case MEMORY -> new Limits(256 * MIB, 0, 0);
                case PIDS -> new Limits(0, 64, 0);
                case CPU -> new Limits(0, 0, 1000);
            };
        }

        @Test
        void eachSandboxRunsAsItsSpecsUidOrAsTheDaemonsOwnUnprivilegedUid(TestReporter report) throws Exception {
            Inside a = inside(UID);
            Inside b = inside(OTHER_UID);
            a.run("echo a > /workspace/owned");
            b.run("echo b > /workspace/owned");
            Object ownerA = Files.getAttribute(a.workspace().resolve("owned"), "unix:uid", LinkOption.NOFOLLOW_LINKS);
            Object ownerB = Files.getAttribute(b.workspace().resolve("owned"), "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (runsAsSpecUid()) {
                assertThat(List.of(ownerA, ownerB)).containsExactly(UID, OTHER_UID);
                report.publishEntry("uids", backend().name() + " runs each sandbox as its spec's uid");
            } else {
                Object daemon = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
                assertThat(List.of(ownerA, ownerB)).containsOnly(daemon);
                assertThat(daemon).as("sandboxes that share the daemon's uid").isNotEqualTo(0);
                report.publishEntry(
                        "declared gap",
                        backend().name() + " runs every sandbox as the daemon's uid " + daemon
                                + ": agents are separated by namespaces, not by file ownership");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** The host's files stay out of reach: only the spec's mounts exist, read-only ones stay read-only. */
    @Nested
    class Filesystem {
        @Test
        void theHostsShadowFileIsUnreadableWhileTheWorkspaceIsReadable() throws Exception {
            Inside sandbox = inside();
            Files.writeString(sandbox.workspace().resolve("notes.txt"), "workspace-readable\n");

            Result r = sandbox.run("""
                    cat /workspace/notes.txt
                    cat /etc/shadow; echo "shadow=$?"
                    cat /proc/1/root/etc/shadow; echo "via-proc=$?"
                    """);

            assertThat(r.output()).contains("workspace-readable").doesNotContain("root:");
            assertThat(r.value("shadow")).isNotEqualTo("0");
            assertThat(r.value("via-proc")).isNotEqualTo("0");
        }

        @Test
        void aRootOnlyFilePlantedOnTheHostIsNowhereInside() throws Exception {
            String secret = secret();
            String name = "planted-" + UUID.randomUUID();
            Path planted = writeFile(host.resolve(name), secret, "rw-------");
            Inside sandbox = inside();
            Files.writeString(sandbox.workspace().resolve(name + "-control"), "control");

            // The whole visible tree, /usr included, is searched by name.
            Result r = sandbox.run("""
                    cat %s; echo "cat=$?"
                    test -e %s && echo HOST-DIR-VISIBLE
                    echo "found=$(find / -path /proc -prune -o -name '%s*' -print 2>/dev/null | tr '\\n' ' ')"
                    """.formatted(planted, host, name));

            assertThat(r.value("cat")).isNotEqualTo("0");
            assertThat(r.value("found").strip()).isEqualTo("/workspace/" + name + "-control");
            assertThat(r.output()).doesNotContain(secret, "HOST-DIR-VISIBLE");
        }

        @Test
        void anotherAgentsWorkspaceIsNeitherVisibleNorReadable() throws Exception {
            Inside a = inside(UID);
            Inside b = inside(OTHER_UID);
            String secret = secret();
            Files.writeString(a.workspace().resolve("a.txt"), "a-own-file\n");
            b.giveToSandboxUser(writeFile(b.workspace().resolve("b-secret.txt"), secret, "rw-------"));

            Result fromA = a.run("""
                    cat /workspace/a.txt
                    ls -A %1$s; echo "ls-other=$?"
                    cat %1$s/b-secret.txt; echo "cat-other=$?"
                    echo "found=$(find / \\( -path /proc -o -path /sys -o -path /usr \\) -prune -o -name 'b-secret*' -print 2>/dev/null)"
                    """.formatted(b.workspace()));
            Result fromB = b.run("cat /workspace/b-secret.txt");

            assertThat(fromA.output()).contains("a-own-file").doesNotContain(secret);
            assertThat(fromA.value("ls-other")).isNotEqualTo("0");
            assertThat(fromA.value("cat-other")).isNotEqualTo("0");
            assertThat(fromA.value("found")).isEmpty();
            assertThat(fromB.output()).as("the owner reads its own file").contains(secret);
        }

        @Test
        void anotherAgentsRunningSandboxIsUnreachableThroughProc() throws Exception {
            Inside a = inside(UID);
            Inside b = inside(OTHER_UID);
            String secret = secret();
            Files.writeString(a.workspace().resolve("a.txt"), "a-own-file\n");
            b.giveToSandboxUser(writeFile(b.workspace().resolve("b-secret.txt"), secret, "rw-------"));
            int mark = marker();

            try (Running other = b.start("echo ready; exec sleep " + mark)) {
                other.awaitOutput("ready");
                // Where the backend's processes are host processes, aim at B's real pid as well.
                String hostPid = "none";
                for (int i = 0; i < 250 && hostPid.equals("none"); i++) {
                    hostPid = hostProcesses("sleep", Integer.toString(mark)).stream()
                            .findFirst()
                            .map(p -> Long.toString(p.pid()))
                            .orElse("none");
                    Thread.sleep(20);
                }
                Result r = a.run("""
                        ls -A /proc/%1$s/root/workspace; echo "direct=$?"
                        cat /proc/%1$s/root/workspace/b-secret.txt; echo "direct-cat=$?"
                        for p in /proc/[0-9]*; do cat $p/root/workspace/b-secret.txt 2>/dev/null; done
                        echo "own=$(cat /proc/self/root/workspace/a.txt)"
                        echo "sleepers=$(pgrep -xc sleep)"
                        """.formatted(hostPid));

                assertThat(other.exited()).as("sandbox B kept running").isFalse();
                assertThat(r.output()).doesNotContain(secret);
                assertThat(r.value("direct")).isNotEqualTo("0");
                assertThat(r.value("direct-cat")).isNotEqualTo("0");
                assertThat(r.value("own"))
                        .as("the same path trick on its own root")
                        .isEqualTo("a-own-file");
                assertThat(r.value("sleepers")).as("B's process, seen from A").isEqualTo("0");
            }
        }

        @Test
        void aCordonHomeDirectoryOnTheHostIsInvisible() throws Exception {
            String secret = secret();
            Path home = openDirectory(host.resolve("cordon-home"));
            writeFile(home.resolve("cordon.db"), "SQLite format 3 " + secret, "rw-------");
            writeFile(home.resolve("vault/keys.json"), "{\"anthropic\": \"" + secret + "\"}", "rw-------");
            Inside sandbox = inside();
            Files.writeString(sandbox.workspace().resolve("keys.json"), "{}");

            Result r = sandbox.run("""
                    test -e %1$s && echo HOME-VISIBLE
                    cat %1$s/vault/keys.json; echo "cat=$?"
                    echo "found=$(find / \\( -path /proc -o -path /sys -o -path /usr \\) -prune -o \\( -name cordon.db -o -name keys.json \\) -print 2>/dev/null | tr '\\n' ' ')"
                    """.formatted(home));

            assertThat(r.output()).doesNotContain(secret, "HOME-VISIBLE");
            assertThat(r.value("cat")).isNotEqualTo("0");
            assertThat(r.value("found").strip()).isEqualTo("/workspace/keys.json");
        }

        @Test
        void systemDirectoriesAreReadOnlyWhileTheWorkspaceIsWritable() throws Exception {
            String name = "cordon-escape-" + UUID.randomUUID();

            Result r = inside().run("""
                    touch /usr/%1$s; echo "usr=$?"
                    touch /usr/bin/%1$s; echo "usr-bin=$?"
                    echo x >> /usr/bin/bash; echo "usr-bash=$?"
                    mkdir -p /etc; touch /etc/%1$s
                    touch /workspace/%1$s; echo "workspace=$?"
                    """.formatted(name));

            assertThat(List.of(r.value("usr"), r.value("usr-bin"), r.value("usr-bash")))
                    .doesNotContain("0");
            assertThat(r.value("workspace")).isEqualTo("0");
            // /etc and / inside may be the sandbox's own (an unprivileged sandbox owns its root): what
            // matters is that the host's are untouched.
            for (String dir : List.of("/usr", "/usr/bin", "/etc", "/")) {
                assertThat(Path.of(dir, name)).doesNotExist();
            }
        }

        @Test
        void aReadOnlyMountStaysReadOnlyWhereFilePermissionsAllowWriting() throws Exception {
            Inside sandbox = inside();
            Map<String, Path> dirs = new LinkedHashMap<>();
            for (String mode : List.of("ro", "rw")) {
                Path dir = Files.createDirectories(host.resolve(mode));
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
                sandbox.giveToSandboxUser(dir);
                sandbox.giveToSandboxUser(writeFile(dir.resolve("file"), "original\n", "rw-rw-rw-"));
                dirs.put(mode, dir);
            }
            sandbox.mount(dirs.get("ro"), "/mnt/ro", Mode.READ_ONLY).mount(dirs.get("rw"), "/mnt/rw", Mode.READ_WRITE);

            Result r = sandbox.run("""
                    for d in ro rw; do
                      echo changed > /mnt/$d/file; echo "$d-write=$?"
                      touch /mnt/$d/new; echo "$d-create=$?"
                      chmod 0600 /mnt/$d/file; echo "$d-chmod=$?"
                    done
                    mount -o remount,rw /mnt/ro; echo "remount=$?"
                    echo changed > /mnt/ro/file; echo "ro-write-after-remount=$?"
                    """);

            assertThat(r.output()).contains("Read-only file system");
            for (String key : List.of("ro-write", "ro-create", "ro-chmod", "remount", "ro-write-after-remount")) {
                assertThat(r.value(key)).as(key).isNotEqualTo("0");
            }
            for (String key : List.of("rw-write", "rw-create", "rw-chmod")) {
                assertThat(r.value(key)).as("control " + key).isEqualTo("0");
            }
            assertThat(dirs.get("ro").resolve("file")).hasContent("original");
            assertThat(Files.getPosixFilePermissions(dirs.get("ro").resolve("file")))
                    .isEqualTo(PosixFilePermissions.fromString("rw-rw-rw-"));
            assertThat(dirs.get("ro").resolve("new")).doesNotExist();
            assertThat(dirs.get("rw").resolve("file")).hasContent("changed");
        }

        @Test
        void symlinksPlantedInTheWorkspaceResolveInsideTheSandbox() throws Exception {
            String secret = secret();
            Path target = writeFile(host.resolve("host-secret.txt"), secret, "rw-r--r--");
            Inside sandbox = inside();
            Path ws = sandbox.workspace();
            Files.writeString(ws.resolve("notes.txt"), "followed-inside\n");
            Files.createSymbolicLink(ws.resolve("absolute"), target);
            Files.createSymbolicLink(ws.resolve("relative"), ws.relativize(target));
            Files.createSymbolicLink(ws.resolve("directory"), host);
            Files.createSymbolicLink(ws.resolve("good"), Path.of("notes.txt"));
            // On the host, both links lead to the secret: only the sandbox's view can stop them.
            assertThat(ws.resolve("absolute")).hasContent(secret);
            assertThat(ws.resolve("relative")).hasContent(secret);

            Result r = sandbox.run("""
                    cat /workspace/good
                    cat /workspace/absolute; echo "absolute=$?"
                    cat /workspace/relative; echo "relative=$?"
                    ls /workspace/directory/; echo "directory=$?"
                    """);

            assertThat(r.output()).contains("followed-inside").doesNotContain(secret, "host-secret.txt\n");
            assertThat(List.of(r.value("absolute"), r.value("relative"), r.value("directory")))
                    .doesNotContain("0");
        }

        @Test
        void pathTraversalFromTheWorkspaceStaysInsideTheSandbox() throws Exception {
            String secret = secret();
            Inside sandbox = inside();
            Path besideWorkspace = openDirectory(sandbox.workspace().getParent());
            writeFile(besideWorkspace.resolve("outside.txt"), secret, "rw-r--r--");

            Result r = sandbox.run("""
                    mkdir -p /workspace/sub && echo inside-ok > /workspace/inside.txt
                    cat /workspace/sub/../inside.txt
                    cat /workspace/../outside.txt; echo "up=$?"
                    cat ../outside.txt; echo "relative=$?"
                    cat /workspace/../../../../../../..%s/outside.txt; echo "deep=$?"
                    cd /workspace/../../../../../..; echo "top=$(pwd)"
                    """.formatted(besideWorkspace));

            assertThat(r.output()).contains("inside-ok").doesNotContain(secret);
            assertThat(List.of(r.value("up"), r.value("relative"), r.value("deep")))
                    .doesNotContain("0");
            assertThat(r.value("top")).isEqualTo("/");
        }

        @Test
        void hardLinksCannotReachFilesOutsideTheWorkspace() throws Exception {
            Inside sandbox = inside();
            Path shared = openDirectory(host.resolve("shared"));
            writeFile(shared.resolve("file"), "host file\n", "rw-r--r--");
            // On the host the workspace and this directory are one filesystem: a hard link works there.
            Path hostLink = Files.createLink(host.resolve("host-link"), shared.resolve("file"));
            Files.delete(hostLink);
            sandbox.mount(shared, "/mnt/shared", Mode.READ_ONLY);

            Result r = sandbox.run("""
                    ln /mnt/shared/file /workspace/shared-link; echo "mount=$?"
                    ln /usr/bin/bash /workspace/bash-link; echo "usr=$?"
                    ln -L /proc/$$/fd/1 /workspace/log-link; echo "via-fd=$?"
                    echo t > /tmp/t; ln /tmp/t /workspace/tmp-link; echo "tmp=$?"
                    echo a > /workspace/a; ln /workspace/a /workspace/a-link; echo "same=$?"
                    """);

            assertThat(r.output()).contains("Invalid cross-device link");
            assertThat(List.of(r.value("mount"), r.value("usr"), r.value("via-fd"), r.value("tmp")))
                    .doesNotContain("0");
            assertThat(r.value("same")).as("a hard link inside the workspace").isEqualTo("0");
            assertThat(sandbox.workspace().resolve("shared-link")).doesNotExist();
            assertThat(sandbox.workspace().resolve("bash-link")).doesNotExist();
            assertThat(sandbox.workspace().resolve("log-link")).doesNotExist();
        }

        @Test
        void deviceNodesCannotBeCreatedInTheWorkspace() throws Exception {
            // A device node the sandbox could make in its workspace would be one on the host's disk.
            Inside sandbox = inside();

            Result r = sandbox.run("""
                    mknod /workspace/null c 1 3; echo "char=$?"
                    mknod /workspace/disk b 254 0; echo "block=$?"
                    mkfifo /workspace/fifo; echo "fifo=$?"
                    """);

            assertThat(r.value("char")).isNotEqualTo("0");
            assertThat(r.value("block")).isNotEqualTo("0");
            assertThat(r.value("fifo")).as("control: mknod of a FIFO").isEqualTo("0");
            assertThat(sandbox.workspace().resolve("null")).doesNotExist();
            assertThat(sandbox.workspace().resolve("disk")).doesNotExist();
        }

        @Test
        void procRootLinksLeadOnlyToTheSandboxesOwnRoot() throws Exception {
            String secret = secret();
            Path planted = writeFile(host.resolve("planted.txt"), secret, "rw-r--r--");

            Result r = inside().run("""
                    echo "own=$(ls -A / | tr '\\n' ' ')"
                    echo "self=$(ls -A /proc/self/root/ | tr '\\n' ' ')"
                    cat /proc/1/root%1$s; echo "init-planted=$?"
                    cat /proc/self/root%1$s; echo "self-planted=$?"
                    echo "all=$(for p in /proc/[0-9]*; do ls -A $p/root/ 2>/dev/null; done | sort -u | tr '\\n' ' ')"
                    """.formatted(planted));

            Set<String> own = Set.of(r.value("own").strip().split(" ", -1));
            assertThat(r.value("self").strip().split(" ", -1)).containsExactlyInAnyOrderElementsOf(own);
            assertThat(own).allSatisfy(n -> assertThat(r.value("all")).contains(n));
            assertThat(r.value("all").strip().split(" ", -1)).isSubsetOf(own);
            assertThat(r.value("init-planted")).isNotEqualTo("0");
            assertThat(r.value("self-planted")).isNotEqualTo("0");
            assertThat(r.output()).doesNotContain(secret);
        }

        @Test
        void theOnlyWritableHostFilesystemsAreTheSpecsReadWriteMounts() throws Exception {
            Inside sandbox = inside();
            sandbox.mount(openDirectory(host.resolve("ro")), "/mnt/ro", Mode.READ_ONLY)
                    .mount(sandbox.giveToSandboxUser(openDirectory(host.resolve("rw"))), "/mnt/rw", Mode.READ_WRITE);

            Result r = sandbox.run("cat /proc/self/mountinfo");

            Set<String> writable = writableHostMounts(r.lines());
            assertThat(writable).as(r.output()).containsExactlyInAnyOrder("/workspace", "/mnt/rw");
        }

        @Test
        void theOnlyHostFileAnyDescriptorInsideLeadsToIsItsOwnLog() throws Exception {
            Result r = inside().run("""
                    for p in /proc/[0-9]*; do for f in $p/fd/*; do echo "fd $f -> $(readlink $f)"; done; done 2>/dev/null
                    """);

            List<String> targets = r.lines().stream()
                    .filter(l -> l.startsWith("fd "))
                    .map(l -> l.substring(l.indexOf(" -> ") + 4))
                    .toList();
            assertThat(targets).as("descriptors seen").isNotEmpty();
            // The sandbox's stdout and stderr are the spec's log file; everything else is a sandbox path
            // or an anonymous object (pipe, socket, anon_inode).
            assertThat(targets)
                    .filteredOn(t -> t.startsWith("/"))
                    .filteredOn(t -> !t.equals(r.log().toString()))
                    .allSatisfy(t -> assertThat(t).matches("/(dev|proc|tmp|workspace|usr)(/.*)?"));
            assertThat(r.output()).doesNotContain("seccomp");
        }

        @Test
        void theOutputLogCannotBeReopenedToReadOrRewriteWhatWasWrittenBefore() throws Exception {
            // stdout and stderr are a host file, the spec's log, which may already hold what an earlier
            // sandbox of the same id printed. /proc/<pid>/fd/1 names it: opening that link opens the
            // file itself, checked only against the sandbox uid's permissions on it.
            String earlier = "earlier sandbox said " + secret();
            Inside sandbox = inside().earlierLog(earlier + "\n");

            Result r = sandbox.run("""
                    echo "stdout=$(readlink /proc/$$/fd/1)"
                    echo "rewritten-by-the-sandbox" 1<>/proc/$$/fd/1; echo "rewrite=$?"
                    cat /proc/$$/fd/1 > /tmp/copy; echo "reopen-read=$?"
                    echo "read-back=$(grep -c '^earlier sandbox said' /tmp/copy)"
                    """);

            assertThat(r.output()).as("the log as the host sees it").startsWith(earlier);
            // Where the runtime hands the sandbox a pipe of its own (runc, gVisor), reopening it for
            // writing may succeed, but it is still that pipe: what it writes lands after everything
            // earlier in the log, never over it.
            if (r.value("rewrite").equals("0")) {
                assertThat(r.output().indexOf("rewritten-by-the-sandbox"))
                        .as("a rewrite through /proc/self/fd/1 lands after the earlier log")
                        .isGreaterThan(earlier.length());
            }
            assertThat(r.value("read-back"))
                    .as("lines the log held before this sandbox, read back inside")
                    .isEqualTo("0");
            assertThat(r.value("reopen-read")).isNotEqualTo("0");
        }

        @Test
        void devHoldsOnlyTheMinimalDevices() throws Exception {
            Result r = inside().run("""
                    # Test each entry with stat: bind-mounted device nodes sit on plain files, and find's
                    # -type trusts the directory entry's type.
                    find /dev | while read -r f; do
                      if [ -b "$f" ] || [ -c "$f" ]; then
                        # stat -L -c 'dev %n %F %t:%T' in perl: coreutils' statx flags fail under old gVisor.
                        perl -e '@s = stat $ARGV[0] or exit 1; $r = $s[6];
                          printf "dev %s %s %x:%x\\n", $ARGV[0], (-c _ ? "character special file" : "block special file"),
                            ($r >> 8) & 0xfff, ($r & 0xff) | (($r >> 12) & 0xfff00)' "$f"
                      fi
                    done
                    echo x > /dev/null && echo null-ok
                    echo "urandom=$(head -c 16 /dev/urandom | wc -c)"
                    for d in sda vda nvme0n1 mem kmem port kmsg kvm fuse loop0 loop-control userfaultfd vhost-net vhost-vsock net/tun mapper/control; do
                      test -e /dev/$d && echo "PRESENT /dev/$d"
                    done
                    """);

            // gVisor's kernel serves its own TUN (10:200) and FUSE (10:229) devices: they never reach the
            // host's, and using them takes CAP_NET_ADMIN or mount(2), which the agent does not have.
            Set<String> emulated = emulatesTheKernel()
                    ? Set.of(
                            "dev /dev/net/tun character special file a:c8",
                            "dev /dev/fuse character special file a:e5",
                            "PRESENT /dev/net/tun",
                            "PRESENT /dev/fuse")
                    : Set.of();
            List<String> devices = r.lines().stream()
                    .filter(l -> l.startsWith("dev "))
                    .filter(l -> !emulated.contains(l))
                    .toList();
            assertThat(devices)
                    .as("control: the scan sees /dev/null")
                    .contains("dev /dev/null character special file 1:3")
                    .allSatisfy(d -> assertThat(isMinimalDevice(d)).as(d).isTrue());
            assertThat(r.output()).contains("null-ok");
            assertThat(r.lines())
                    .filteredOn(l -> l.startsWith("PRESENT") && !emulated.contains(l))
                    .isEmpty();
            assertThat(r.value("urandom")).isEqualTo("16");
        }

        /**
         * A {@code dev <path> <type> <major>:<minor>} line (hex, as stat prints them) names one of null,
         * zero, full, random, urandom, tty, console, ptmx, or a pseudo-terminal (majors 136–143).
         */
        private static boolean isMinimalDevice(String line) {
            String[] f = line.split(" ", -1);
            String number = f[f.length - 1];
            String major = number.substring(0, number.indexOf(':'));
            return line.contains("character special file")
                    && (Set.of("1:3", "1:5", "1:7", "1:8", "1:9", "5:0", "5:1", "5:2")
                                    .contains(number)
                            || major.matches("8[89a-f]"));
        }

        @Test
        void sysIsAbsentOrReadOnly() throws Exception {
            Result r = inside().run("""
                    if [ -e /sys ]; then
                      echo sys-present
                      while read -r _ _ _ _ point options _; do
                        case $point in /sys*) echo "sysmount $point $options";; esac
                      done < /proc/self/mountinfo
                      touch /sys/escape-probe; echo "touch=$?"
                      for f in /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/pids/cgroup.procs /sys/kernel/uevent_helper; do
                        test -e $f && { (exec 5>>$f); echo "open $f=$?"; }
                      done
                    else
                      echo sys-absent
                    fi
                    """);

            if (r.output().contains("sys-absent")) {
                return;
            }
            assertThat(r.lines().stream().filter(l -> l.startsWith("sysmount ")))
                    .isNotEmpty()
                    .allSatisfy(l -> assertThat(l.split(" ", -1)[2]).startsWith("ro"));
            assertThat(r.value("touch")).isNotEqualTo("0");
            assertThat(r.lines().stream().filter(l -> l.startsWith("open ")))
                    .allSatisfy(l -> assertThat(l).doesNotEndWith("=0"));
        }

        @Test
        void kernelTunablesInProcCannotBeOpenedForWriting() throws Exception {
            // Opening for writing is the permission check; nothing is written even if it succeeded.
            Result r = inside().run("""
                    for f in /proc/sys/kernel/core_pattern /proc/sys/kernel/modprobe /proc/sys/vm/drop_caches \\
                             /proc/sys/kernel/hostname /proc/sys/net/ipv4/ip_forward /proc/sysrq-trigger; do
                      test -e $f || continue
                      (exec 5>>$f) 2>/dev/null; echo "open $f=$?"
                    done
                    (exec 5>>/proc/self/oom_score_adj); echo "control=$?"
                    """);

            List<String> opens =
                    r.lines().stream().filter(l -> l.startsWith("open ")).toList();
            assertThat(opens)
                    .hasSizeGreaterThanOrEqualTo(emulatesTheKernel() ? 2 : 4)
                    .allSatisfy(l -> assertThat(l).doesNotEndWith("=0"));
            assertThat(r.value("control"))
                    .as("its own oom_score_adj is writable")
                    .isEqualTo("0");
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** Host processes are out of sight and out of reach; privilege cannot be regained. */
    @Nested
    class Processes {
        @Test
        void hostProcessesAreInvisible() throws Exception {
            long jvm = ProcessHandle.current().pid();

            // Nothing to look for is named in the script: ps shows the script itself.
            Result r = inside().run("""
                    echo "self=$$"
                    ps -eo pid=,args=
                    echo "count=$(ls /proc | grep -cE '^[0-9]+$')"
                    echo "jvm=$(tr '\\0' ' ' < /proc/%d/cmdline)"
                    """.formatted(jvm));

            assertThat(Integer.parseInt(r.value("count"))).isLessThan(10);
            assertThat(r.value("jvm")).as("the test JVM's command line").isEmpty();
            assertThat(r.output()).doesNotContain("surefire", "systemd", "sshd", "java");
            assertThat(r.lines())
                    .as("control: ps sees the sandbox's own shell")
                    .anyMatch(l -> l.strip().startsWith(r.value("self") + " "));
        }

        @Test
        void aHostProcessCannotBeSignalledEvenUnderTheSameUid() throws Exception {
            Process target = null;
            long pid = ProcessHandle.current().pid();
            if (Inside.hostIsRoot()) {
                // A host process of the sandbox's own uid: the uid check would allow the signal.
                target = new ProcessBuilder(
                                "setpriv", "--reuid=" + UID, "--regid=" + UID, "--clear-groups", "sleep", "60")
                        .start();
                pid = target.pid();
                // setpriv starts as root and switches uid a moment later: wait for it, or the
                // control below races it and is refused for the wrong reason.
                Path status = Path.of("/proc", Long.toString(pid), "status");
                for (int i = 0;
                        i < 500 && !java.nio.file.Files.readString(status).contains("Uid:\t" + UID + "\t");
                        i++) {
                    Thread.sleep(10);
                }
                assertThat(hostCommand(
                                "setpriv",
                                "--reuid=" + UID,
                                "--regid=" + UID,
                                "--clear-groups",
                                "sh",
                                "-c",
                                "kill -0 " + pid + " && echo allowed"))
                        .as("control: uid %d may signal it on the host", UID)
                        .contains("allowed");
            }
            try {
                Result r = inside().run("""
                        kill -0 %1$d; echo "probe=$?"
                        kill -CONT %1$d; echo "cont=$?"
                        kill -0 $$; echo "self=$?"
                        """.formatted(pid));

                assertThat(r.value("probe")).isNotEqualTo("0");
                assertThat(r.value("cont")).isNotEqualTo("0");
                assertThat(r.value("self")).isEqualTo("0");
                if (target != null) {
                    assertThat(target.isAlive()).isTrue();
                }
            } finally {
                if (target != null) {
                    target.destroyForcibly();
                }
            }
        }

        @Test
        void ptraceIsRefused() throws Exception {
            Result r = inside().withProbe()
                    .run("sleep 30 & victim=$!\n"
                            + probe(
                                    getpid(),
                                    Syscall.PTRACE.call("attach", 16, "$victim"),
                                    Syscall.PTRACE.call("seize", 0x4206, "$victim"),
                                    Syscall.PTRACE.call("attach-parent", 16, "$$"),
                                    // Last: had it worked, the probe would stop at its next signal.
                                    Syscall.PTRACE.call("traceme", 0))
                            + "\nstrace -f true; echo \"strace=$?\"\nkill $victim\n");

            assertProbeWorks(r);
            assertRefused(r, "attach", "seize", "attach-parent", "traceme");
            assertThat(r.value("strace")).isNotEqualTo("0");
        }

        @Test
        void tiocstiCannotPushInputIntoATerminal() throws Exception {
            Result r = inside().withProbe().run("""
                            echo "ctty=$(ps -o tty= -p $$)"
                            command -v script >/dev/null || echo no-script
                            script -qec '%s' /dev/null; echo "script=$?"
                            """.formatted(probe(
                    getpid(),
                    Syscall.IOCTL.call("tcgets", 0, 0x5401, 0),
                    Syscall.IOCTL.call("tiocsti", 0, 0x5412, 0),
                    Syscall.IOCTL.call("tiocsti-high", 0, 0x1_0000_5412L, 0))));

            assertThat(r.value("ctty").strip())
                    .as("no controlling terminal of the daemon")
                    .isEqualTo("?");
            assumeFalse(r.output().contains("no-script"), "util-linux script is not installed in the sandbox");
            assertProbeWorks(r);
            assertThat(r.call("tcgets").errno())
                    .as("control: fd 0 is a terminal (EFAULT for the null pointer, not ENOTTY)")
                    .isEqualTo(EFAULT);
            // EIO: the kernel's own dev.tty.legacy_tiocsti=0 refusal.
            Set<Long> refused = new HashSet<>(REFUSED);
            refused.add(EIO);
            assertRefusedWith(r, refused, "tiocsti", "tiocsti-high");
        }

        @Test
        void coreDumpsStayInsideAndCorePatternIsNotWritable() throws Exception {
            String pattern = Files.readString(Path.of("/proc/sys/kernel/core_pattern"));
            Path cwd = Path.of("").toAbsolutePath();
            Set<Path> before = cores(cwd);

            Result r = inside().run("""
                    (exec 5>>/proc/sys/kernel/core_pattern); echo "open-core-pattern=$?"
                    ulimit -c unlimited; echo "rlimit=$(ulimit -c)"
                    cd /tmp && bash -c 'kill -SEGV $$'; echo "crashed=$?"
                    """);

            assertThat(r.value("open-core-pattern")).isNotEqualTo("0");
            assertThat(r.value("crashed")).isEqualTo("139");
            assertThat(Files.readString(Path.of("/proc/sys/kernel/core_pattern")))
                    .isEqualTo(pattern);
            assertThat(cores(cwd)).isEqualTo(before);
            assertThat(cores(host)).isEmpty();
        }

        /**
         * Core files under {@code dir}, three levels deep. Other test classes write surefire reports
         * under the module directory while this walks it, so a file that vanishes mid-walk is skipped
         * rather than failing the scenario (it did, once, in CI).
         */
        private static Set<Path> cores(Path dir) throws IOException {
            Set<Path> found = new HashSet<>();
            Files.walkFileTree(dir, Set.of(), 3, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
                    if (f.getFileName().toString().startsWith("core")
                            && !f.toString().contains("/workspace/")) {
                        found.add(f);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }
            });
            return found;
        }

        @Test
        void setuidBinariesGrantNoPrivilege() throws Exception {
            Inside sandbox = inside();
            if (Inside.hostIsRoot()) {
                // A setuid-root copy of id(1): it prints euid=0 wherever the setuid bit is honoured.
                Path dir = openDirectory(host.resolve("suid"));
                Path id = Files.copy(Path.of("/usr/bin/id"), dir.resolve("id"), StandardCopyOption.REPLACE_EXISTING);
                Files.setAttribute(id, "unix:mode", 04755);
                assertThat(hostCommand("setpriv", "--reuid=" + UID, "--regid=" + UID, "--clear-groups", id.toString()))
                        .as("control: on the host the planted binary gives root")
                        .contains("euid=0");
                sandbox.mount(dir, "/opt/suid", Mode.READ_ONLY);
            }

            Result r = sandbox.run("""
                    for f in /usr/bin/su /usr/bin/passwd /usr/bin/mount; do test -u $f && echo "setuid $f"; done
                    su -c 'id -u' root </dev/null; echo "su=$?"
                    passwd -S root </dev/null; echo "passwd=$?"
                    mount -t tmpfs none /tmp; echo "mount=$?"
                    test -x /opt/suid/id && { /opt/suid/id; echo "planted=$?"; }
                    grep -E '^(Uid|Gid|CapEff|CapPrm|NoNewPrivs):' /proc/self/status
                    """);

            assertThat(r.output()).as("control: the binaries are setuid").contains("setuid /usr/bin/su");
            assertThat(List.of(r.value("su"), r.value("mount"))).doesNotContain("0");
            assertThat(r.output())
                    .doesNotContain("euid=0")
                    .contains("CapEff:\t0000000000000000", "CapPrm:\t0000000000000000");
            if (!emulatesTheKernel()) {
                // gVisor's /proc/self/status has no NoNewPrivs line; the planted binary above shows it.
                assertThat(r.output()).contains("NoNewPrivs:\t1");
            }
            assertThat(r.lines())
                    .filteredOn(l -> l.startsWith("Uid:"))
                    .singleElement()
                    .satisfies(l -> assertThat(l.split("\t", -1)).doesNotContain("0"));
            if (Inside.hostIsRoot()) {
                assertThat(r.value("planted")).isEqualTo("0");
            }
        }

        @Test
        void aDaemonizedProcessDoesNotOutliveItsSandbox(TestReporter report) throws Exception {
            int mark = marker();
            List<String> marks =
                    List.of(Integer.toString(mark), Integer.toString(mark + 1), Integer.toString(mark + 2));

            try (Running running = inside().start("""
                    setsid -f sleep %s
                    (sleep %s &)
                    nohup sleep %s >/dev/null 2>&1 &
                    disown -a
                    echo detached
                    """.formatted(marks.toArray()))) {
                Result r = running.await();
                assertThat(r.output()).contains("detached");
                // Not closed yet: what ends them must be the end of the command, not close(). The kernel
                // kills what is left when the sandbox's init exits; that can trail exit() by moments.
                long atExit = survivors(marks).size();
                long exited = System.nanoTime();
                long deadline = exited + Inside.PATIENCE.toNanos();
                while (!survivors(marks).isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                report.publishEntry(
                        "daemonized",
                        atExit == 0
                                ? "none was alive when exit() completed"
                                : "%d of 3 still alive when exit() completed, gone %.1f ms later"
                                        .formatted(atExit, (System.nanoTime() - exited) / 1e6));
                assertThat(survivors(marks))
                        .as("detached processes after the sandbox exited")
                        .isEmpty();
            }
        }

        private static List<ProcessHandle> survivors(List<String> marks) {
            return marks.stream()
                    .flatMap(m -> hostProcesses("sleep", m).stream())
                    .toList();
        }

        @Test
        void theHostnameIsTheSpecsAndCannotBeChanged() throws Exception {
            String hostName = Files.readString(Path.of("/proc/sys/kernel/hostname"));

            Result r = inside().run("""
                    echo "name=$(hostname)"
                    hostname evil; echo "set=$?"
                    echo "after=$(cat /proc/sys/kernel/hostname)"
                    """);

            assertThat(r.value("name")).isEqualTo("cordon");
            assertThat(r.value("set")).isNotEqualTo("0");
            assertThat(r.value("after")).isEqualTo("cordon");
            assertThat(Files.readString(Path.of("/proc/sys/kernel/hostname"))).isEqualTo(hostName);
        }

        @Test
        void theHostsSharedMemoryAndMessageQueuesAreInvisible() throws Exception {
            String out = hostCommand("ipcmk", "-M", "4096");
            String shmId = out.replaceAll("(?s).*?(\\d+)\\s*$", "$1");
            Path posix = writeFile(Path.of("/dev/shm", "cordon-escape-" + UUID.randomUUID()), secret(), "rw-rw-rw-");
            try {
                assertThat(hostCommand("ipcs", "-m"))
                        .as("control: the host's segment")
                        .contains(shmId);

                Result r = inside().run("""
                        segments() { ipcs -m | tail -n +4 | sed '/^$/d' | tr -s ' ' | cut -d' ' -f2 | tr '\\n' ' '; }
                        echo "sysv=$(segments)"
                        echo "posix=$(ls -A /dev/shm | tr '\\n' ' ')"
                        ipcmk -M 4096 >/dev/null && echo "own=$(segments)"
                        """);

                assertThat(r.value("sysv")).isBlank();
                assertThat(r.value("posix")).isBlank();
                if (!emulatesTheKernel()) {
                    assertThat(r.value("own"))
                            .as("control: ipcs sees a segment made inside")
                            .isNotBlank();
                }
            } finally {
                hostCommand("ipcrm", "-m", shmId);
                Files.deleteIfExists(posix);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    /**
     * Kernel interfaces that change state shared with the host, or expose attack surface, are refused.
     * Each call's pointer arguments are 0: where the call would have got past its permission check,
     * the kernel would answer EFAULT or succeed, and the scenario fails.
     */
    @Nested
    class Kernel {
        Result probeAfter(String shell, String... calls) {
            String[] all =
                    Stream.concat(Stream.of(getpid()), Arrays.stream(calls)).toArray(String[]::new);
            return inside().withProbe().run(shell + "\n" + probe(all) + "\n");
        }

        @Test
        void mountAndTheNewMountApiAreRefused() throws Exception {
            Result r = probeAfter(
                    """
                    mkdir /tmp/m
                    mount -t tmpfs none /tmp/m; echo "mount-tmpfs=$?"
                    mount --bind /workspace /tmp/m; echo "mount-bind=$?"
                    mount -o remount,rw /usr; echo "remount-usr=$?"
                    umount /workspace; echo "umount=$?"
                    """,
                    Syscall.MOUNT.call("mount", 0, 0, 0, 0, 0),
                    Syscall.UMOUNT2.call("umount2", 0, 0),
                    Syscall.FSOPEN.call("fsopen", 0, 0),
                    Syscall.OPEN_TREE.call("open_tree", AT_FDCWD, 0, 0),
                    Syscall.MOUNT_SETATTR.call("mount_setattr", AT_FDCWD, 0, 0, 0, 0));

            assertProbeWorks(r);
            assertRefused(r, "mount", "umount2", "fsopen", "open_tree", "mount_setattr");
            for (String tool : List.of("mount-tmpfs", "mount-bind", "remount-usr", "umount")) {
                assertThat(r.value(tool)).as(tool).isNotEqualTo("0");
            }
        }

        @Test
        void aUserNamespaceCannotBeCreated() throws Exception {
            Result r = probeAfter(
                    """
                    unshare -U true; echo "unshare-U=$?"
                    unshare -Ur id -u; echo "unshare-Ur=$?"
                    """,
                    Syscall.UNSHARE.call("unshare-newuser", CLONE_NEWUSER),
                    Syscall.CLONE.call("clone-newuser", CLONE_NEWUSER | SIGCHLD),
                    Syscall.CLONE.call("fork", SIGCHLD));

            assertProbeWorks(r);
            assertRefused(r, "unshare-newuser", "clone-newuser");
            assertThat(r.call("fork").succeeded()).as("control: a plain fork").isTrue();
            assertThat(List.of(r.value("unshare-U"), r.value("unshare-Ur"))).doesNotContain("0");
        }

        @Test
        void noNamespaceOfAnyKindCanBeCreatedWhileForkWorks() throws Exception {
            Map<String, Long> flags = new LinkedHashMap<>();
            flags.put("newns", 0x00020000L);
            flags.put("newcgroup", 0x02000000L);
            flags.put("newuts", 0x04000000L);
            flags.put("newipc", 0x08000000L);
            flags.put("newpid", 0x20000000L);
            flags.put("newnet", 0x40000000L);
            List<String> calls = new ArrayList<>();
            flags.forEach((name, flag) -> {
                calls.add(Syscall.UNSHARE.call("unshare-" + name, flag));
                calls.add(Syscall.CLONE.call("clone-" + name, flag | SIGCHLD));
            });
            calls.add(Syscall.UNSHARE.call("unshare-newtime", 0x80));
            calls.add(Syscall.CLONE3.call("clone3", 0, 0));
            calls.add(Syscall.CLONE.call("fork", SIGCHLD));

            Result r = probeAfter("", calls.toArray(String[]::new));

            assertProbeWorks(r);
            List<String> labels = new ArrayList<>();
            flags.keySet().forEach(name -> labels.addAll(List.of("unshare-" + name, "clone-" + name)));
            labels.addAll(List.of("unshare-newtime", "clone3"));
            assertRefused(r, labels.toArray(String[]::new));
            assertThat(r.call("fork").succeeded()).as("control: a plain fork").isTrue();
        }

        @Test
        void kernelKeyringsAreUnreachable() throws Exception {
            Result r = probeAfter(
                    "",
                    // KEYCTL_GET_KEYRING_ID of the user keyring: succeeds for anyone the filter lets through.
                    Syscall.KEYCTL.call("keyctl-user-keyring", 0, -4, 1),
                    Syscall.KEYCTL.call("keyctl-join-session", 1, 0),
                    Syscall.ADD_KEY.call("add_key", 0, 0, 0, 0, -4),
                    Syscall.REQUEST_KEY.call("request_key", 0, 0, 0, 0));

            assertProbeWorks(r);
            assertRefused(r, "keyctl-user-keyring", "keyctl-join-session", "add_key", "request_key");
        }

        @Test
        void bpfIsRefused() throws Exception {
            Result r = probeAfter(
                    "", Syscall.BPF.call("bpf-map-create", 0, 0, 0), Syscall.BPF.call("bpf-prog-load", 5, 0, 0));

            assertProbeWorks(r);
            assertRefused(r, "bpf-map-create", "bpf-prog-load");
        }

        @Test
        void kernelModulesCannotBeLoadedOrRemoved() throws Exception {
            Result r = probeAfter(
                    "",
                    Syscall.INIT_MODULE.call("init_module", 0, 0, 0),
                    Syscall.FINIT_MODULE.call("finit_module", 0, 0, 0),
                    Syscall.DELETE_MODULE.call("delete_module", 0, 0));

            assertProbeWorks(r);
            assertRefused(r, "init_module", "finit_module", "delete_module");
        }

        @Test
        void kexecIsRefused() throws Exception {
            Result r = probeAfter(
                    "",
                    Syscall.KEXEC_LOAD.call("kexec_load", 0, 0, 0, 0),
                    Syscall.KEXEC_FILE_LOAD.call("kexec_file_load", -1, -1, 0, 0, 0));

            assertProbeWorks(r);
            assertRefused(r, "kexec_load", "kexec_file_load");
        }

        @Test
        void perfEventsAreRefused() throws Exception {
            Result r = probeAfter("", Syscall.PERF_EVENT_OPEN.call("perf_event_open", 0, 0, -1, -1, 0));

            assertProbeWorks(r);
            assertRefused(r, "perf_event_open");
        }

        @Test
        void userfaultfdIsRefused() throws Exception {
            Result r = probeAfter(
                    "test -e /dev/userfaultfd && echo DEV-USERFAULTFD",
                    // UFFD_USER_MODE_ONLY: allowed to unprivileged users by the kernel itself.
                    Syscall.USERFAULTFD.call("userfaultfd-user-mode", 1),
                    Syscall.USERFAULTFD.call("userfaultfd", 0));

            assertProbeWorks(r);
            assertRefused(r, "userfaultfd-user-mode", "userfaultfd");
            assertThat(r.output()).doesNotContain("DEV-USERFAULTFD");
        }

        @Test
        void ioUringIsRefused() throws Exception {
            Result r = probeAfter("", Syscall.IO_URING_SETUP.call("io_uring_setup", 1, 0));

            assertProbeWorks(r);
            assertRefused(r, "io_uring_setup");
        }

        @Test
        void setnsIsRefused() throws Exception {
            Result r = probeAfter(
                    """
                    exec 5</proc/self/ns/net 6</proc/self/ns/mnt
                    nsenter --target 1 --mount --net true; echo "nsenter=$?"
                    """, Syscall.SETNS.call("setns-net", 5, 0), Syscall.SETNS.call("setns-mnt", 6, 0x00020000));

            assertProbeWorks(r);
            assertRefused(r, "setns-net", "setns-mnt");
            assertThat(r.value("nsenter")).isNotEqualTo("0");
        }

        @Test
        void chrootIsRefused() throws Exception {
            Result r = probeAfter(
                    "/usr/sbin/chroot /workspace /usr/bin/true; echo \"chroot=$?\"", Syscall.CHROOT.call("chroot", 0));

            assertProbeWorks(r);
            assertRefused(r, "chroot");
            assertThat(r.value("chroot")).isNotEqualTo("0");
        }

        @Test
        void pivotRootIsRefused() throws Exception {
            Result r = probeAfter("""
                    mkdir -p /tmp/new/old
                    /usr/sbin/pivot_root /tmp/new /tmp/new/old; echo "pivot_root=$?"
                    """, Syscall.PIVOT_ROOT.call("pivot_root", 0, 0));

            assertProbeWorks(r);
            assertRefused(r, "pivot_root");
            assertThat(r.value("pivot_root")).isNotEqualTo("0");
        }

        @Test
        void filesCannotBeOpenedByHandle() throws Exception {
            Result r = probeAfter(
                    "",
                    Syscall.NAME_TO_HANDLE_AT.call("name_to_handle_at", AT_FDCWD, 0, 0, 0, 0),
                    Syscall.OPEN_BY_HANDLE_AT.call("open_by_handle_at", AT_FDCWD, 0, 0));

            assertProbeWorks(r);
            assertRefused(r, "name_to_handle_at", "open_by_handle_at");
        }

        @Test
        void anotherProcesssMemoryCannotBeReadOrWritten() throws Exception {
            // The probe's parent shell has the same uid: only the sandbox refuses this (with zero
            // iovecs the calls would succeed and move nothing).
            Result r = probeAfter(
                    "",
                    Syscall.PROCESS_VM_READV.call("readv-parent", "$$", 0, 0, 0, 0, 0),
                    Syscall.PROCESS_VM_WRITEV.call("writev-parent", "$$", 0, 0, 0, 0, 0),
                    Syscall.PROCESS_VM_READV.call("readv-init", 1, 0, 0, 0, 0, 0));

            assertProbeWorks(r);
            assertRefused(r, "readv-parent", "writev-parent", "readv-init");
        }

        @Test
        void theKernelLogIsUnreadable() throws Exception {
            Result r = probeAfter(
                    """
                    dmesg >/dev/null; echo "dmesg=$?"
                    test -e /dev/kmsg && echo DEV-KMSG
                    """, Syscall.SYSLOG.call("syslog-size", 10, 0, 0), Syscall.SYSLOG.call("syslog-read-all", 3, 0, 0));

            assertProbeWorks(r);
            assertRefused(r, "syslog-size", "syslog-read-all");
            assertThat(r.value("dmesg")).isNotEqualTo("0");
            assertThat(r.output()).doesNotContain("DEV-KMSG");
        }

        @Test
        void theHostClockCannotBeSet() throws Exception {
            // date sets the clock to the current second: harmless had it worked.
            Result r = probeAfter(
                    "date -s \"@$(date +%s)\" >/dev/null; echo \"date=$?\"",
                    Syscall.SETTIMEOFDAY.call("settimeofday", 0, 0), Syscall.CLOCK_SETTIME.call("clock_settime", 0, 0));

            assertProbeWorks(r);
            assertRefused(r, "settimeofday", "clock_settime");
            assertThat(r.value("date")).isNotEqualTo("0");
        }

        @Test
        void rebootAndSwapAreRefused() throws Exception {
            // No reboot magic numbers: even a call that got through would fail with EINVAL.
            Result r = probeAfter("", Syscall.REBOOT.call("reboot", 0, 0, 0, 0), Syscall.SWAPON.call("swapon", 0, 0));

            assertProbeWorks(r);
            assertRefused(r, "reboot", "swapon");
        }

        @Test
        void privilegeCannotBeRegainedWithSetuid() throws Exception {
            Result r = probeAfter(
                    "",
                    Syscall.SETUID.call("setuid-root", 0),
                    Syscall.SETGID.call("setgid-root", 0),
                    Syscall.SETRESUID.call("setresuid-root", 0, 0, 0),
                    Syscall.SETGROUPS.call("setgroups", 0, 0),
                    Syscall.SETUID.call("setuid-self", "$(id -u)"));

            assertProbeWorks(r);
            // EINVAL: in a user namespace, uid and gid 0 have no mapping at all.
            Set<Long> refused = new HashSet<>(REFUSED);
            refused.add(EINVAL);
            assertRefusedWith(r, refused, "setuid-root", "setgid-root", "setresuid-root", "setgroups");
            assertThat(r.call("setuid-self").succeeded())
                    .as("control: setuid to its own uid")
                    .isTrue();
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** A sandbox has a loopback of its own and nothing else: no host port, no DNS, no raw sockets. */
    @Nested
    class Network {
        @Test
        void aListenerOnTheHostsLoopbackIsUnreachableWhileTheSandboxHasItsOwn() throws Exception {
            InetAddress v4 = InetAddress.ofLiteral("127.0.0.1");
            try (Listener hostV4 = Listener.on(v4);
                    Listener hostV6 = Listener.onIfAvailable(InetAddress.ofLiteral("::1"))) {
                int port = hostV4.port();

                Result r = inside().run("""
                        (exec 3<>/dev/tcp/127.0.0.1/%1$d); echo "host-v4=$?"
                        %2$s
                        perl -MIO::Socket::INET -e '
                          my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => %1$d, Listen => 1, ReuseAddr => 1)
                            or die "listen: $!\\n";
                          my $c = $s->accept; print "own-accepted\\n"' &
                        for i in $(seq 100); do
                          (exec 3<>/dev/tcp/127.0.0.1/%1$d) 2>/dev/null && { echo "own=0"; break; }
                          sleep 0.05
                        done
                        wait
                        """.formatted(
                                port,
                                hostV6 == null
                                        ? ""
                                        : "(exec 3<>/dev/tcp/::1/%d); echo \"host-v6=$?\"".formatted(hostV6.port())));

                assertThat(r.value("host-v4")).isNotEqualTo("0");
                assertThat(hostV4.takeConnections()).isZero();
                if (hostV6 != null) {
                    assertThat(r.value("host-v6")).isNotEqualTo("0");
                    assertThat(hostV6.takeConnections()).isZero();
                }
                assertThat(r.value("own"))
                        .as("control: a listener on the sandbox's own loopback, same port")
                        .isEqualTo("0");
                assertThat(r.output()).contains("own-accepted");
                assertThat(hostV4.reachableFromTheHostAt(v4))
                        .as("control: the host listener works")
                        .isTrue();
            }
        }

        @Test
        void theHostsOtherAddressesAreUnreachable() throws Exception {
            List<InetAddress> addresses = new ArrayList<>();
            for (NetworkInterface nic : NetworkInterface.networkInterfaces().toList()) {
                if (nic.isUp() && !nic.isLoopback()) {
                    nic.inetAddresses()
                            .filter(a -> !a.isLinkLocalAddress() && !a.isLoopbackAddress())
                            .forEach(addresses::add);
                }
            }
            assumeFalse(addresses.isEmpty(), "this host has no address but loopback");
            try (Listener listener = Listener.on(null)) {
                StringBuilder script = new StringBuilder();
                for (InetAddress a : addresses) {
                    String literal =
                            a instanceof Inet6Address ? a.getHostAddress().replaceAll("%.*", "") : a.getHostAddress();
                    script.append("(exec 3<>/dev/tcp/%s/%d); echo \"reach %s=$?\"\n"
                            .formatted(literal, listener.port(), literal));
                }

                Result r = inside().run(script.toString());

                assertThat(r.lines().stream().filter(l -> l.startsWith("reach ")))
                        .hasSize(addresses.size())
                        .allSatisfy(l -> assertThat(l).doesNotEndWith("=0"));
                assertThat(listener.takeConnections()).isZero();
                for (InetAddress a : addresses) {
                    assertThat(listener.reachableFromTheHostAt(a))
                            .as("control: the host reaches its listener at %s", a)
                            .isTrue();
                }
            }
        }

        @Test
        void onlyTheLoopbackInterfaceExistsAndThereIsNoRoute() throws Exception {
            Result r = inside().run("""
                    echo "interfaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' ')"
                    echo "routes=$(tail -n +2 /proc/net/route | wc -l)"
                    ip -o link
                    echo "up=$(ip -o link show lo | grep -c UP)"
                    """);

            assertThat(r.value("interfaces").strip()).isEqualTo("lo");
            assertThat(r.value("routes")).isEqualTo("0");
            assertThat(r.value("up")).as("control: lo is up").isEqualTo("1");
        }

        @Test
        void rawAndPacketSocketsAreRefused() throws Exception {
            // socket(family, type, protocol): AF_UNIX 1, AF_INET 2, AF_INET6 10, AF_PACKET 17; SOCK_STREAM 1,
            // SOCK_DGRAM 2, SOCK_RAW 3; 0x300 is ETH_P_ALL in network byte order.
            Result r = inside().withProbe()
                    .run(probe(
                            getpid(),
                            Syscall.SOCKET.call("packet-raw", 17, 3, 0x300),
                            Syscall.SOCKET.call("packet-dgram", 17, 2, 0x300),
                            Syscall.SOCKET.call("inet-raw-icmp", 2, 3, 1),
                            Syscall.SOCKET.call("inet-raw-ip", 2, 3, 255),
                            Syscall.SOCKET.call("inet6-raw-icmp", 10, 3, 58),
                            Syscall.SOCKET.call("inet-stream", 2, 1, 0),
                            Syscall.SOCKET.call("unix-stream", 1, 1, 0)));

            assertProbeWorks(r);
            Set<Long> refused = new HashSet<>(REFUSED);
            refused.addAll(List.of(93L, 94L, 97L)); // EPROTONOSUPPORT, ESOCKTNOSUPPORT, EAFNOSUPPORT
            assertRefusedWith(
                    r, refused, "packet-raw", "packet-dgram", "inet-raw-icmp", "inet-raw-ip", "inet6-raw-icmp");
            assertThat(r.call("inet-stream").succeeded())
                    .as("control: an ordinary TCP socket")
                    .isTrue();
            assertThat(r.call("unix-stream").succeeded())
                    .as("control: a Unix socket")
                    .isTrue();
        }

        @Test
        void dnsLookupsFailAndTheHostsResolverIsUnreachable() throws Exception {
            List<String> resolvers = new ArrayList<>();
            Path resolvConf = Path.of("/etc/resolv.conf");
            if (Files.isReadable(resolvConf)) {
                for (String line : Files.readAllLines(resolvConf)) {
                    String[] f = line.strip().split("\\s+", -1);
                    if (f.length >= 2 && f[0].equals("nameserver")) {
                        resolvers.add(f[1].replaceAll("%.*", ""));
                    }
                }
            }
            StringBuilder script = new StringBuilder("""
                    getent ahosts 127.0.0.1 >/dev/null; echo "numeric=$?"
                    getent hosts example.com; echo "dns=$?"
                    getent hosts cordon.dev; echo "dns2=$?"
                    """);
            for (String ns : resolvers) {
                script.append("(exec 3<>/dev/tcp/%s/53); echo \"resolver %s=$?\"\n".formatted(ns, ns));
            }

            Result r = inside().run(script.toString());

            assertThat(r.value("numeric")).as("control: getent works inside").isEqualTo("0");
            assertThat(r.value("dns")).isNotEqualTo("0");
            assertThat(r.value("dns2")).isNotEqualTo("0");
            assertThat(r.lines().stream().filter(l -> l.startsWith("resolver ")))
                    .hasSize(resolvers.size())
                    .allSatisfy(l -> assertThat(l).doesNotEndWith("=0"));
        }

        @Test
        void theInternetIsUnreachable() throws Exception {
            Result r = inside().run("""
                    (exec 3<>/dev/tcp/1.1.1.1/443); echo "v4=$?"
                    (exec 3<>/dev/tcp/2606:4700:4700::1111/443); echo "v6=$?"
                    (exec 3<>/dev/udp/8.8.8.8/53); echo "udp=$?"
                    """);

            assertThat(List.of(r.value("v4"), r.value("v6"), r.value("udp"))).doesNotContain("0");
            // No route at all: Linux says the network is unreachable; gVisor's own stack, no route to host.
            assertThat(r.output()).containsAnyOf("Network is unreachable", "No route to host");
        }

        @Test
        void theHostsAbstractUnixSocketsAreUnreachable() throws Exception {
            assumeTrue(Files.isExecutable(Path.of("/usr/bin/perl")), "perl on the host");
            String name = "cordon-escape-" + UUID.randomUUID();
            String server = """
                    use IO::Socket::UNIX; $| = 1;
                    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => "\\0%s", Listen => 5) or die "listen: $!";
                    print "listening\\n";
                    while (my $c = $s->accept) { print $c "hello-from-the-host\\n"; close $c }
                    """.formatted(name);
            String client = """
                    use IO::Socket::UNIX;
                    my $c = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => "\\0%s") or die "connect: $!\\n";
                    print scalar <$c>;
                    """.formatted(name);
            // The host's abstract namespace is where containerd-shim once listened (CVE-2020-15257).
            Process listener = new ProcessBuilder("/usr/bin/perl", "-e", server)
                    .redirectErrorStream(true)
                    .start();
            try (BufferedReader out =
                    new BufferedReader(new InputStreamReader(listener.getInputStream(), StandardCharsets.UTF_8))) {
                assertThat(out.readLine()).isEqualTo("listening");
                assertThat(hostCommand("/usr/bin/perl", "-e", client))
                        .as("control: a host process connects")
                        .contains("hello-from-the-host");

                Result r = inside().run("perl -e '" + client + "'; echo \"connect=$?\"");

                assertThat(r.output()).doesNotContain("hello-from-the-host").contains("connect: ");
                assertThat(r.value("connect")).isNotEqualTo("0");
            } finally {
                listener.destroyForcibly();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** A sandbox that exhausts memory, pids, CPU or /tmp hurts only itself; all but /tmp need cgroup limits. */
    @Nested
    class Resources {
        /** Skips a scenario that needs cgroup limits where the backend declares it cannot enforce them. */
        void requireLimits() {
            assumeTrue(
                    enforcesLimits(),
                    "declared gap: " + backend().name() + " does not enforce resource limits here (see DeclaredGaps)");
        }

        @Test
        void aForkBombHitsThePidsLimitAndTheHostKeepsWorking() throws Exception {
            requireLimits();
            // perl, not bash: bash retries a failed fork for seconds before it reports EAGAIN.
            Result r = inside().limits(new Limits(256 * MIB, 64, 1000)).run("""
                            perl -e '$| = 1; for my $i (1..1000) { my $p = fork;
                              if (!defined $p) { print "fork $i failed: $!\\n"; exit 0 }
                              if (!$p) { sleep 30; exit 0 } } print "all 1000 forked\\n"'
                            echo survived
                            """);

            assertThat(r.output()).doesNotContain("all 1000 forked");
            if (limitsStopTheWholeSandbox()) {
                assertThat(r.exit() != 0 || r.output().contains("Resource temporarily unavailable"))
                        .as("the bomb was stopped:%n%s", r.output())
                        .isTrue();
            } else {
                assertThat(r.output()).contains("Resource temporarily unavailable", "survived");
                int forked = Integer.parseInt(r.output().replaceAll("(?s).*fork (\\d+) failed.*", "$1"));
                assertThat(forked).isLessThanOrEqualTo(64);
            }
            assertThat(new ProcessBuilder("/bin/true").start().waitFor())
                    .as("the host still forks")
                    .isZero();
        }

        @Test
        void aMemoryBombIsOomKilledAndTheSandboxSaysSo() throws Exception {
            requireLimits();
            Inside sandbox = inside().limits(new Limits(64 * MIB, 64, 1000));

            Result calm = sandbox.run("head -c 8M /dev/zero | tail | wc -c");
            Result bomb = sandbox.run("""
                    head -c 1G /dev/zero | tail | wc -c; echo "tail=${PIPESTATUS[1]}"
                    echo shell-alive
                    """);

            assertThat(calm.output().strip()).as("control: 8 MiB fit").isEqualTo("8388608");
            assertThat(calm.oomKilled()).as("control: nothing was killed").isFalse();
            if (!limitsStopTheWholeSandbox()) {
                assertThat(bomb.value("tail")).isEqualTo("137");
            }
            assertThat(bomb.output()).doesNotContain("1073741824");
            assertThat(bomb.oomKilled()).isTrue();
        }

        @Test
        void fillingTmpStopsAtItsSizeWithNoSpaceLeft() throws Exception {
            Result r = inside().run("""
                    head -c 400M /dev/zero > /tmp/fill; echo "fill=$?"
                    echo "mib=$(du -m /tmp/fill | cut -f1)"
                    echo after > /workspace/after && echo workspace-still-writable
                    """);

            assertThat(r.output()).contains("No space left on device", "workspace-still-writable");
            assertThat(r.value("fill")).isNotEqualTo("0");
            assertThat(Integer.parseInt(r.value("mib")))
                    .as("MiB written before ENOSPC")
                    .isBetween(128, 256);
        }

        @Test
        void aCpuSpinIsThrottledToItsQuota(TestReporter report) throws Exception {
            requireLimits();
            if (emulatesTheKernel()) {
                // An emulated kernel's /proc times are its own bookkeeping, not the host's quota:
                // measure the whole sandbox (its kernel included) from the host's cgroup instead.
                try (Running a = inside().limits(new Limits(256 * MIB, 64, 200))
                        .start("( while :; do :; done ) & echo spinning; sleep 30")) {
                    a.awaitOutput("spinning");
                    Thread.sleep(300);
                    long cpu0 = a.cpuNanos();
                    long wall0 = System.nanoTime();
                    Thread.sleep(2_000);
                    double fraction = (a.cpuNanos() - cpu0) / (double) (System.nanoTime() - wall0);
                    report.publishEntry("cpu", "200 millicores, host cgroup: %.3f of a CPU".formatted(fraction));
                    assertThat(fraction).isLessThan(0.35).isGreaterThan(0.01);
                }
                return;
            }
            // Measured inside, from the spinner's own CPU ticks, so that any backend can be checked.
            String spin = """
                    ( while :; do :; done ) & p=$!
                    sleep 0.3
                    ticks() { cut -d' ' -f14,15 /proc/$p/stat | tr ' ' '+'; }
                    read -r up0 _ < /proc/uptime; t0=$(( $(ticks) ))
                    sleep 2
                    read -r up1 _ < /proc/uptime; t1=$(( $(ticks) ))
                    kill $p
                    echo "ticks=$((t1 - t0))"
                    echo "hz=$(getconf CLK_TCK)"
                    echo "uptimes=$up0 $up1"
                    """;
            Result limited;
            Result control;
            try (Running a = inside().limits(new Limits(256 * MIB, 64, 200)).start(spin);
                    Running b = inside().limits(new Limits(256 * MIB, 64, 1000)).start(spin)) {
                limited = a.await();
                control = b.await();
            }

            double fraction = cpuFraction(limited);
            double unthrottled = cpuFraction(control);
            report.publishEntry(
                    "cpu",
                    "200 millicores: %.3f of a CPU; 1000 millicores alongside: %.3f".formatted(fraction, unthrottled));
            // A measurement of the kernel with a wide margin, not a timing of our code: the quota allows
            // 0.2 of a CPU, and the spin ran at all if it got more than a sliver. The full-core spin is
            // reported, not asserted: on a busy host the fair share of every spinner may fall below 0.2.
            assertThat(fraction).isLessThan(0.35).isGreaterThan(0.01);
        }

        /** The spinner's CPU seconds over the wall-clock seconds between the two readings. */
        private static double cpuFraction(Result r) {
            String[] uptimes = r.value("uptimes").split(" ", -1);
            double wall = Double.parseDouble(uptimes[1]) - Double.parseDouble(uptimes[0]);
            return Double.parseDouble(r.value("ticks")) / Double.parseDouble(r.value("hz")) / wall;
        }

        @Test
        void aBombInOneSandboxDoesNotStopAnother() throws Exception {
            requireLimits();
            Inside bomber = inside().limits(new Limits(64 * MIB, 64, 200));
            try (Running bombs = bomber.start("""
                    bash -c 'x=a; while :; do x=$x$x; done' &
                    perl -e '$| = 1; for (1..1000) { my $p = fork; last unless defined $p;
                      if (!$p) { sleep 1; 1 while 1 } } print "armed\\n"; sleep 60'
                    """)) {
                if (limitsStopTheWholeSandbox()) {
                    // gVisor: the bombs may take its kernel down, or, each spinner starving the others
                    // of the sandbox's 200 millicores, go on for minutes inside its limits (seen in
                    // CI: nothing printed after a minute). Either way the neighbour must run while
                    // they go off: once the host group holds more than the idle kernel's ~60 threads
                    // and the agent's 64 processes together.
                    bombs.awaitUsageOrExit(u -> u.pids() > 160, "more than 160 host tasks");
                } else {
                    bombs.awaitOutput("armed");
                }

                Result neighbour = inside().run("seq 1 100000 | tail -n 1; echo neighbour-done");

                if (limitsStopTheWholeSandbox()) {
                    if (!bombs.exited()) {
                        // The agent's limits plus gVisor's allowance for its kernel (OciRuntime.hostLimits).
                        ResourceUsage held = bombs.usage();
                        assertThat(held.pids()).as("the bombs' processes").isLessThanOrEqualTo(64 + 256);
                        assertThat(held.memoryBytes()).as("the bombs' memory").isLessThanOrEqualTo(128 * MIB);
                    }
                } else {
                    assertThat(bombs.exited())
                            .as("the bombs were still running")
                            .isFalse();
                }
                assertThat(neighbour.output()).contains("100000", "neighbour-done");
                assertThat(neighbour.exit()).isZero();
                assertThat(new ProcessBuilder("/bin/true").start().waitFor())
                        .as("the host still forks")
                        .isZero();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** No host credential or environment reaches a sandbox. */
    @Nested
    class Credentials {
        /** Variables bash sets for itself. */
        static final Set<String> SHELL_VARIABLES = Set.of("PWD", "SHLVL", "_", "OLDPWD");

        @Test
        void theEnvironmentIsExactlyTheSpecs() throws Exception {
            Result r = inside().run("env");

            Map<String, String> env = new HashMap<>();
            for (String line : r.lines()) {
                int eq = line.indexOf('=');
                if (eq > 0 && !SHELL_VARIABLES.contains(line.substring(0, eq))) {
                    env.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            assertThat(env).isEqualTo(Inside.ENV);
        }

        @Test
        void noProcessInsideCarriesAnyOfTheHostsEnvironment() throws Exception {
            Result r = inside().run("""
                    for p in /proc/[0-9]*; do echo "== $p"; tr '\\0' '\\n' < $p/environ; echo; done
                    """);

            assertThat(r.output()).as("control: the spec's variables are seen").contains("HOME=/workspace");
            Set<String> lines = new HashSet<>(r.lines());
            List<String> leaked = System.getenv().entrySet().stream()
                    .filter(e -> e.getValue().length() >= 4 && !e.getKey().equals("SHLVL"))
                    .filter(e -> !e.getValue().equals(Inside.ENV.get(e.getKey())))
                    .map(e -> e.getKey() + "=" + e.getValue())
                    .filter(lines::contains)
                    .toList();
            assertThat(leaked).isEmpty();
        }

        @Test
        void aSecretOnlyTheHostHoldsIsFoundNowhereInside() throws Exception {
            String secret = secret();
            String control = secret();
            writeFile(host.resolve("cordon-home/vault/provider-keys"), "ANTHROPIC_API_KEY=" + secret, "rw-------");
            writeFile(host.resolve("daemon.env"), "SECRET=" + secret, "rw-r--r--");
            Inside sandbox = inside();
            Files.writeString(sandbox.workspace().resolve("control.txt"), "planted " + control + "\n");

            // The needle reaches grep through a pipe, never a command line. /usr is the host's read-only
            // system tree (a fresh secret cannot be in it); /proc and /sys are searched where they could
            // hold another process's data: environments and command lines.
            Result r = sandbox.run("""
                    scan() {
                      grep -rlF -D skip -f <(echo "$1" | base64 -d) \\
                        $(find / -mindepth 1 -maxdepth 1 -type d ! -name proc ! -name sys ! -name usr) 2>/dev/null
                      for p in /proc/[0-9]*; do grep -lF -f <(echo "$1" | base64 -d) $p/environ $p/cmdline 2>/dev/null; done
                    }
                    echo "secret=$(scan %s | tr '\\n' ' ')"
                    echo "control=$(scan %s | tr '\\n' ' ')"
                    """.formatted(base64(secret), base64(control)));

            assertThat(r.value("secret")).isBlank();
            assertThat(r.value("control").strip()).isEqualTo("/workspace/control.txt");
        }

        static String base64(String s) {
            return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
        }

        @Test
        void wellKnownHostCredentialsAndSocketsAreAbsent() throws Exception {
            String home = System.getProperty("user.home");
            List<String> candidates = new ArrayList<>(List.of(
                    System.getProperty("user.dir"),
                    host.toString(),
                    home + "/.ssh",
                    home + "/.m2",
                    home + "/.aws",
                    home + "/.docker",
                    home + "/.kube",
                    home + "/.gnupg",
                    home + "/.config/gcloud",
                    "/var/run/docker.sock",
                    "/run/docker.sock",
                    "/run/containerd/containerd.sock",
                    "/run/podman/podman.sock",
                    "/run/user",
                    "/var/lib/cordon"));
            List<String> onHost =
                    candidates.stream().filter(p -> Files.exists(Path.of(p))).toList();
            assertThat(onHost).as("control: some of them exist on this host").isNotEmpty();

            Result r = inside().run(onHost.stream()
                            .map(p -> "test -e '" + p + "' && echo 'VISIBLE " + p + "'")
                            .collect(Collectors.joining("\n"))
                    + "\necho checked\n");

            assertThat(r.output()).contains("checked").doesNotContain("VISIBLE");
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** Who the sandboxed command is. */
    @Nested
    class Identity {
        @Test
        void theCommandRunsUnprivilegedWithNoCapabilitiesAndNoNewPrivileges() throws Exception {
            Result r = inside().run("""
                    grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status
                    """);

            Map<String, String> status = new HashMap<>();
            for (String line : r.lines()) {
                String[] kv = line.split(":\t?", 2);
                if (kv.length == 2) {
                    status.put(kv[0], kv[1].strip());
                }
            }
            // gVisor's status has neither CapAmb nor NoNewPrivs (setuidBinariesGrantNoPrivilege covers the latter).
            List<String> fields = emulatesTheKernel()
                    ? List.of("CapInh", "CapPrm", "CapEff", "CapBnd")
                    : List.of("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb");
            for (String cap : fields) {
                assertThat(status).as(r.output()).containsEntry(cap, "0000000000000000");
            }
            if (!emulatesTheKernel()) {
                assertThat(status).containsEntry("NoNewPrivs", "1");
            }
            List<String> uids = List.of(status.get("Uid").split("\\s+", -1));
            assertThat(uids).hasSize(4).doesNotContain("0");
            assertThat(status.get("Gid").split("\\s+", -1)).doesNotContain("0");
            if (runsAsSpecUid()) {
                assertThat(uids).containsOnly(Integer.toString(UID));
                // No supplementary group but, at most, its own gid again (podman lists it; it grants nothing).
                assertThat(status.get("Groups").split("\\s+", -1)).isSubsetOf("", Integer.toString(UID));
            }
        }
    }
}
