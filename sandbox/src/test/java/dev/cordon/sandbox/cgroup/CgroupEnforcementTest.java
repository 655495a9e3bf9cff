package dev.cordon.sandbox.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Limits enforced by this machine's kernel on real bubblewrap sandboxes, started through {@link
 * Cgroup#wrap} the way the backend will start them. Skipped where the host cannot enforce the limits
 * (its reasons are in the skip message); here (root, hybrid v1) they all run.
 */
class CgroupEnforcementTest {
    static final Path BWRAP = Path.of("/usr/bin/bwrap");
    static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    static final int UID = 200_078;
    static final long MIB = 1L << 20;

    @TempDir
    Path dir;

    CgroupHost host;
    final List<Process> processes = new ArrayList<>();
    final List<Cgroup> cgroups = new ArrayList<>();

    @BeforeEach
    void hostCanEnforceLimits() {
        host = CgroupHost.detect();
        assumeThat(host.unenforceable(Limits.DEFAULTS))
                .as("limits this host cannot enforce")
                .isEmpty();
        assumeThat(BWRAP).as("bubblewrap").isExecutable();
    }

    @AfterEach
    void cleanUpEvenAfterAFailure() throws InterruptedException {
        for (Process process : processes) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        for (Cgroup cgroup : cgroups) {
            cgroup.close();
        }
    }

    Cgroup create(String name, Limits limits) {
        Cgroup cgroup =
                host.create("cgtest-" + name + "-" + ProcessHandle.current().pid(), limits);
        cgroups.add(cgroup);
        return cgroup;
    }

