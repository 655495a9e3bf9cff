package dev.cordon.sandbox.cgroup;

import dev.cordon.core.sandbox.Limit;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.cgroup.CgroupHost.Layout;
import dev.cordon.sandbox.cgroup.CgroupHost.Support;
import dev.cordon.sandbox.cgroup.ProcFiles.CgroupMount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads the layout from the kernel's files under a root ({@code /}, or a sample tree in tests). */
final class Detector {
    private final Path root;
    private final Kernel kernel;
    private final Map<String, CgroupMount> v1 = new LinkedHashMap<>();
    private final Map<String, String> groups;
    private final CgroupMount v2;
    private final Path v2Group;
    private final Set<String> v2Available;

    private Detector(Path root, Kernel kernel, String procMounts, String selfCgroup) {
        this.root = root;
        this.kernel = kernel;
        CgroupMount unified = null;
        for (CgroupMount mount : ProcFiles.parseMounts(procMounts)) {
            if (mount.v2()) {
                unified = unified == null ? mount : unified;
            } else {
                for (String controller : mount.controllers()) {
                    v1.putIfAbsent(controller, mount);
                }
            }
        }
        this.v2 = unified;
        this.groups = ProcFiles.parseSelfCgroup(selfCgroup);
        if (unified == null) {
            this.v2Group = null;
            this.v2Available = Set.of();
        } else {
            String path = groups.getOrDefault(ProcFiles.V2, "/");
            Path group = resolve(unified, path);
            // A daemon that already moved into its leaf keeps using the group above it.
            if (group.getFileName() != null && group.getFileName().toString().equals(Hierarchy.DAEMON_LEAF)) {
                group = group.getParent();
            }
            this.v2Group = group;
            this.v2Available = ProcFiles.parseWords(readOr(group.resolve("cgroup.controllers"), ""));
        }
    }

    static CgroupHost detect(Path root, Kernel kernel, Clock clock) {
        String mounts = readOr(root.resolve("proc/mounts"), null);
        String self = readOr(root.resolve("proc/self/cgroup"), null);
        if (mounts == null || self == null) {
            throw new SandboxException("cannot read /proc/mounts or /proc/self/cgroup under " + root);
        }
        return new Detector(root, kernel, mounts, self).host(clock);
    }

    private CgroupHost host(Clock clock) {
        Layout layout = layout();
        Map<Limit, Support> support = new EnumMap<>(Limit.class);
        Map<String, Hierarchy> sources = new LinkedHashMap<>();
        for (Limit limit : Limit.values()) {
            String controller = controller(limit);
            Support problem = problem(layout, limit, controller);
            if (problem == null) {
                Hierarchy hierarchy = hierarchyFor(controller);
                sources.put(controller, hierarchy);
                support.put(limit, new Support(limit, true, howEnforced(limit, hierarchy), ""));
            } else {
                support.put(limit, problem);
            }
        }
        // CPU usage: cpuacct on v1 (it may be mounted apart from cpu), cpu.stat of any v2 group.
        CgroupMount cpuacct = v1.get("cpuacct");
        if (cpuacct != null && v1Problem(Limit.CPU, cpuacct, "cpuacct") == null) {
            sources.put("cpuacct", hierarchyFor("cpuacct"));
        }
        return new Host(layout, support, merge(sources), kernel, clock);
    }

    private Layout layout() {
        if (v1.isEmpty()) {
            return v2 == null ? Layout.NONE : Layout.V2;
        }
        return v2 == null ? Layout.V1 : Layout.HYBRID;
    }

    private static String controller(Limit limit) {
        return switch (limit) {
            case MEMORY -> "memory";
            case PIDS -> "pids";
            case CPU -> "cpu";
        };
    }

    private static Support no(Limit limit, String detail, String fix) {
        return new Support(limit, false, detail, fix);
    }

