package dev.cordon.sandbox.doctor;

import dev.cordon.sandbox.cgroup.ProcFiles;
import dev.cordon.sandbox.cgroup.ProcFiles.CgroupMount;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cgroup layout as the doctor judges it, from the kernel's description ({@link ProcFiles}
 * parses it): {@code /proc/mounts} says which hierarchies are mounted where, {@code
 * /proc/self/cgroup} says which group this process is in.
 *
 * <p>Three layouts exist in the wild: pure v2 (one {@code cgroup2} mount, most current
 * distributions), hybrid (v1 controller mounts plus a mostly empty v2 mount, e.g. at {@code
 * /sys/fs/cgroup/unified}) and pure v1. Cordon's resource limits need memory, pids and cpu from
 * whichever hierarchy holds them.
 */
final class Cgroups {
    /** The controllers Cordon's limits use: memory cap, process cap, CPU quota. */
    static final List<String> NEEDED = List.of("memory", "pids", "cpu");

    private Cgroups() {}

    /**
     * The cgroup hierarchies visible to this process.
     *
     * @param v2 the {@code cgroup2} mount, or null
     * @param v1 v1 controller name → its mount (a mount with {@code cpu,cpuacct} appears twice)
     * @param groups hierarchy key → this process's group path; the key is the v1 controller name,
     *     or {@link ProcFiles#V2} for v2
     */
    record Layout(CgroupMount v2, Map<String, CgroupMount> v1, Map<String, String> groups) {
        boolean pureV2() {
            return v2 != null && v1.isEmpty();
        }
    }

    static Layout layout(String procMounts, String selfCgroup) {
        CgroupMount v2 = null;
        Map<String, CgroupMount> v1 = new LinkedHashMap<>();
        for (CgroupMount mount : ProcFiles.parseMounts(procMounts)) {
            if (mount.v2()) {
                if (v2 == null) {
                    v2 = mount;
                }
            } else {
                for (String controller : mount.controllers()) {
                    v1.putIfAbsent(controller, mount);
                }
            }
        }
        return new Layout(v2, v1, ProcFiles.parseSelfCgroup(selfCgroup));
    }
}
