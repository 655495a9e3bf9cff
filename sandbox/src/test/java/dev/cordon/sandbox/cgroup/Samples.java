package dev.cordon.sandbox.cgroup;

/** {@code /proc/mounts} and {@code /proc/self/cgroup} as three kinds of host show them. */
final class Samples {
    private Samples() {}

    /** Debian 12 / Fedora with systemd: one cgroup2 mount; a user's terminal scope. */
    static final String V2_MOUNTS = """
            sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
            proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
            cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0
            /dev/sda1 /home/a\\040b ext4 rw,relatime 0 0
            """;

    static final String V2_SELF = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/cordon.scope\n";

    /** This machine: controllers on v1, an empty v2 at /sys/fs/cgroup/unified, no systemd. */
    static final String HYBRID_MOUNTS = """
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
            4:memory:/process_api/886cebe04bd5ac6cfbacea1852c64b87
            3:cpuset:/
            2:cpuacct:/
            1:cpu:/
            0::/
            """;

    /** CentOS 7: v1 only, cpu and cpuacct on one hierarchy (note the comma in its mount point). */
    static final String V1_MOUNTS = """
            tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0
            cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0
            cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0
            cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpuacct,cpu 0 0
            cgroup /sys/fs/cgroup/pids cgroup rw,nosuid,nodev,noexec,relatime,pids 0 0
            """;

    static final String V1_SELF = """
            11:pids:/system.slice/cordon.service
            4:cpuacct,cpu:/system.slice/cordon.service
            3:memory:/system.slice/cordon.service
            1:name=systemd:/system.slice/cordon.service
            """;

    static final String NO_CGROUP_MOUNTS = """
            proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
            tmpfs /tmp tmpfs rw 0 0
            """;
}