    /** Why {@code limit} cannot be enforced here, or null if it can. */
    private Support problem(Layout layout, Limit limit, String controller) {
        CgroupMount mount = v1.get(controller);
        if (mount != null) {
            return v1Problem(limit, mount, controller);
        }
        if (v2 != null && v2Available.contains(controller)) {
            return v2Problem(limit, controller);
        }
        String v1Mount = "mount -t cgroup -o " + controller + " cgroup /sys/fs/cgroup/" + controller;
        return switch (layout) {
            case NONE ->
                no(limit, "no cgroup file system is mounted", "mount cgroup v2: mount -t cgroup2 none /sys/fs/cgroup");
            case V1 -> no(limit, "the " + controller + " controller is not mounted", v1Mount);
            case HYBRID ->
                no(
                        limit,
                        "the " + controller + " controller is mounted neither as cgroup v1 nor in " + v2.mountPoint(),
                        v1Mount);
            case V2 ->
                no(
                        limit,
                        "the " + controller + " controller is not available to " + v2Group
                                + " (its cgroup.controllers lists: "
                                + (v2Available.isEmpty() ? "nothing" : String.join(" ", v2Available)) + ")",
                        "its parent must enable it for children (echo +" + controller
                                + " > the parent's cgroup.subtree_control); for a non-root user systemd delegates"
                                + " memory, pids and cpu: start the daemon with systemd-run --user --scope"
                                + " -p Delegate=yes ...");
        };
    }

    private Support v1Problem(Limit limit, CgroupMount mount, String controller) {
        Path group = v1Group(mount, controller);
        if (mount.readOnly()) {
            return no(
                    limit,
                    "the cgroup v1 " + controller + " hierarchy at " + mount.mountPoint() + " is mounted read-only",
                    "run the daemon on the host, or give its container a writable cgroup");
        }
        if (!Files.isDirectory(group)) {
            return no(
                    limit,
                    "this process's " + controller + " group " + groups.get(controller) + " is not visible under "
                            + mount.mountPoint(),
                    "run the daemon where its own cgroup is mounted (on the host, or with a cgroup namespace)");
        }
        if (!kernel.canWrite(group)) {
            return no(
                    limit,
                    "cannot create groups in " + group + " (cgroup v1 groups belong to root, and v1 has no safe"
                            + " delegation to other users)",
                    "run the daemon as root, or on a cgroup v2 host with systemd delegation");
        }
        String file = switch (controller) {
            case "memory" -> "memory.limit_in_bytes";
            case "cpu" -> "cpu.cfs_quota_us";
            default -> null;
        };
        if (file != null && !Files.exists(group.resolve(file))) {
            return no(
                    limit,
                    group.resolve(file) + " does not exist",
                    controller.equals("cpu")
                            ? "use a kernel with CFS bandwidth control (CONFIG_CFS_BANDWIDTH)"
                            : "use a kernel with the memory controller enabled (cgroup_enable=memory)");
        }
        return null;
    }

    private Support v2Problem(Limit limit, String controller) {
        if (v2.readOnly()) {
            return no(
                    limit,
                    "the cgroup v2 hierarchy at " + v2.mountPoint() + " is mounted read-only",
                    "run the daemon on the host, or give its container a writable cgroup");
        }
        if (!kernel.canWrite(v2Group)) {
            return no(
                    limit,
                    "cannot create groups in " + v2Group + ": this user was not delegated that group",
                    "start the daemon with systemd-run --user --scope -p Delegate=yes ..., or as a systemd service"
                            + " with Delegate=yes");
        }
        if (enabledForChildren(v2Group).contains(controller) || isRootGroup(v2Group)) {
            return null;
        }
        List<Long> pids = ProcFiles.parsePids(readOr(v2Group.resolve("cgroup.procs"), ""));
        if (pids.isEmpty() || pids.equals(List.of(kernel.selfPid()))) {
            return null;
        }
        return no(
                limit,
                controller + " is available to " + v2Group + " but not enabled for its children, and the group"
                        + " holds " + pids.size() + " processes besides this daemon (cgroup v2 lets only a group"
                        + " without processes of its own enable controllers for children)",
                "start the daemon alone in its group (systemd-run --user --scope -p Delegate=yes ...), or enable "
                        + controller + " in " + v2Group.resolve("cgroup.subtree_control")
                        + " and run the daemon in a child group");
    }

