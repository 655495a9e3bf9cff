package dev.cordon.sandbox.bwrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.core.sandbox.SandboxSpec.Mount;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Attacks run from inside a real bubblewrap sandbox; each must fail. */
class BubblewrapBackendTest {
    static final int UID = 200_077;

    @TempDir
    Path dir;

    final SandboxBackend backend = Bubblewrap.backend();

    /** Runs {@code script} with bash in a sandbox whose workspace is {@code dir/ws}; returns its output. */
    String run(String script) throws Exception {
        return run(script, Limits.DEFAULTS);
    }

    String run(String script, Limits limits) throws Exception {
        Path ws = Files.createDirectories(dir.resolve("ws"));
        if (Bubblewrap.isRoot()) {
            Files.setAttribute(ws, "unix:uid", UID, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(ws, "unix:gid", UID, LinkOption.NOFOLLOW_LINKS);
        }
        Path log = dir.resolve("out.log");
        Files.deleteIfExists(log);
        SandboxSpec spec = new SandboxSpec(
                "test",
                List.of(new Mount(ws, "/workspace", Mode.READ_WRITE)),
                List.of("/usr/bin/bash", "-c", script),
                Map.of("PATH", "/usr/bin:/bin", "MARKER", "inside"),
                UID,
                UID,
                "cordon",
                "/workspace",
                log,
                limits);
        try (Sandbox sandbox = backend.start(spec)) {
            sandbox.exit().get(60, TimeUnit.SECONDS);
        }
        return Files.readString(log);
    }

    @Test
    void commandRunsAsAnUnprivilegedUidWithNoCapabilities() throws Exception {
        String out = run("id -u; grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' /proc/self/status");
        List<String> lines = out.lines().toList();
        assertThat(Integer.parseInt(lines.getFirst())).isNotZero();
        if (Bubblewrap.isRoot()) {
            assertThat(lines.getFirst()).isEqualTo(Integer.toString(UID));
        }
        assertThat(out).contains("CapEff:\t0000000000000000").contains("CapPrm:\t0000000000000000");
        assertThat(out).contains("NoNewPrivs:\t1");
    }

    @Test
    void hostFilesystemIsInvisibleBeyondTheMounts() throws Exception {
        String out = run("ls /; test -e /root && echo ROOT-VISIBLE; test -e /home && echo HOME-VISIBLE; " + "test -e "
                + dir + " && echo TEMPDIR-VISIBLE; cat /etc/shadow 2>&1 | head -1");
        assertThat(out).doesNotContain("ROOT-VISIBLE", "HOME-VISIBLE", "TEMPDIR-VISIBLE");
        assertThat(out).contains("workspace").contains("No such file");
    }

    @Test
    void systemDirectoriesAreReadOnly() throws Exception {
        String out = run("touch /usr/pwned 2>&1; echo x > /usr/bin/pwned 2>&1; echo rc=$?");
        assertThat(out).contains("Read-only file system");
        assertThat(Path.of("/usr/pwned")).doesNotExist();
    }

    @Test
    void networkHasOnlyLoopback() throws Exception {
        String out =
                run("cat /proc/net/dev | tail -n +3 | cut -d: -f1; " + "(exec 3<>/dev/tcp/1.1.1.1/53) 2>&1 | head -1");
        assertThat(out.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.contains("connect")))
                .containsExactly("lo");
        assertThat(out).containsAnyOf("Network is unreachable", "connect: ");
    }

    @Test
    void environmentIsExactlyTheSpecs() throws Exception {
        String out = run("env | sort");
        assertThat(out).contains("MARKER=inside");
        assertThat(out).doesNotContain("JAVA_HOME", "MAVEN", "HOSTNAME=", "SSH_", "USER=root");
    }

    @Test
    void hostProcessesAreInvisible() throws Exception {
        String out =
                run("ls /proc | grep -E '^[0-9]+$' | wc -l; kill -0 1 2>&1; cat /proc/1/environ 2>&1 | head -c 80");
        assertThat(Integer.parseInt(out.lines().findFirst().orElseThrow().strip()))
                .isLessThan(10);
        assertThat(out).doesNotContain("MAVEN", "JAVA_HOME");
    }

