package dev.cordon.sandbox.cgroup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.sandbox.cgroup.ProcFiles.CgroupMount;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProcFilesTest {

    @Test
    void pureV2HasOneUnifiedMountAndOneGroup() {
        assertThat(ProcFiles.parseMounts(Samples.V2_MOUNTS))
                .containsExactly(new CgroupMount("/sys/fs/cgroup", true, Set.of(), false));
        assertThat(ProcFiles.parseSelfCgroup(Samples.V2_SELF))
                .containsExactly(Map.entry("", "/user.slice/user-1000.slice/user@1000.service/app.slice/cordon.scope"));
    }

    @Test
    void hybridHasAV1MountPerControllerAndAnEmptyUnifiedMount() {
        List<CgroupMount> mounts = ProcFiles.parseMounts(Samples.HYBRID_MOUNTS);
        assertThat(mounts).hasSize(10);
        assertThat(mounts).contains(new CgroupMount("/sys/fs/cgroup/memory", false, Set.of("memory"), false));
        assertThat(mounts).contains(new CgroupMount("/sys/fs/cgroup/unified", true, Set.of(), false));
        // name=systemd is a named hierarchy with no controller.
        assertThat(mounts).contains(new CgroupMount("/sys/fs/cgroup/systemd", false, Set.of(), false));

        Map<String, String> groups = ProcFiles.parseSelfCgroup(Samples.HYBRID_SELF);
        assertThat(groups)
                .containsEntry("memory", "/process_api/886cebe04bd5ac6cfbacea1852c64b87")
                .containsEntry("pids", "/")
                .containsEntry("cpu", "/")
                .containsEntry("cpuacct", "/")
                .containsEntry("", "/")
                .doesNotContainKey("name=systemd");
    }

    @Test
    void v1OnlyWithCoMountedCpuAndCpuacctSharesOneMountAndGroup() {
        List<CgroupMount> mounts = ProcFiles.parseMounts(Samples.V1_MOUNTS);
        assertThat(mounts).noneMatch(CgroupMount::v2);
        assertThat(mounts)
                .contains(new CgroupMount("/sys/fs/cgroup/cpu,cpuacct", false, Set.of("cpu", "cpuacct"), false));

        Map<String, String> groups = ProcFiles.parseSelfCgroup(Samples.V1_SELF);
        assertThat(groups)
                .containsOnlyKeys("pids", "cpuacct", "cpu", "memory")
                .containsValue("/system.slice/cordon.service");
    }

    @Test
    void mountsEscapeSpacesAndReadOnlyMountsAreFlagged() {
        String text = "cgroup2 /sys/fs/my\\040cgroup cgroup2 ro,nosuid 0 0\nnonsense\n\n";
        assertThat(ProcFiles.parseMounts(text))
                .containsExactly(new CgroupMount("/sys/fs/my cgroup", true, Set.of(), true));
    }

    @Test
    void groupPathsMayContainColons() {
        assertThat(ProcFiles.parseSelfCgroup("0::/a:b/c\n")).containsEntry("", "/a:b/c");
    }

    @Test
    void noCgroupMountsMeansNoHierarchy() {
        assertThat(ProcFiles.parseMounts(Samples.NO_CGROUP_MOUNTS)).isEmpty();
    }

    @Test
    void keyedFilesAndPidListsParse() {
        String oomControl = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assertThat(ProcFiles.keyed(oomControl, "oom_kill")).isEqualTo(3);
        assertThat(ProcFiles.keyed("low 0\nhigh 0\nmax 2\noom 1\n", "oom_kill")).isEqualTo(-1);
        assertThat(ProcFiles.parsePids("12\n345\n")).containsExactly(12L, 345L);
        assertThat(ProcFiles.parseWords(" cpu  memory pids\n")).containsExactly("cpu", "memory", "pids");
    }
}