    private String howEnforced(Limit limit, Hierarchy hierarchy) {
        Path dir = hierarchy.parent();
        String how = switch (limit) {
            case MEMORY -> {
                if (hierarchy.v2()) {
                    yield "memory.max"
                            + (Files.exists(hierarchy.group().resolve("memory.swap.max"))
                                            || isRootGroup(hierarchy.group())
                                    ? " and memory.swap.max=0"
                                    : " (swap is not accounted: no memory.swap.max, so a sandbox may also"
                                            + " use swap)");
                }
                yield "memory.limit_in_bytes"
                        + (Files.exists(hierarchy.group().resolve("memory.memsw.limit_in_bytes"))
                                ? " and memory.memsw.limit_in_bytes (swap included)"
                                : " (swap is not accounted: boot with swapaccount=1, or a sandbox may also"
                                        + " use swap)");
            }
            case PIDS -> "pids.max";
            case CPU -> hierarchy.v2() ? "cpu.max" : "cpu.cfs_quota_us";
        };
        String note =
                hierarchy.v2() && !enabledForChildren(v2Group).contains(controller(limit)) && !isRootGroup(v2Group)
                        ? "; on first use the daemon moves itself into " + v2Group.resolve(Hierarchy.DAEMON_LEAF)
                                + " (cgroup v2 lets only a group without processes enable controllers for its children)"
                        : "";
        return (hierarchy.v2() ? "cgroup v2" : "cgroup v1") + " " + how + " in " + dir + "/<sandbox>" + note;
    }

    private Hierarchy hierarchyFor(String controller) {
        CgroupMount mount = v1.get(controller);
        if (mount != null) {
            return new Hierarchy(false, v1Group(mount, controller), mount.controllers());
        }
        return new Hierarchy(true, v2Group, Set.of(controller));
    }

    /** One hierarchy per directory, with the controllers used from each merged. */
    private static List<Hierarchy> merge(Map<String, Hierarchy> sources) {
        Map<Path, Set<String>> used = new LinkedHashMap<>();
        Map<Path, Boolean> v2 = new LinkedHashMap<>();
        for (Map.Entry<String, Hierarchy> e : sources.entrySet()) {
            used.computeIfAbsent(e.getValue().group(), k -> new LinkedHashSet<>())
                    .add(e.getKey());
            v2.put(e.getValue().group(), e.getValue().v2());
        }
        return used.entrySet().stream()
                .map(e -> new Hierarchy(v2.get(e.getKey()), e.getKey(), Set.copyOf(e.getValue())))
                .toList();
    }

    private Path v1Group(CgroupMount mount, String controller) {
        Path group = resolve(mount, groups.getOrDefault(controller, "/"));
        Path mountDir = resolve(mount, "/");
        // Inside a container without a cgroup namespace the mount shows only the container's own
        // group, while /proc/self/cgroup names it by its full host path.
        if (!Files.isDirectory(group)
                && ProcFiles.parsePids(readOr(mountDir.resolve("cgroup.procs"), ""))
                        .contains(kernel.selfPid())) {
            return mountDir;
        }
        return group;
    }

    private Path resolve(CgroupMount mount, String group) {
        return root.resolve(mount.mountPoint().substring(1)).resolve(group.substring(1));
    }

    static Set<String> enabledForChildren(Path group) {
        return ProcFiles.parseWords(readOr(group.resolve("cgroup.subtree_control"), ""));
    }

    /** The root group is exempt from the no-internal-processes rule; it is the only one without cgroup.type. */
    static boolean isRootGroup(Path group) {
        return !Files.exists(group.resolve("cgroup.type"));
    }

    static String readOr(Path file, String fallback) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return fallback;
        }
    }
}