    /** The backend's walls, minus mounts: what matters here is that bwrap and its children are in the group. */
    static List<String> sandbox(String script) {
        boolean root = Bubblewrap.isRoot();
        List<String> a = new ArrayList<>(List.of(BWRAP.toString()));
        if (root) {
            a.addAll(List.of(
                    "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"));
        } else {
            a.add("--unshare-all");
        }
        a.addAll(List.of("--die-with-parent", "--new-session", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin"));
        a.addAll(List.of("--ro-bind", "/usr", "/usr"));
        for (String name : List.of("bin", "sbin", "lib", "lib64")) {
            Path host = Path.of("/", name);
            try {
                if (Files.isSymbolicLink(host)) {
                    a.addAll(List.of("--symlink", Files.readSymbolicLink(host).toString(), "/" + name));
                } else if (Files.isDirectory(host)) {
                    a.addAll(List.of("--ro-bind", host.toString(), "/" + name));
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        a.addAll(
                List.of("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", "/tmp", "--cap-drop", "ALL"));
        if (root) {
            a.addAll(List.of("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP", "--"));
            a.addAll(List.of(
                    SETPRIV.toString(),
                    "--reuid=" + UID,
                    "--regid=" + UID,
                    "--clear-groups",
                    "--no-new-privs",
                    "--bounding-set=-all",
                    "--inh-caps=-all",
                    "--"));
        } else {
            a.add("--");
        }
        a.addAll(List.of("/usr/bin/bash", "-c", script));
        return a;
    }

    /** Starts {@code command} joined to {@code cgroup}; its output goes to {@code dir/<name>.out}. */
    Process start(Cgroup cgroup, List<String> command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(cgroup.wrap(command));
        builder.environment().clear();
        builder.redirectErrorStream(true);
        builder.redirectOutput(output(cgroup).toFile());
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    Path output(Cgroup cgroup) {
        return dir.resolve(cgroup.sandboxId() + ".out");
    }

    String outputOf(Cgroup cgroup) throws IOException {
        return Files.readString(output(cgroup));
    }

    static void await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within " + timeout).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    static Set<Long> pidsIn(Path procsFile) {
        try {
            return Set.copyOf(ProcFiles.parsePids(Files.readString(procsFile)));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void theSandboxedCommandIsInEveryGroupOfItsSandbox() throws Exception {
        Cgroup cgroup = create("join", Limits.DEFAULTS);
        Process bwrap = start(cgroup, sandbox("exec sleep 30"));

        await(
                Duration.ofSeconds(10),
                () -> bwrap.descendants()
                        .anyMatch(p -> p.info().command().orElse("").endsWith("/sleep")));
        ProcessHandle command = bwrap.descendants()
                .filter(p -> p.info().command().orElse("").endsWith("/sleep"))
                .findFirst()
                .orElseThrow();

        // The wrapper exec'd bwrap: the pid Java started is bwrap, and it joined before running anything.
        assertThat(Files.readSymbolicLink(Path.of("/proc", Long.toString(bwrap.pid()), "exe")))
                .isEqualTo(BWRAP);
        Set<Long> sandboxPids = Stream.concat(Stream.of(bwrap.toHandle()), bwrap.descendants())
                .map(ProcessHandle::pid)
                .collect(Collectors.toSet());
        assertThat(cgroup.procsFiles())
                .isNotEmpty()
                .allSatisfy(f -> assertThat(pidsIn(f)).containsAll(sandboxPids));
        // The kernel's own view of the command: each controller line ends in our group.
        String kernelView = Files.readString(Path.of("/proc", Long.toString(command.pid()), "cgroup"));
        for (String controller : List.of("memory", "pids", "cpu")) {
            assertThat(kernelView.lines().filter(l -> l.matches("\\d+:([^:]*,)?" + controller + "(,[^:]*)?:.*")))
                    .singleElement()
                    .asString()
                    .endsWith("/cordon/" + cgroup.sandboxId());
        }
        assertThat(cgroup.usage().pids()).isGreaterThanOrEqualTo(sandboxPids.size());
    }

    @Test
    void memoryBombIsOomKilledWhileTheHostAndANeighbourSandboxKeepWorking() throws Exception {
        Cgroup bomb = create("bomb", new Limits(64 * MIB, 512, 1000));
        Cgroup neighbour = create("neighbour", Limits.DEFAULTS);
        Process calm = start(neighbour, sandbox("sleep 1; seq 1 200000 | tail -1; echo neighbour-alive"));

        Process bombing = start(bomb, sandbox("head -c 2G /dev/zero | tail; echo exit=$?; echo bomber-shell-alive"));

        assertThat(bombing.waitFor(30, TimeUnit.SECONDS)).isTrue();
        ResourceUsage usage = bomb.usage();
        System.out.printf(
                "memory bomb: OOM-killed at peak %d MiB (limit 64 MiB), exit line %s%n",
                usage.memoryPeakBytes() / MIB,
                outputOf(bomb).lines().filter(l -> l.startsWith("exit=")).toList());
        assertThat(bomb.oomKilled()).isTrue();
        assertThat(outputOf(bomb)).contains("exit=137", "bomber-shell-alive");
        assertThat(usage.memoryPeakBytes()).isBetween(32 * MIB, 64 * MIB);

        assertThat(calm.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(outputOf(neighbour)).contains("200000", "neighbour-alive");
        assertThat(neighbour.oomKilled()).isFalse();
        Process hostProcess = new ProcessBuilder("/bin/sh", "-c", "head -c 100000000 /dev/zero | wc -c").start();
        assertThat(new String(hostProcess.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
                .contains("100000000");
    }

    @Test
    void forkBombHitsThePidsCapAndTheSandboxSurvivesToReportIt() throws Exception {
        Cgroup cgroup = create("forkbomb", new Limits(256 * MIB, 64, 1000));
        // perl, not bash: bash retries a failed fork for 15 s before it reports EAGAIN.
        String bomb = "perl -e '$|=1; for my $i (1..1000) { my $p = fork;"
                + " if (!defined $p) { print \"fork $i failed: $!\\n\"; sleep 2; exit 0 }"
                + " if (!$p) { sleep 30; exit 0 } } print \"all 1000 forked\\n\"'; echo sandbox-survived";
        Process process = start(cgroup, sandbox(bomb));

        await(Duration.ofSeconds(10), () -> {
            try {
                return outputOf(cgroup).contains("failed");
            } catch (IOException e) {
                return false;
            }
        });
        long pidsAtCap = cgroup.usage().pids();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        String out = outputOf(cgroup);
        System.out.printf(
                "fork bomb: %s; pids.current at the cap %d (pids.max 64)%n",
                out.lines().findFirst().orElse(""), pidsAtCap);
        assertThat(out)
                .contains("Resource temporarily unavailable", "sandbox-survived")
                .doesNotContain("all 1000 forked");
        assertThat(pidsAtCap).isEqualTo(64);
        assertThat(cgroup.usage().pidsLimitHits()).isPositive();
    }

    @Test
    void cpuSpinUnderA200MillicoreQuotaUsesAboutAFifthOfACpu() throws Exception {
        Cgroup cgroup = create("cpu", new Limits(256 * MIB, 64, 200));
        start(cgroup, sandbox("while :; do :; done"));
        await(Duration.ofSeconds(10), () -> cgroup.usage().cpuNanos() > 10_000_000);

        long cpu0 = cgroup.usage().cpuNanos();
        long wall0 = System.nanoTime();
        Thread.sleep(2000);
        long cpu1 = cgroup.usage().cpuNanos();
        long wall1 = System.nanoTime();

        double fraction = (cpu1 - cpu0) / (double) (wall1 - wall0);
        System.out.printf(
                "CPU spin under 200 millicores: %.3f of a CPU over %d ms%n", fraction, (wall1 - wall0) / 1_000_000);
        // A measurement of the kernel's throttling with a wide margin, not a timing assertion: unthrottled
        // the spin takes a whole CPU (1.0); it ran at all if it got more than a sliver.
        assertThat(fraction).isLessThan(0.5).isGreaterThan(0.02);
    }

    @Test
    void theNextDaemonsHostRemovesTheEmptyGroupsOfADaemonThatDiedBeforeItRunsAnything() throws Exception {
        Process exited = new ProcessBuilder("/bin/true").start();
        assertThat(exited.waitFor()).isZero();
        long dead = exited.pid();
        create("first", Limits.DEFAULTS).close(); // this host's own first sweep, done before the scene is set
        ((Host) host).awaitReclaimed();

        // What a daemon killed with SIGKILL leaves: its sandboxes' groups, their processes gone with it ...
        Cgroup orphan = host.create("cgtest-orphan-" + dead + "-1", Limits.DEFAULTS);
        cgroups.add(orphan);
        List<Path> orphanDirs =
                orphan.procsFiles().stream().map(Path::getParent).toList();
        // ... and one whose process lives on, which must stay.
        Cgroup busy = host.create("cgtest-busy-" + dead + "-2", Limits.DEFAULTS);
        cgroups.add(busy);
        start(busy, List.of("/usr/bin/sleep", "60"));
        await(Duration.ofSeconds(10), () -> pidsIn(busy) > 0);

        CgroupHost next = CgroupHost.detect();
        next.reclaimInBackground(); // what a daemon's backend does when it is made (Bubblewrap.backend)
        ((Host) next).awaitReclaimed();

        assertThat(orphanDirs).isNotEmpty().allSatisfy(d -> assertThat(d).doesNotExist());
        assertThat(busy.procsFiles()).allSatisfy(f -> assertThat(f).exists());
        assertThat(pidsIn(busy)).as("the survivor was not killed").isPositive();
    }

    static long pidsIn(Cgroup cgroup) {
        try {
            return ProcFiles.parsePids(Files.readString(cgroup.procsFiles().getFirst()))
                    .size();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void closeKillsLeftoversAndRemovesTheGroups() throws Exception {
        Cgroup cgroup = create("close", Limits.DEFAULTS);
        // No bwrap here: without a pid namespace nothing but the group holds these processes together.
        Process process = start(cgroup, List.of("/bin/sh", "-c", "sleep 987653 & sleep 987653 & exec sleep 987653"));
        await(Duration.ofSeconds(10), () -> cgroup.usage().pids() >= 3);
        List<Path> groups = cgroup.procsFiles().stream().map(Path::getParent).toList();

        cgroup.close();
        cgroup.close();

        assertThat(process.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isEqualTo(128 + 9);
        assertThat(groups).isNotEmpty().allSatisfy(g -> assertThat(g).doesNotExist());
        assertThat(ProcessHandle.allProcesses()
                        .filter(p -> p.info().commandLine().orElse("").contains("sleep 987653")))
                .isEmpty();
    }
}
