package dev.cordon.sandbox.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.sandbox.doctor.Cgroups.Layout;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CgroupsTest {

    /** This machine's layout (FACTS.md): v1 controllers plus an almost empty v2 at /sys/fs/cgroup/unified. */
    static final String HYBRID_MOUNTS = """
            proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
            tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
            cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
            cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0
            cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0
            cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
            cgroup /sys/fs/cgroup/devices cgroup rw,relatime,devices 0 0
            cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0
            cgroup /sys/fs/cgroup/blkio cgroup rw,relatime,blkio 0 0
            cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0
            cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0
            cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
            """;

    static final String HYBRID_SELF = """
            9:name=systemd:/
            8:pids:/
            7:blkio:/
            6:freezer:/
            5:devices:/
            4:memory:/process_api/d040a9bd7230d2a16ff538f0c2a19944
            3:cpuset:/
            2:cpuacct:/
            1:cpu:/
            0::/
            """;

    static final String V2_MOUNTS = """
            sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
            cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0
            """;

    static final String V2_SELF = "0::/user.slice/user-1000.slice/session-2.scope\n";

    @Test
    void hybridLayoutFindsV1ControllersAndTheUnifiedMount() {
        Layout layout = Cgroups.layout(HYBRID_MOUNTS, HYBRID_SELF);

        assertThat(layout.pureV2()).isFalse();
        assertThat(layout.v2().mountPoint()).isEqualTo("/sys/fs/cgroup/unified");
        assertThat(layout.v1()).containsKeys("memory", "pids", "cpu", "cpuacct", "blkio");
        assertThat(layout.v1()).doesNotContainKey("name=systemd");
        assertThat(layout.v1().get("memory").mountPoint()).isEqualTo("/sys/fs/cgroup/memory");
        assertThat(layout.groups())
                .containsEntry("memory", "/process_api/d040a9bd7230d2a16ff538f0c2a19944")
                .containsEntry("pids", "/")
                .containsEntry("", "/");
    }

    @Test
    void pureV2LayoutHasOnlyTheUnifiedHierarchy() {
        Layout layout = Cgroups.layout(V2_MOUNTS, V2_SELF);

        assertThat(layout.pureV2()).isTrue();
        assertThat(layout.v2().mountPoint()).isEqualTo("/sys/fs/cgroup");
        assertThat(layout.groups()).isEqualTo(Map.of("", "/user.slice/user-1000.slice/session-2.scope"));
    }

    @Test
    void combinedV1MountCountsForEachOfItsControllers() {
        Layout layout = Cgroups.layout(
                "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup ro,nosuid,cpu,cpuacct 0 0\n", "3:cpu,cpuacct:/docker/abc\n");

        assertThat(layout.v1().get("cpu").mountPoint()).isEqualTo("/sys/fs/cgroup/cpu,cpuacct");
        assertThat(layout.v1().get("cpuacct").readOnly()).isTrue();
        assertThat(layout.groups()).containsEntry("cpu", "/docker/abc").containsEntry("cpuacct", "/docker/abc");
        assertThat(layout.v2()).isNull();
    }

    @Test
    void noCgroupMountsGiveAnEmptyLayout() {
        Layout layout = Cgroups.layout("proc /proc proc rw 0 0\n", "");

        assertThat(layout.v2()).isNull();
        assertThat(layout.v1()).isEmpty();
        assertThat(layout.pureV2()).isFalse();
    }
}
