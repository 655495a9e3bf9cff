package dev.cordon.sandbox.cgroup;

import static dev.cordon.sandbox.cgroup.FakeCgroupFs.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.sandbox.Limit;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.cgroup.CgroupHost.Layout;
import dev.cordon.sandbox.cgroup.CgroupHost.Support;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Detection and group creation on sample trees of the three layouts, with a fake kernel. */
class CgroupHostDetectionTest {
    static final String USER_SCOPE =
            "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/cordon.scope";
    static final Limits LIMITS = new Limits(64L << 20, 100, 200);

    @TempDir
    Path dir;

    CgroupHost detect(FakeCgroupFs fs) {
        return Detector.detect(fs.root, fs, Clock.systemUTC());
    }

    FakeCgroupFs v2Host() throws IOException {
        return new FakeCgroupFs(dir, Samples.V2_MOUNTS, Samples.V2_SELF).v2("/sys/fs/cgroup");
    }

    static Map<String, String> files(String... keyValues) {
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put(keyValues[i], keyValues[i + 1]);
        }
        return map;
    }

    @Test
    void delegatedV2GroupHoldingOnlyTheDaemonEnforcesEverything() throws IOException {
        FakeCgroupFs fs = v2Host();
        fs.group(
                USER_SCOPE, files("cgroup.controllers", "cpu memory pids\n", "cgroup.procs", FakeCgroupFs.SELF + "\n"));
        CgroupHost host = detect(fs);

        assertThat(host.layout()).isEqualTo(Layout.V2);
        assertThat(host.support().values()).allMatch(Support::enforceable);
        assertThat(host.support().get(Limit.MEMORY).detail())
                .contains("cgroup v2", "memory.max", "memory.swap.max=0", "cordon-daemon");
        assertThat(host.unenforceable(Limits.DEFAULTS)).isEmpty();
        assertThat(host.support().values()).allSatisfy(s -> assertThat(s.fix()).isEmpty());
    }

    @Test
    void creatingOnV2MovesTheDaemonToALeafEnablesControllersAndWritesTheLimits() throws IOException {
        FakeCgroupFs fs = v2Host();
        Path scope = fs.group(
                USER_SCOPE, files("cgroup.controllers", "cpu memory pids\n", "cgroup.procs", FakeCgroupFs.SELF + "\n"));

        Cgroup cgroup = detect(fs).create("s-1", LIMITS);

        assertThat(read(scope.resolve("cordon-daemon/cgroup.procs"))).isEqualTo(Long.toString(FakeCgroupFs.SELF));
        assertThat(ProcFiles.parseWords(read(scope.resolve("cgroup.subtree_control"))))
                .containsExactlyInAnyOrder("+memory", "+pids", "+cpu");
        assertThat(ProcFiles.parseWords(read(scope.resolve("cordon/cgroup.subtree_control"))))
                .containsExactlyInAnyOrder("+memory", "+pids", "+cpu");
        Path group = scope.resolve("cordon/s-1");
        assertThat(read(group.resolve("memory.max"))).isEqualTo(Long.toString(64L << 20));
        assertThat(read(group.resolve("memory.swap.max"))).isEqualTo("0");
        assertThat(read(group.resolve("pids.max"))).isEqualTo("100");
        assertThat(read(group.resolve("cpu.max"))).isEqualTo("20000 100000");
        assertThat(cgroup.procsFiles()).containsExactly(group.resolve("cgroup.procs"));
        assertThat(cgroup.usage()).isEqualTo(new ResourceUsage(1048576, 2097152, 3, 1_500_000, -1));
        assertThat(cgroup.oomKilled()).isFalse();

        cgroup.close();
        assertThat(group).doesNotExist();
        assertThat(scope.resolve("cordon")).isDirectory();
    }

    @Test
    void aDaemonThatAlreadyMovedToItsLeafKeepsUsingTheGroupAbove() throws IOException {
        FakeCgroupFs fs = new FakeCgroupFs(dir, Samples.V2_MOUNTS, "0::/svc/cordon-daemon\n").v2("/sys/fs/cgroup");
        fs.group(
                "/sys/fs/cgroup/svc",
                files("cgroup.controllers", "memory pids cpu", "cgroup.subtree_control", "memory pids cpu"));
        fs.group("/sys/fs/cgroup/svc/cordon-daemon", files("cgroup.procs", FakeCgroupFs.SELF + "\n"));

        CgroupHost host = detect(fs);

        assertThat(host.support().values()).allMatch(Support::enforceable);
        try (Cgroup cgroup = host.create("s-2", LIMITS)) {
            assertThat(cgroup.procsFiles()).containsExactly(fs.path("/sys/fs/cgroup/svc/cordon/s-2/cgroup.procs"));
        }
    }

    @Test
    void v2GroupSharedWithOtherProcessesCannotHandControllersDown() throws IOException {
        FakeCgroupFs fs = v2Host();
        fs.group(
                USER_SCOPE,
                files(
                        "cgroup.controllers",
                        "cpu memory pids\n",
                        "cgroup.procs",
                        "17\n" + FakeCgroupFs.SELF + "\n99\n"));
        CgroupHost host = detect(fs);

        assertThat(host.support().values()).noneMatch(Support::enforceable);
        Support pids = host.support().get(Limit.PIDS);
        assertThat(pids.detail()).contains("not enabled for its children", "holds 3 processes");
        assertThat(pids.fix()).contains("systemd-run --user --scope -p Delegate=yes");
        assertThatThrownBy(() -> host.create("s-3", Limits.DEFAULTS))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("requires limits this host cannot enforce")
                .hasMessageContaining("memory (")
                .hasMessageContaining("opt out");
        assertThat(fs.path(USER_SCOPE + "/cordon")).doesNotExist();
    }

    @Test
    void v2ControllerThatWasNotDelegatedIsReportedWithTheFix() throws IOException {
        FakeCgroupFs fs = v2Host();
        fs.group(USER_SCOPE, files("cgroup.controllers", "memory pids\n", "cgroup.procs", FakeCgroupFs.SELF + "\n"));
        CgroupHost host = detect(fs);

        assertThat(host.support().get(Limit.MEMORY).enforceable()).isTrue();
        Support cpu = host.support().get(Limit.CPU);
        assertThat(cpu.enforceable()).isFalse();
        assertThat(cpu.detail()).contains("cpu controller is not available", "lists: memory pids");
        assertThat(cpu.fix()).contains("Delegate=yes");
        assertThat(host.unenforceable(new Limits(0, 64, 0))).isEmpty();
        assertThat(host.unenforceable(LIMITS)).containsExactly(cpu);

        // The operator's explicit opt-out: drop what cannot be enforced and start anyway.
        try (Cgroup cgroup = host.create("s-4", LIMITS.without(List.of(Limit.CPU)))) {
            Path group = fs.path(USER_SCOPE + "/cordon/s-4");
            assertThat(read(group.resolve("pids.max"))).isEqualTo("100");
            assertThat(read(group.resolve("cpu.max"))).isEqualTo("max 100000");
            assertThat(cgroup.usage().cpuNanos()).isEqualTo(1_500_000);
        }
    }

    @Test
    void v2GroupNotDelegatedToThisUserIsNotEnforceable() throws IOException {
        FakeCgroupFs fs = v2Host();
        Path scope = fs.group(
                USER_SCOPE, files("cgroup.controllers", "cpu memory pids\n", "cgroup.procs", FakeCgroupFs.SELF + "\n"));
        fs.unwritable.add(scope);

        assertThat(detect(fs).support().values())
                .allSatisfy(s -> assertThat(s.detail() + " / " + s.fix()).contains("was not delegated", "Delegate=yes"))
                .noneMatch(Support::enforceable);
    }

    @Test
    void readOnlyV2MountAsInAContainerIsNotEnforceable() throws IOException {
        FakeCgroupFs fs = new FakeCgroupFs(
                        dir, "cgroup2 /sys/fs/cgroup cgroup2 ro,nosuid,nodev,noexec,relatime 0 0\n", "0::/\n")
                .v2("/sys/fs/cgroup");
        fs.group("/sys/fs/cgroup", files("cgroup.controllers", "cpu memory pids", "cgroup.type", null));

        assertThat(detect(fs).support().get(Limit.MEMORY).detail()).contains("read-only");
    }

    @Test
    void theRootGroupMayHoldProcessesAndStillEnableControllers() throws IOException {
        FakeCgroupFs fs = new FakeCgroupFs(dir, Samples.V2_MOUNTS, "0::/\n").v2("/sys/fs/cgroup");
        Path root = fs.group(
                "/sys/fs/cgroup",
                files(
                        "cgroup.controllers",
                        "cpu memory pids",
                        "cgroup.procs",
                        "1\n" + FakeCgroupFs.SELF,
                        "cgroup.type",
                        null));
        CgroupHost host = detect(fs);

        assertThat(host.support().values()).allMatch(Support::enforceable);
        try (Cgroup cgroup = host.create("s-5", LIMITS)) {
            assertThat(root.resolve("cordon-daemon")).doesNotExist();
            assertThat(read(root.resolve("cordon/s-5/cpu.max"))).isEqualTo("20000 100000");
            assertThat(cgroup.procsFiles()).hasSize(1);
        }
    }

    FakeCgroupFs hybridHost() throws IOException {
        FakeCgroupFs fs = new FakeCgroupFs(dir, Samples.HYBRID_MOUNTS, Samples.HYBRID_SELF)
                .v2("/sys/fs/cgroup/unified")
                .v1("/sys/fs/cgroup/memory", "memory")
                .v1("/sys/fs/cgroup/pids", "pids")
                .v1("/sys/fs/cgroup/cpu", "cpu")
                .v1("/sys/fs/cgroup/cpuacct", "cpuacct");
        fs.group("/sys/fs/cgroup/unified", files("cgroup.type", null));
        fs.group("/sys/fs/cgroup/memory/process_api/886cebe04bd5ac6cfbacea1852c64b87", Map.of());
        fs.group("/sys/fs/cgroup/pids", files("pids.max", null, "pids.current", null));
        fs.group("/sys/fs/cgroup/cpu", Map.of());
        fs.group("/sys/fs/cgroup/cpuacct", Map.of());
        return fs;
    }

    @Test
    void hybridLayoutUsesTheV1HierarchiesOneGroupPerController() throws IOException {
        FakeCgroupFs fs = hybridHost();
        CgroupHost host = detect(fs);

        assertThat(host.layout()).isEqualTo(Layout.HYBRID);
        assertThat(host.support().values()).allMatch(Support::enforceable);
        assertThat(host.support().get(Limit.MEMORY).detail())
                .contains(
                        "cgroup v1",
                        "memory.memsw.limit_in_bytes",
                        "process_api/886cebe04bd5ac6cfbacea1852c64b87/cordon");
        assertThat(host.support().get(Limit.CPU).detail()).contains("cpu.cfs_quota_us");

        try (Cgroup cgroup = host.create("s-6", LIMITS)) {
            Path memory = fs.path("/sys/fs/cgroup/memory/process_api/886cebe04bd5ac6cfbacea1852c64b87/cordon/s-6");
            assertThat(cgroup.procsFiles())
                    .containsExactlyInAnyOrder(
                            memory.resolve("cgroup.procs"),
                            fs.path("/sys/fs/cgroup/pids/cordon/s-6/cgroup.procs"),
                            fs.path("/sys/fs/cgroup/cpu/cordon/s-6/cgroup.procs"),
                            fs.path("/sys/fs/cgroup/cpuacct/cordon/s-6/cgroup.procs"));
            assertThat(read(memory.resolve("memory.limit_in_bytes"))).isEqualTo(Long.toString(64L << 20));
            assertThat(read(memory.resolve("memory.memsw.limit_in_bytes"))).isEqualTo(Long.toString(64L << 20));
            assertThat(read(fs.path("/sys/fs/cgroup/pids/cordon/s-6/pids.max"))).isEqualTo("100");
            assertThat(read(fs.path("/sys/fs/cgroup/cpu/cordon/s-6/cpu.cfs_quota_us")))
                    .isEqualTo("20000");
            assertThat(read(fs.path("/sys/fs/cgroup/cpu/cordon/s-6/cpu.cfs_period_us")))
                    .isEqualTo("100000");
            assertThat(cgroup.usage()).isEqualTo(new ResourceUsage(1048576, 2097152, 3, 1_500_000, -1));
        }
        assertThat(fs.path("/sys/fs/cgroup/pids/cordon/s-6")).doesNotExist();
    }

    @Test
    void v1OomKillIsReadFromOomControl() throws IOException {
        FakeCgroupFs fs = hybridHost();
        try (Cgroup cgroup = detect(fs).create("s-7", LIMITS)) {
            Path memory = fs.path("/sys/fs/cgroup/memory/process_api/886cebe04bd5ac6cfbacea1852c64b87/cordon/s-7");
            assertThat(cgroup.oomKilled()).isFalse();
            java.nio.file.Files.writeString(
                    memory.resolve("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
            assertThat(cgroup.oomKilled()).isTrue();
        }
    }

    @Test
    void closeKillsWhatIsLeftInEveryHierarchyThenRemovesTheGroups() throws IOException {
        FakeCgroupFs fs = hybridHost();
        Cgroup cgroup = detect(fs).create("s-8", Limits.UNLIMITED);
        for (Path procs : cgroup.procsFiles()) {
            java.nio.file.Files.writeString(procs, "101\n102\n");
        }

        cgroup.close();
        cgroup.close();

        assertThat(fs.killed).containsExactly(101L, 102L);
        assertThat(cgroup.procsFiles())
                .allSatisfy(p -> assertThat(p.getParent()).doesNotExist());
    }

    @Test
    void aStaleGroupWithTheSameIdIsEmptiedAndReplaced() throws IOException {
        FakeCgroupFs fs = hybridHost();
        fs.group("/sys/fs/cgroup/pids/cordon/s-9", files("cgroup.procs", "555\n", "pids.max", "7"));

        try (Cgroup cgroup = detect(fs).create("s-9", new Limits(0, 100, 0))) {
            assertThat(fs.killed).containsExactly(555L);
            assertThat(read(fs.path("/sys/fs/cgroup/pids/cordon/s-9/pids.max"))).isEqualTo("100");
            assertThat(cgroup.sandboxId()).isEqualTo("s-9");
        }
    }

    @Test
    void groupsOfADaemonThatIsGoneAreRemovedWhenEmptyAndNoOtherIs() throws IOException {
        FakeCgroupFs fs = hybridHost();
        String pids = "/sys/fs/cgroup/pids/cordon/";
        String cpu = "/sys/fs/cgroup/cpu/cordon/";
        fs.gone.add(777L);
        fs.group(pids + "chat1-s3-777-1", Map.of()); // the dead daemon's sandbox
        fs.group(cpu + "chat1-s3-777-1", Map.of());
        fs.group(pids + "spare-777-4", Map.of()); // its spare
        fs.group(pids + "spare-777-4/nested", Map.of()); // with a group of its own below
        fs.group(pids + "chat2-s9-777-2", files("cgroup.procs", "4711\n")); // something still runs in it
        fs.group(pids + "chat1-s3-888-1", Map.of()); // a live daemon's, empty between create and start
        fs.group(pids + "chat1-s3-" + FakeCgroupFs.SELF + "-5", Map.of()); // this daemon's
        fs.group(pids + "my-sandbox", Map.of()); // an id that names no owner

        int removed = ((Host) detect(fs)).reclaimStale();

        assertThat(removed).isEqualTo(3);
        assertThat(fs.path(pids + "chat1-s3-777-1")).doesNotExist();
        assertThat(fs.path(cpu + "chat1-s3-777-1")).doesNotExist();
        assertThat(fs.path(pids + "spare-777-4")).doesNotExist();
        assertThat(fs.path(pids + "chat2-s9-777-2")).isDirectory();
        assertThat(fs.path(pids + "chat1-s3-888-1")).isDirectory();
        assertThat(fs.path(pids + "chat1-s3-" + FakeCgroupFs.SELF + "-5")).isDirectory();
        assertThat(fs.path(pids + "my-sandbox")).isDirectory();
        assertThat(fs.killed).as("reclaiming kills nothing").isEmpty();
    }

    @Test
    void v1OnlyWithCoMountedCpuAndCpuacctMakesOneGroupForBoth() throws IOException {
        FakeCgroupFs fs = new FakeCgroupFs(dir, Samples.V1_MOUNTS, Samples.V1_SELF)
                .v1("/sys/fs/cgroup/memory", "memory")
                .v1("/sys/fs/cgroup/pids", "pids")
                .v1("/sys/fs/cgroup/cpu,cpuacct", "cpu", "cpuacct");
        fs.group("/sys/fs/cgroup/memory/system.slice/cordon.service", Map.of());
        fs.group("/sys/fs/cgroup/pids/system.slice/cordon.service", Map.of());
        fs.group("/sys/fs/cgroup/cpu,cpuacct/system.slice/cordon.service", Map.of());
        CgroupHost host = detect(fs);

        assertThat(host.layout()).isEqualTo(Layout.V1);
        assertThat(host.support().values()).allMatch(Support::enforceable);
        try (Cgroup cgroup = host.create("s-10", LIMITS)) {
            assertThat(cgroup.procsFiles()).hasSize(3);
            Path cpu = fs.path("/sys/fs/cgroup/cpu,cpuacct/system.slice/cordon.service/cordon/s-10");
            assertThat(read(cpu.resolve("cpu.cfs_quota_us"))).isEqualTo("20000");
            assertThat(cgroup.usage().cpuNanos()).isEqualTo(1_500_000);
        }
    }

    @Test
    void v1GroupsOwnedByRootAreNotEnforceableForOtherUsers() throws IOException {
        FakeCgroupFs fs = hybridHost();
        fs.unwritable.add(fs.path("/sys/fs/cgroup/pids"));
        fs.unwritable.add(fs.path("/sys/fs/cgroup/memory/process_api/886cebe04bd5ac6cfbacea1852c64b87"));
        CgroupHost host = detect(fs);

        assertThat(host.support().get(Limit.PIDS).detail()).contains("belong to root");
        assertThat(host.support().get(Limit.PIDS).fix()).contains("as root", "cgroup v2");
        assertThat(host.support().get(Limit.MEMORY).enforceable()).isFalse();
        assertThat(host.support().get(Limit.CPU).enforceable()).isTrue();
    }

    @Test
    void v1WithoutSwapAccountingSaysSwapIsNotCapped() throws IOException {
        FakeCgroupFs fs = hybridHost();
        fs.group(
                "/sys/fs/cgroup/memory/process_api/886cebe04bd5ac6cfbacea1852c64b87",
                files("memory.memsw.limit_in_bytes", null));

        assertThat(detect(fs).support().get(Limit.MEMORY).detail()).contains("swapaccount=1");
    }

    @Test
    void noCgroupFilesystemMeansNothingIsEnforceable() throws IOException {
        FakeCgroupFs fs = new FakeCgroupFs(dir, Samples.NO_CGROUP_MOUNTS, "");
        CgroupHost host = detect(fs);

        assertThat(host.layout()).isEqualTo(Layout.NONE);
        assertThat(host.support().values())
                .noneMatch(Support::enforceable)
                .allSatisfy(s -> assertThat(s.detail()).contains("no cgroup file system is mounted"))
                .allSatisfy(s -> assertThat(s.fix()).contains("mount -t cgroup2"));
        // Unlimited still works: the group is simply absent.
        try (Cgroup cgroup = host.create("s-11", Limits.UNLIMITED)) {
            assertThat(cgroup.procsFiles()).isEmpty();
            assertThat(cgroup.usage()).isEqualTo(new ResourceUsage(-1, -1, -1, -1, -1));
            assertThat(cgroup.wrap(List.of("/bin/true"))).endsWith("--", "/bin/true");
        }
    }

    @Test
    void aHostDetectedFromASampleTreeNeverTouchesRealProcesses() throws IOException {
        hybridHost();
        CgroupHost host = CgroupHost.detect(dir);

        assertThat(host.layout()).isEqualTo(Layout.HYBRID);
        assertThatThrownBy(() -> host.create("s-12", Limits.UNLIMITED))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("sample tree");
    }

    @Test
    void unsafeSandboxIdsAreRejected() throws IOException {
        CgroupHost host = detect(hybridHost());
        for (String id : List.of("..", "a/b", "", "x y")) {
            assertThatThrownBy(() -> host.create(id, Limits.UNLIMITED)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void limitsValidateAndDropWhatTheOperatorOptsOutOf() {
        assertThat(Limits.DEFAULTS.required()).containsExactly(Limit.MEMORY, Limit.PIDS, Limit.CPU);
        assertThat(Limits.UNLIMITED.required()).isEmpty();
        assertThat(Limits.DEFAULTS.without(List.of(Limit.MEMORY, Limit.CPU))).isEqualTo(new Limits(0, 512, 0));
        assertThatThrownBy(() -> new Limits(-1, 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Limits(1024, 0, 0)).hasMessageContaining("4 MiB");
        assertThatThrownBy(() -> new Limits(0, 0, 5)).hasMessageContaining("10 millicores");
    }
}
