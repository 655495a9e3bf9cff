package dev.cordon.sandbox.cgroup;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parsers for the kernel's description of the cgroup layout: {@code /proc/mounts} says which
 * hierarchy is mounted where, {@code /proc/self/cgroup} which group this process is in within each.
 * The cgroup host ({@link Detector}) and the host doctor read the layout through these.
 */
public final class ProcFiles {
    /** Key of the v2 hierarchy in {@link #parseSelfCgroup}'s result. */
    public static final String V2 = "";

    // Mount options of a v1 hierarchy mix controller names with ordinary options (rw, relatime,
    // name=systemd, ...): only the kernel's v1 controller names count.
    static final Set<String> V1_CONTROLLERS = Set.of(
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

    private ProcFiles() {}

    /** A cgroup filesystem from {@code /proc/mounts}. */
    public record CgroupMount(String mountPoint, boolean v2, Set<String> controllers, boolean readOnly) {}

    /**
     * The cgroup mounts in {@code /proc/mounts}, in order; other filesystems and malformed lines are
     * skipped. A v1 mount's controllers are its controller options ({@code cpu,cpuacct} is one mount
     * with two); a v2 mount lists none (they are in its {@code cgroup.controllers}).
     */
    public static List<CgroupMount> parseMounts(String text) {
        List<CgroupMount> mounts = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            String[] fields = line.trim().split("\\s+", -1);
            if (fields.length < 4) {
                continue;
            }
            boolean v2 = fields[2].equals("cgroup2");
            if (!v2 && !fields[2].equals("cgroup")) {
                continue;
            }
            Set<String> controllers = new LinkedHashSet<>();
            boolean readOnly = false;
            for (String option : fields[3].split(",", -1)) {
                if (option.equals("ro")) {
                    readOnly = true;
                } else if (!v2 && V1_CONTROLLERS.contains(option)) {
                    controllers.add(option);
                }
            }
            mounts.add(new CgroupMount(unescape(fields[1]), v2, Set.copyOf(controllers), readOnly));
        }
        return mounts;
    }

    /**
     * {@code /proc/self/cgroup} ({@code id:controllers:path} per line) as controller → group path.
     * The v2 line ({@code 0::/x}) is keyed {@link #V2}; a v1 line with several controllers ({@code
     * 2:cpu,cpuacct:/}) gives one entry each; named hierarchies ({@code name=systemd}) are skipped.
     */
    public static Map<String, String> parseSelfCgroup(String text) {
        Map<String, String> groups = new LinkedHashMap<>();
        for (String line : text.split("\n", -1)) {
            int first = line.indexOf(':');
            int second = first < 0 ? -1 : line.indexOf(':', first + 1);
            if (second < 0) {
                continue;
            }
            String controllers = line.substring(first + 1, second);
            // A path may itself contain ':' — everything after the second colon is the path.
            String path = line.substring(second + 1).trim();
            if (!path.startsWith("/")) {
                continue;
            }
            if (controllers.isEmpty()) {
                groups.put(V2, path);
                continue;
            }
            for (String controller : controllers.split(",", -1)) {
                if (V1_CONTROLLERS.contains(controller)) {
                    groups.put(controller, path);
                }
            }
        }
        return groups;
    }

    /** A space-separated list of names ({@code cgroup.controllers}, {@code cgroup.subtree_control}). */
    public static Set<String> parseWords(String text) {
        Set<String> words = new LinkedHashSet<>();
        for (String word : text.trim().split("\\s+", -1)) {
            if (!word.isEmpty()) {
                words.add(word);
            }
        }
        return words;
    }

    /** The pids of a {@code cgroup.procs} file, one per line. */
    static List<Long> parsePids(String text) {
        List<Long> pids = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            String trimmed = line.trim();
            if (!trimmed.isEmpty()) {
                pids.add(Long.parseLong(trimmed));
            }
        }
        return pids;
    }

    /**
     * The value of {@code key} in a flat keyed file ({@code memory.events}, {@code
     * memory.oom_control}, {@code cpu.stat}: {@code key value} per line), or -1 if absent.
     */
    static long keyed(String text, String key) {
        for (String line : text.split("\n", -1)) {
            String[] fields = line.trim().split("\\s+", -1);
            if (fields.length == 2 && fields[0].equals(key)) {
                return Long.parseLong(fields[1]);
            }
        }
        return -1;
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