    @Test
    void workspaceIsWritableAndBelongsToTheSandboxUser() throws Exception {
        run("echo hello > /workspace/f.txt");
        Path file = dir.resolve("ws/f.txt");
        assertThat(file).hasContent("hello\n");
        if (Bubblewrap.isRoot()) {
            assertThat(Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS))
                    .isEqualTo(UID);
        }
    }

    @Test
    void tmpIsPrivateWritableAndBounded() throws Exception {
        String out = run("stat -c '%a' /tmp; echo hi > /tmp/x && cat /tmp/x; "
                + "head -c 400M /dev/zero 2>&1 >/tmp/fill; echo rc=$?; du -m /tmp/fill | cut -f1");
        List<String> lines = out.lines().toList();
        assertThat(lines.get(0)).isEqualTo("1777");
        assertThat(lines.get(1)).isEqualTo("hi");
        assertThat(out).contains("No space left on device");
        assertThat(Long.parseLong(lines.getLast().strip())).isLessThanOrEqualTo(256);
    }

    @Test
    void tmpIsAQuarterOfASmallMemoryLimitSoFillingItNeverCallsTheOomKiller() throws Exception {
        String out = run(
                "head -c 100M /dev/zero 2>&1 >/tmp/fill; echo rc=$?; du -m /tmp/fill | cut -f1; echo shell-alive",
                new Limits(128L << 20, 512, 1000));

        assertThat(out).contains("No space left on device", "rc=1", "shell-alive");
        assertThat(Long.parseLong(out.lines()
                        .toList()
                        .get(out.lines().toList().size() - 2)
                        .strip()))
                .isEqualTo(32);
    }

    @Test
    void everySandboxRunsUnderTheSeccompFilter() throws Exception {
        String out = run("grep '^Seccomp:' /proc/self/status; unshare -U true 2>&1; echo unshare=$?");
        assertThat(out)
                .contains("Seccomp:\t2")
                .contains("Operation not permitted")
                .contains("unshare=1");
    }

    @Test
    void aMemoryBombIsKilledInsideItsLimitAndTheSandboxSaysSo() throws Exception {
        Path ws = Files.createDirectories(dir.resolve("ws4"));
        SandboxSpec spec = new SandboxSpec(
                "bomb",
                List.of(new Mount(ws, "/workspace", Mode.READ_WRITE)),
                List.of("/usr/bin/bash", "-c", "x=a; while true; do x=$x$x; done"),
                Map.of("PATH", "/usr/bin"),
                UID,
                UID,
                "cordon",
                "/",
                dir.resolve("bomb.log"),
                new Limits(64L << 20, 64, 0));
        try (Sandbox sandbox = backend.start(spec)) {
            int status = sandbox.exit().get(60, TimeUnit.SECONDS);
            assertThat(status).isNotZero();
            assertThat(sandbox.oomKilled()).isTrue();
        }
    }

    @Test
    void aSandboxOutlivesTheThreadThatStartedIt() throws Exception {
        // --die-with-parent is the parent-death signal, bound to the forking *thread*.
        Path ws = Files.createDirectories(dir.resolve("ws5"));
        Path log = dir.resolve("outlive.log");
        SandboxSpec spec = new SandboxSpec(
                "outlive",
                List.of(new Mount(ws, "/workspace", Mode.READ_WRITE)),
                List.of("/usr/bin/bash", "-c", "sleep 1; echo survived"),
                Map.of("PATH", "/usr/bin"),
                UID,
                UID,
                "cordon",
                "/",
                log);
        java.util.concurrent.atomic.AtomicReference<Sandbox> started =
                new java.util.concurrent.atomic.AtomicReference<>();
        Thread starter = new Thread(() -> started.set(backend.start(spec)));
        starter.start();
        starter.join();
        try (Sandbox sandbox = started.get()) {
            assertThat(sandbox.exit().get(30, TimeUnit.SECONDS)).isZero();
        }
        assertThat(log).content().contains("survived");
    }

    @Test
    void devShmIsBoundedToo() throws Exception {
        String out = run("head -c 100M /dev/zero 2>&1 >/dev/shm/fill; du -m /dev/shm/fill | cut -f1");
        assertThat(out).contains("No space left on device");
        assertThat(Long.parseLong(out.lines().toList().getLast().strip())).isLessThanOrEqualTo(64);
    }

    @Test
    void sandboxNeverRunsAsRoot() {
        SandboxSpec spec = new SandboxSpec(
                "root", List.of(), List.of("/usr/bin/true"), Map.of(), 0, 0, "cordon", "/", dir.resolve("log"));
        assertThatThrownBy(() -> backend.start(spec))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("uid/gid 0");
    }

    @Test
    void closingTheSandboxKillsEveryProcessInside() throws Exception {
        Path ws = Files.createDirectories(dir.resolve("ws2"));
        SandboxSpec spec = new SandboxSpec(
                "kill",
                List.of(new Mount(ws, "/workspace", Mode.READ_WRITE)),
                List.of("/usr/bin/bash", "-c", "sleep 987654 & sleep 987654 & wait"),
                Map.of("PATH", "/usr/bin"),
                UID,
                UID,
                "cordon",
                "/",
                dir.resolve("kill.log"));
        Sandbox sandbox = backend.start(spec);
        for (int i = 0; i < 200 && sleepers() < 2; i++) {
            Thread.sleep(25);
        }
        assertThat(sleepers()).isEqualTo(2);
        sandbox.close();
        assertThat(sandbox.exit()).isDone();
        // The kernel reaps the pid namespace right after its init (bwrap) dies; give it a moment.
        long leftovers = 0;
        for (int i = 0; i < 200; i++) {
            leftovers = sleepers();
            if (leftovers == 0) {
                break;
            }
            Thread.sleep(50);
        }
        assertThat(leftovers).isZero();
    }

    static long sleepers() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().command().orElse("").endsWith("/sleep")
                        && p.info().commandLine().orElse("").contains("987654"))
                .count();
    }

    @Test
    void closingASandboxThatIsStillStartingLeavesNothingBehind() throws Exception {
        Path ws = Files.createDirectories(dir.resolve("ws3"));
        for (int i = 0; i < 20; i++) {
            Sandbox sandbox = backend.start(new SandboxSpec(
                    "early-" + i,
                    List.of(new Mount(ws, "/workspace", Mode.READ_WRITE)),
                    List.of("/usr/bin/sleep", "987654"),
                    Map.of(),
                    UID,
                    UID,
                    "cordon",
                    "/",
                    dir.resolve("early.log")));
            sandbox.close();
        }
        long bwraps = 0;
        for (int i = 0; i < 200; i++) {
            bwraps = ProcessHandle.allProcesses()
                    .filter(p -> p.info().commandLine().orElse("").contains("early.log")
                            || (p.info().command().orElse("").endsWith("bwrap")
                                    && p.info().commandLine().orElse("").contains(ws.toString())))
                    .filter(ProcessHandle::isAlive)
                    .count();
            if (bwraps == 0 && sleepers() == 0) {
                break;
            }
            Thread.sleep(50);
        }
        assertThat(bwraps).isZero();
        assertThat(sleepers()).isZero();
    }

    @Test
    void aBackendBuiltWithoutSeccompForMeasurementRunsUnfiltered() throws Exception {
        SandboxBackend unfiltered = Bubblewrap.backend(new Bubblewrap.Options(false, true));
        Path log = dir.resolve("unfiltered.log");
        SandboxSpec spec = new SandboxSpec(
                "unfiltered",
                List.of(),
                List.of("/usr/bin/grep", "^Seccomp:", "/proc/self/status"),
                Map.of(),
                UID,
                UID,
                "cordon",
                "/",
                log);
        try (Sandbox sandbox = unfiltered.start(spec)) {
            assertThat(sandbox.exit().get(60, TimeUnit.SECONDS)).isZero();
        }
        assertThat(log).content().contains("Seccomp:\t0");
    }

    @Test
    void aBackendBuiltWithoutCgroupsRefusesLimitsInsteadOfIgnoringThem() {
        SandboxBackend withoutCgroups = Bubblewrap.backend(new Bubblewrap.Options(true, false));
        assertThat(withoutCgroups.enforceableLimits()).isEmpty();
        SandboxSpec spec = trueIn("limited", Limits.DEFAULTS);
        assertThatThrownBy(() -> withoutCgroups.start(spec))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("without cgroups")
                .hasMessageContaining("Bubblewrap.backend()");
    }

    @Test
    void aBackendBuiltWithoutCgroupsStillKillsEverythingOnClose() throws Exception {
        SandboxBackend withoutCgroups = Bubblewrap.backend(new Bubblewrap.Options(true, false));
        Path ws = Files.createDirectories(dir.resolve("ws6"));
        Sandbox sandbox = withoutCgroups.start(new SandboxSpec(
                "nocg-kill",
                List.of(new Mount(ws, "/workspace", Mode.READ_WRITE)),
                List.of("/usr/bin/bash", "-c", "sleep 987654 & sleep 987654 & wait"),
                Map.of("PATH", "/usr/bin"),
                UID,
                UID,
                "cordon",
                "/",
                dir.resolve("nocg-kill.log"),
                Limits.UNLIMITED));
        for (int i = 0; i < 200 && sleepers() < 2; i++) {
            Thread.sleep(25);
        }
        assertThat(sleepers()).isEqualTo(2);
        sandbox.close();
        long leftovers = 0;
        for (int i = 0; i < 200; i++) {
            leftovers = sleepers();
            if (leftovers == 0) {
                break;
            }
            Thread.sleep(50);
        }
        assertThat(leftovers).isZero();
    }

    @Test
    void argumentsReachTheCommandByteForByteWhateverShellSyntaxTheyHold() throws Exception {
        // The bwrap command line travels through a shell (Shell.execLine): nothing in it may be interpreted.
        List<String> hostile = List.of(
                "it's", "a\nb", "$(touch /workspace/pwned)", "`touch /workspace/pwned`", "\\'\\", "$HOME", "*", "");
        Path ws = Files.createDirectories(dir.resolve("ws7"));
        if (Bubblewrap.isRoot()) {
            Files.setAttribute(ws, "unix:uid", UID, LinkOption.NOFOLLOW_LINKS);
        }
        Path log = dir.resolve("args.log");
        List<String> command = new java.util.ArrayList<>(
                List.of("/usr/bin/bash", "-c", "printf '[%s]\\n' \"$@\"; printenv ODD", "sh"));
        command.addAll(hostile);
        SandboxSpec spec = new SandboxSpec(
                "args",
                List.of(new Mount(ws, "/workspace", Mode.READ_WRITE)),
                command,
                Map.of("PATH", "/usr/bin", "ODD", "x'; touch /workspace/pwned; '"),
                UID,
                UID,
                "cordon",
                "/workspace",
                log);
        try (Sandbox sandbox = backend.start(spec)) {
            assertThat(sandbox.exit().get(60, TimeUnit.SECONDS)).isZero();
        }
        StringBuilder expected = new StringBuilder();
        hostile.forEach(h -> expected.append('[').append(h).append("]\n"));
        expected.append("x'; touch /workspace/pwned; '\n");
        assertThat(log).hasContent(expected.toString());
        assertThat(ws.resolve("pwned")).doesNotExist();
    }

    @Test
    void theCommandHoldsOnlyStandardInputOutputAndErrorWithNullInput() throws Exception {
        // ls, a child, lists the fds of this bash ($$), the sandboxed command itself.
        String out = run(
                "ls /proc/$$/fd > /tmp/fds; echo $(cat /tmp/fds); readlink /proc/$$/fd/0; read -r line; echo read=$?");
        assertThat(out.lines().toList()).containsExactly("0 1 2", "/dev/null", "read=1");
    }

    @Test
    void everySandboxGetsItsOwnSpecsLimitsWhetherItTakesTheSpareOrNot() throws Exception {
        Limits a = new Limits(0, 77, 0);
        Limits b = new Limits(0, 78, 0);
        List<Limits> sequence = List.of(a, a, b, b);
        List<String> groups = new java.util.ArrayList<>();
        for (int i = 0; i < sequence.size(); i++) {
            Limits limits = sequence.get(i);
            if (i > 0 && limits.equals(sequence.get(i - 1))) {
                awaitSpare(limits.maxPids());
            }
            String marker = "98765" + i;
            try (Sandbox sandbox = backend.start(new SandboxSpec(
                    "limits-" + i,
                    List.of(),
                    List.of("/usr/bin/sleep", marker),
                    Map.of(),
                    UID,
                    UID,
                    "cordon",
                    "/",
                    dir.resolve("limits.log"),
                    limits))) {
                Path group = pidsGroup(awaitProcess("sleep " + marker));
                assertThat(Files.readString(group.resolve("pids.max")).strip())
                        .isEqualTo(Integer.toString(limits.maxPids()));
                groups.add(group.getFileName().toString());
            }
        }
        // Starts 1 and 3 found a spare with their limits; start 2 found one with the wrong limits.
        assertThat(groups.get(0)).isEqualTo("limits-0");
        assertThat(groups.get(1)).startsWith("spare-");
        assertThat(groups.get(2)).isEqualTo("limits-2");
        assertThat(groups.get(3)).startsWith("spare-");
    }

    @Test
    void aJvmExitingWhileTheNextSpareIsBeingMadeLeavesNoSpareBehind() throws Exception {
        BubblewrapBackend exiting = (BubblewrapBackend) Bubblewrap.backend();
        try (Sandbox sandbox = exiting.start(trueIn("exiting-0", new Limits(0, 83, 0)))) {
            // The start has just begun the next spare in the background: the JVM exits now.
            exiting.discardSpareAtExit(java.time.Duration.ofSeconds(10));
            assertThat(sandbox.exit().get(60, TimeUnit.SECONDS)).isZero();
        }
        Thread.sleep(500); // a spare finished after the hook would be in place by now
        assertThat(spareGroups(83)).as("spare groups with this test's limits").isEmpty();
    }

    @Test
    void aSpareThatDiedIsPassedOverAndTheSandboxStillStarts() throws Exception {
        Limits limits = new Limits(0, 79, 0);
        try (Sandbox sandbox = backend.start(trueIn("dead-0", limits))) {
            assertThat(sandbox.exit().get(60, TimeUnit.SECONDS)).isZero();
        }
        Path spareGroup = awaitSpare(79);
        for (long pid : pids(spareGroup)) {
            Optional<ProcessHandle> spareProcess = ProcessHandle.of(pid);
            spareProcess.ifPresent(ProcessHandle::destroyForcibly);
            // Dead means reaped: a kill still in flight when the next start looks would hand that
            // start a dying shell (a race the backend cannot see, and not the one tested here).
            if (spareProcess.isPresent()) {
                spareProcess.get().onExit().get(10, TimeUnit.SECONDS);
            }
        }
        Path log = dir.resolve("after-dead.log");
        SandboxSpec second = new SandboxSpec(
                "dead-1",
                List.of(),
                List.of("/usr/bin/echo", "started"),
                Map.of(),
                UID,
                UID,
                "cordon",
                "/",
                log,
                limits);
        try (Sandbox sandbox = backend.start(second)) {
            assertThat(sandbox.exit().get(60, TimeUnit.SECONDS)).isZero();
        }
        assertThat(log).content().contains("started");
    }

    /** The pids cgroup folder of {@code pid}: its v1 pids line, else its v2 line. */
    static Path pidsGroup(long pid) throws Exception {
        Path v2 = null;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
            String[] parts = line.split(":", 3);
            if (List.of(parts[1].split(",")).contains("pids")) {
                return Path.of("/sys/fs/cgroup/pids" + parts[2]);
            }
            if (parts[0].equals("0") && parts[1].isEmpty()) {
                v2 = Path.of("/sys/fs/cgroup" + parts[2]);
            }
        }
        return v2;
    }

    static List<Long> pids(Path group) throws Exception {
        return Files.readAllLines(group.resolve("cgroup.procs")).stream()
                .filter(l -> !l.isBlank())
                .map(l -> Long.parseLong(l.strip()))
                .toList();
    }

    /** Waits (up to 30 s, a guard, not a timing check) for a process whose command line contains {@code text}. */
    static long awaitProcess(String text) throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            java.util.Optional<ProcessHandle> found = ProcessHandle.allProcesses()
                    .filter(p -> p.info().commandLine().orElse("").contains(text))
                    .findFirst();
            if (found.isPresent()) {
                return found.get().pid();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no process with " + text + " appeared");
    }

    /** {@code /usr/bin/true} as sandbox {@code id} with {@code limits}, its log in the test's folder. */
    SandboxSpec trueIn(String id, Limits limits) {
        return new SandboxSpec(
                id,
                List.of(),
                List.of("/usr/bin/true"),
                Map.of(),
                UID,
                UID,
                "cordon",
                "/",
                dir.resolve(id + ".log"),
                limits);
    }

    /** Waits (up to 30 s) until this JVM has a spare shell in a group whose pids.max is {@code maxPids}. */
    static Path awaitSpare(int maxPids) throws Exception {
        for (int i = 0; i < 600; i++) {
            for (Path group : spareGroups(maxPids)) {
                try {
                    if (!pids(group).isEmpty()) {
                        return group;
                    }
                } catch (Exception e) {
                    // removed meanwhile
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no spare with pids.max " + maxPids + " appeared");
    }

    /** This JVM's spare groups (with a process or not) whose pids.max is {@code maxPids}. */
    static List<Path> spareGroups(int maxPids) throws Exception {
        Path parent = pidsGroup(ProcessHandle.current().pid()).resolve("cordon");
        try (java.util.stream.Stream<Path> groups = Files.list(parent)) {
            return groups.filter(g -> g.getFileName()
                            .toString()
                            .startsWith("spare-" + ProcessHandle.current().pid() + "-"))
                    .filter(g -> {
                        try {
                            return Files.readString(g.resolve("pids.max"))
                                    .strip()
                                    .equals(Integer.toString(maxPids));
                        } catch (java.io.IOException e) {
                            return false; // removed meanwhile
                        }
                    })
                    .toList();
        }
    }
}
