package dev.cordon.sandbox.doctor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses the kernel's description of the cgroup layout: {@code /proc/mounts} says which
 * hierarchies are mounted where, {@code /proc/self/cgroup} says which group this process is in.
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

    /** One line of {@code /proc/mounts}. */
    record Mount(String device, String mountPoint, String type, Set<String> options) {
        boolean readOnly() {
            return options.contains("ro");
        }
    }

    /**
     * The cgroup hierarchies visible to this process.
     *
     * @param v2 the {@code cgroup2} mount, or null
     * @param v1 v1 controller name → its mount (a mount with {@code cpu,cpuacct} appears twice)
     * @param groups hierarchy key → this process's group path; the key is the v1 controller name,
     *     or {@code ""} for v2
     */
    record Layout(Mount v2, Map<String, Mount> v1, Map<String, String> groups) {
        boolean pureV2() {
            return v2 != null && v1.isEmpty();
        }
    }

    static Layout layout(String procMounts, String selfCgroup) {
        Mount v2 = null;
        Map<String, Mount> v1 = new LinkedHashMap<>();
        for (Mount mount : parseMounts(procMounts)) {
            switch (mount.type()) {
                case "cgroup2" -> {
                    if (v2 == null) {
                        v2 = mount;
                    }
                }
                case "cgroup" -> {
                    for (String option : mount.options()) {
                        if (isController(option)) {
                            v1.putIfAbsent(option, mount);
                        }
                    }
                }
                default -> {}
            }
        }
        return new Layout(v2, v1, parseSelfCgroup(selfCgroup));
    }

    /** Parses {@code /proc/mounts}; malformed lines are skipped. */
    static List<Mount> parseMounts(String text) {
        List<Mount> mounts = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            String[] fields = line.trim().split("\\s+", -1);
            if (fields.length < 4) {
                continue;
            }
            mounts.add(new Mount(
                    unescape(fields[0]),
                    unescape(fields[1]),
                    fields[2],
                    new LinkedHashSet<>(List.of(fields[3].split(",", -1)))));
        }
        return mounts;
    }

    /**
     * Parses {@code /proc/self/cgroup} ({@code id:controllers:path} per line). A v1 line names its
     * controllers ({@code 4:memory:/x}, {@code 2:cpu,cpuacct:/}); the v2 line has none ({@code 0::/x}).
     * Named hierarchies such as {@code name=systemd} are skipped.
     */
    static Map<String, String> parseSelfCgroup(String text) {
        Map<String, String> groups = new LinkedHashMap<>();
        for (String line : text.split("\n", -1)) {
            int first = line.indexOf(':');
            int second = first < 0 ? -1 : line.indexOf(':', first + 1);
            if (second < 0) {
                continue;
            }
            String controllers = line.substring(first + 1, second);
            String path = line.substring(second + 1).trim();
            if (controllers.isEmpty()) {
                groups.put("", path);
                continue;
            }
            for (String controller : controllers.split(",", -1)) {
                if (isController(controller)) {
                    groups.put(controller, path);
                }
            }
        }
        return groups;
    }

    /** Parses a {@code cgroup.controllers} file: controller names separated by spaces. */
    static Set<String> parseControllers(String text) {
        Set<String> controllers = new LinkedHashSet<>();
        for (String name : text.trim().split("\\s+", -1)) {
            if (!name.isEmpty()) {
                controllers.add(name);
            }
        }
        return controllers;
    }

    // Mount options of a v1 hierarchy mix controller names with ordinary options (rw, relatime,
    // name=systemd, ...), so only the kernel's known v1 controller names count.
    private static final Set<String> V1_CONTROLLERS = Set.of(
            "blkio",
            "cpu",
            "cpuacct",
            "cpuset",
            "devices",
            "freezer",
            "hugetlb",
            "memory",
            "misc",
            "net_cls",
            "net_prio",
            "perf_event",
            "pids",
            "rdma");

    private static boolean isController(String option) {
        return V1_CONTROLLERS.contains(option);
    }

    // /proc/mounts escapes space, tab, newline and backslash as octal (\040 ...).
    private static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && isOctal(field, i + 1)) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') {
                return false;
            }
        }
        return true;
    }
}
