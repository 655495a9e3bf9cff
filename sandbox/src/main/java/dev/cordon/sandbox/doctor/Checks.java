package dev.cordon.sandbox.doctor;

import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.cgroup.CgroupHost;
import dev.cordon.sandbox.cgroup.ProcFiles;
import dev.cordon.sandbox.cgroup.ProcFiles.CgroupMount;
import dev.cordon.sandbox.disk.WorkspaceQuota;
import dev.cordon.sandbox.doctor.Cgroups.Layout;
import dev.cordon.sandbox.doctor.HostDoctor.Check;
import dev.cordon.sandbox.doctor.HostDoctor.CommandResult;
import dev.cordon.sandbox.doctor.HostDoctor.Probes;
import dev.cordon.sandbox.doctor.HostDoctor.Status;
import dev.cordon.sandbox.seccomp.Seccomp;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** The individual host checks. Each returns one {@link Check} and never throws. */
final class Checks {
    static final int MIN_JAVA = 25;

    /** The uid sandboxes are tested as when the doctor runs as root ("nobody"). */
    static final String UNPRIVILEGED_ID = "65534";

    /** The smallest bubblewrap sandbox that exercises every namespace Cordon uses. */
    static final List<String> BWRAP_PROBE = List.of(
            "bwrap",
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--ro-bind",
            "/usr",
            "/usr",
            "--symlink",
            "usr/bin",
            "/bin",
            "--symlink",
            "usr/lib",
            "/lib",
            "--symlink",
            "usr/lib64",
            "/lib64",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "/usr/bin/true");

    static final List<String> SETPRIV =
            List.of("setpriv", "--reuid=" + UNPRIVILEGED_ID, "--regid=" + UNPRIVILEGED_ID, "--clear-groups");

    private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)(?:\\.(\\d+))?");
    private static final String INSTALL_BWRAP =
            "install bubblewrap 0.8 or newer: sudo apt-get install bubblewrap (Debian/Ubuntu) or sudo dnf install bubblewrap (Fedora)";
    private static final String INSTALL_SETPRIV = "install setpriv: sudo apt-get install util-linux";

    private final Probes probes;

    Checks(Probes probes) {
        this.probes = probes;
    }

    List<Check> all() {
        List<Check> checks = new ArrayList<>();
        checks.add(java());
        Optional<Integer> uid = effectiveUid(read("proc/self/status").orElse(""));
        boolean root = uid.isPresent() && uid.get() == 0;
        Check setpriv = root ? setpriv() : null;
        Check bubblewrap = bubblewrap();
        checks.add(bubblewrap);
        checks.add(userNamespaces());
        if (setpriv != null) {
            checks.add(setpriv);
        }
        checks.add(bubblewrapSandbox(bubblewrap.status() != Status.MISSING, root, setpriv));
        checks.add(cgroups());
        checks.addAll(limits());
        checks.addAll(diskQuota());
        checks.add(seccomp());
        checks.add(kvm());
        Layout layout = Cgroups.layout(
                read("proc/mounts").orElse(""), read("proc/self/cgroup").orElse(""));
        checks.addAll(new RuntimeChecks(probes, root, !layout.v1().isEmpty()).all());
        return checks;
    }

    Check java() {
        Runtime.Version version = probes.java();
        String detail = "Java " + version + " at " + probes.javaHome();
        if (version.feature() >= MIN_JAVA) {
            return ok("java", detail);
        }
        return new Check(
                "java",
                Status.MISSING,
                detail + ": Cordon needs " + MIN_JAVA + " or newer",
                "install JDK " + MIN_JAVA + " (Temurin 25 from adoptium.net, or sudo apt-get install openjdk-25-jdk)"
                        + " and set JAVA_HOME to it; ./cordon also finds it under /usr/lib/jvm");
    }

    Check bubblewrap() {
        CommandResult result = probes.commands().run(List.of("bwrap", "--version"));
        if (!result.started()) {
            return new Check("bubblewrap", Status.MISSING, "bwrap is not installed (not found on PATH)", INSTALL_BWRAP);
        }
        String output = (result.stdout() + " " + result.stderr()).trim();
        Matcher m = VERSION.matcher(output);
        if (!result.succeeded() || !m.find()) {
            return new Check(
                    "bubblewrap",
                    Status.MISSING,
                    "bwrap --version failed: " + firstLines(output),
                    "reinstall bubblewrap: sudo apt-get install --reinstall bubblewrap");
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        if (major == 0 && minor < 8) {
            return new Check(
                    "bubblewrap",
                    Status.MISSING,
                    "bubblewrap " + m.group() + " is too old: Cordon hands sockets to sandboxes with --bind-fd (0.8+)",
                    INSTALL_BWRAP);
        }
        return ok("bubblewrap", "bubblewrap " + m.group());
    }

    Check setpriv() {
        CommandResult result = probes.commands().run(List.of("setpriv", "--version"));
        if (!result.succeeded()) {
            return new Check(
                    "setpriv",
                    Status.MISSING,
                    "running as root, but setpriv is missing: Cordon needs it to run sandboxes as an unprivileged uid",
                    INSTALL_SETPRIV);
        }
        return ok("setpriv", "present: as root, Cordon runs sandboxes as an unprivileged uid through it");
    }

    /**
     * Starts a real, minimal sandbox. As root it drops to uid 65534 first: bubblewrap run by root
     * maps the sandbox's uid 0 to the host's uid 0 and needs no user namespace, so a root-run probe
     * would pass on hosts where Cordon's unprivileged sandboxes fail.
     */
    Check bubblewrapSandbox(boolean installed, boolean root, Check setpriv) {
        String name = "bubblewrap sandbox";
        if (!installed) {
            return new Check(name, Status.MISSING, "not tried: bubblewrap is missing", INSTALL_BWRAP);
        }
        if (root && setpriv != null && setpriv.status() != Status.OK) {
            return new Check(name, Status.MISSING, "not tried: as root it needs setpriv", INSTALL_SETPRIV);
        }
        List<String> argv = new ArrayList<>();
        if (root) {
            argv.addAll(SETPRIV);
        }
        argv.addAll(BWRAP_PROBE);
        CommandResult result = probes.commands().run(argv);
        String as = root ? " as uid " + UNPRIVILEGED_ID : "";
        if (result.succeeded()) {
            return ok(name, "a test sandbox started" + as + " (all namespaces unshared)");
        }
        String why = firstLines(result.stderr().isBlank() ? result.stdout() : result.stderr());
        String detail = "a test sandbox failed to start" + as + " (exit " + result.exitCode() + "): "
                + (why.isEmpty() ? "no message" : why);
        return new Check(name, Status.MISSING, detail, sandboxFix(why));
    }

    private String sandboxFix(String stderr) {
        if (read("proc/sys/kernel/apparmor_restrict_unprivileged_userns")
                .map(String::trim)
                .filter("1"::equals)
                .isPresent()) {
            return "AppArmor blocks unprivileged user namespaces: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
                    + " (persist it in /etc/sysctl.d/), or add an AppArmor profile for bwrap";
        }
        if (stderr.contains("namespace") || stderr.contains("uid map") || stderr.contains("Operation not permitted")) {
            return "allow unprivileged user namespaces (see the user namespaces check); inside Docker or Podman,"
                    + " run the container with --security-opt seccomp=unconfined --security-opt apparmor=unconfined";
        }
        return "run the probe by hand to see why: " + String.join(" ", BWRAP_PROBE);
    }

    Check userNamespaces() {
        String name = "user namespaces";
        Optional<String> max = read("proc/sys/user/max_user_namespaces").map(String::trim);
        if (max.isEmpty()) {
            return new Check(
                    name,
                    Status.MISSING,
                    "the kernel has no user namespaces (/proc/sys/user/max_user_namespaces is absent)",
                    "use a kernel built with CONFIG_USER_NS=y (every mainstream distribution kernel is)");
        }
        if (max.get().equals("0")) {
            return new Check(
                    name,
                    Status.MISSING,
                    "disabled: user.max_user_namespaces is 0",
                    "sudo sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/)");
        }
        Optional<String> debianSwitch =
                read("proc/sys/kernel/unprivileged_userns_clone").map(String::trim);
        if (debianSwitch.filter("0"::equals).isPresent()) {
            return new Check(
                    name,
                    Status.MISSING,
                    "unprivileged user namespaces are disabled: kernel.unprivileged_userns_clone is 0",
                    "sudo sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)");
        }
        if (read("proc/sys/kernel/apparmor_restrict_unprivileged_userns")
                .map(String::trim)
                .filter("1"::equals)
                .isPresent()) {
            return new Check(
                    name,
                    Status.WARN,
                    "allowed, but AppArmor restricts them (kernel.apparmor_restrict_unprivileged_userns=1)",
                    "if the bubblewrap sandbox check fails: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0");
        }
        return ok(name, "unprivileged user namespaces allowed (max " + max.get() + ")");
    }

    Check cgroups() {
        String name = "cgroups";
        Layout layout = Cgroups.layout(
                read("proc/mounts").orElse(""), read("proc/self/cgroup").orElse(""));
        if (layout.v2() == null && layout.v1().isEmpty()) {
            return new Check(
                    name,
                    Status.WARN,
                    "no cgroup file system is mounted: sandboxes would run without memory, process and CPU limits",
                    "mount cgroup v2: sudo mount -t cgroup2 none /sys/fs/cgroup");
        }
        if (layout.pureV2()) {
            return cgroupsV2(layout);
        }
        return cgroupsV1(layout);
    }

    private Check cgroupsV2(Layout layout) {
        CgroupMount mount = layout.v2();
        String groupPath = layout.groups().getOrDefault(ProcFiles.V2, "/");
        Path group = groupDir(mount.mountPoint(), groupPath);
        Set<String> controllers = ProcFiles.parseWords(readAt(group.resolve("cgroup.controllers"))
                .or(() -> readAt(host(mount.mountPoint()).resolve("cgroup.controllers")))
                .orElse(""));
        List<String> missing = missing(controllers);
        String detail = "v2 at " + mount.mountPoint() + " (group " + groupPath + "): "
                + (controllers.isEmpty() ? "no controllers" : String.join(" ", controllers));
        if (!missing.isEmpty()) {
            return new Check(
                    "cgroups",
                    Status.WARN,
                    detail + "; missing " + String.join(", ", missing) + ": those limits would not be enforced",
                    "enable them for Cordon's group, e.g. echo '+memory +pids +cpu' | sudo tee "
                            + mount.mountPoint() + "/cgroup.subtree_control, or start Cordon under"
                            + " systemd-run --user --scope -p Delegate=yes");
        }
        if (mount.readOnly() || !Files.isWritable(group)) {
            return new Check(
                    "cgroups",
                    Status.WARN,
                    detail + "; but " + groupPath + " is not writable by Cordon",
                    "give Cordon a delegated cgroup: systemd-run --user --scope -p Delegate=yes ./cordon start,"
                            + " or in a container mount /sys/fs/cgroup read-write");
        }
        return ok("cgroups", detail);
    }

    private Check cgroupsV1(Layout layout) {
        List<String> found = new ArrayList<>();
        List<String> unusable = new ArrayList<>();
        for (String controller : Cgroups.NEEDED) {
            CgroupMount mount = layout.v1().get(controller);
            if (mount == null) {
                continue;
            }
            found.add(controller);
            Path group = groupDir(mount.mountPoint(), layout.groups().getOrDefault(controller, "/"));
            if (mount.readOnly() || !Files.isWritable(group)) {
                unusable.add(controller);
            }
        }
        List<String> missing = missing(Set.copyOf(found));
        String mounts = found.stream()
                .map(c -> c + " at " + layout.v1().get(c).mountPoint())
                .collect(Collectors.joining(", "));
        StringBuilder detail = new StringBuilder(layout.v2() == null ? "v1" : "hybrid: v1");
        detail.append(found.isEmpty() ? " without memory, pids or cpu" : " " + mounts);
        if (layout.v2() != null) {
            Set<String> v2Controllers =
                    ProcFiles.parseWords(readAt(host(layout.v2().mountPoint()).resolve("cgroup.controllers"))
                            .orElse(""));
            detail.append("; v2 at ")
                    .append(layout.v2().mountPoint())
                    .append(" has ")
                    .append(v2Controllers.isEmpty() ? "no controllers" : String.join(" ", v2Controllers));
        }
        if (!missing.isEmpty()) {
            return new Check(
                    "cgroups",
                    Status.WARN,
                    detail + "; missing " + String.join(", ", missing) + ": those limits would not be enforced",
                    "mount the missing v1 controllers (e.g. sudo mount -t cgroup -o memory cgroup /sys/fs/cgroup/memory)"
                            + " or boot with the unified hierarchy (systemd.unified_cgroup_hierarchy=1)");
        }
        if (!unusable.isEmpty()) {
            return new Check(
                    "cgroups",
                    Status.WARN,
                    detail + "; not writable: " + String.join(", ", unusable),
                    "run Cordon as a user that may create groups there, or in a container mount /sys/fs/cgroup read-write");
        }
        return ok("cgroups", detail.toString());
    }

    /**
     * One line per resource limit: whether sandboxes can be held to it here. A default sandbox
     * requires all three, so an unenforceable one is MISSING unless the operator opts out.
     */
    List<Check> limits() {
        if (!probes.root().toAbsolutePath().normalize().equals(Path.of("/"))) {
            // A sample tree (tests) describes mounts, not a kernel that can take limits; the cgroup
            // package's detection tests cover the sample layouts, HostDoctorOnThisMachineTest this line.
            return List.of();
        }
        List<Check> checks = new ArrayList<>();
        CgroupHost host;
        try {
            host = CgroupHost.detect(probes.root());
        } catch (SandboxException e) {
            return List.of(new Check("limits", Status.MISSING, e.getMessage(), "mount cgroups (v2 preferred)"));
        }
        for (CgroupHost.Support s : host.support().values()) {
            String name = "limit: " + s.limit().name().toLowerCase(java.util.Locale.ROOT);
            checks.add(
                    s.enforceable()
                            ? ok(name, s.detail())
                            : new Check(
                                    name,
                                    Status.MISSING,
                                    s.detail(),
                                    s.fix() + "; or opt out in cordon.yaml: sandbox.unenforced_limits: ["
                                            + s.limit().name().toLowerCase(java.util.Locale.ROOT) + "]"));
        }
        return checks;
    }

    /**
     * Whether agents' workspaces can get a hard disk quota here (a loop-mounted ext4 image each, see
     * docs/resource-limits.md). Like the other limits, an agent whose policy asks for one is refused
     * where it is unavailable, unless the operator opts out.
     */
    List<Check> diskQuota() {
        if (!probes.root().toAbsolutePath().normalize().equals(Path.of("/"))) {
            // As for limits(): detection formats and mounts a real probe image, which a sample tree cannot.
            return List.of();
        }
        String name = "limit: disk";
        WorkspaceQuota.Support support = WorkspaceQuota.detect().support();
        if (support.hard()) {
            return List.of(ok(name, support.detail()));
        }
        return List.of(new Check(
                name,
                Status.MISSING,
                "workspace disk quotas unavailable: " + support.detail(),
                support.fix() + "; or opt out in cordon.yaml: sandbox.unenforced_limits: [disk]"
                        + " (or sandbox.disk_mb: 0)"));
    }

    Check seccomp() {
        String name = "seccomp";
        try {
            Seccomp.defaultFilter();
        } catch (SandboxException e) {
            return new Check(name, Status.MISSING, e.getMessage(), "run Cordon on x86_64 or aarch64");
        }
        Optional<String> mode = statusField(read("proc/self/status").orElse(""), "Seccomp");
        if (mode.isEmpty()) {
            return new Check(
                    name,
                    Status.MISSING,
                    "the kernel has no seccomp (no Seccomp line in /proc/self/status)",
                    "use a kernel built with CONFIG_SECCOMP_FILTER=y (every mainstream distribution kernel is)");
        }
        String now = switch (mode.get()) {
            case "0" -> "available";
            case "2" -> "available; this process already runs under a filter (a container?), Cordon's stacks on it";
            default -> "mode " + mode.get();
        };
        Optional<String> actions = read("proc/sys/kernel/seccomp/actions_avail").map(String::trim);
        if (actions.isEmpty()) {
            return new Check(
                    name,
                    Status.WARN,
                    now + "; /proc/sys/kernel/seccomp/actions_avail is absent (kernel older than 4.14?)",
                    "use a kernel 4.14 or newer so filters can return errors instead of killing the process");
        }
        Set<String> available = Set.of(actions.get().split("\\s+", -1));
        if (!available.contains("errno") || !available.contains("kill_process")) {
            return new Check(
                    name,
                    Status.WARN,
                    now + "; actions: " + actions.get() + " (errno and kill_process are needed)",
                    "use a kernel 4.14 or newer");
        }
        return ok(name, now + "; actions: " + actions.get());
    }

    Check kvm() {
        String name = "/dev/kvm";
        Path kvm = probes.root().resolve("dev/kvm");
        if (!Files.exists(kvm)) {
            return new Check(
                    name,
                    Status.WARN,
                    "absent: the microVM backend is unavailable (bubblewrap does not need it)",
                    "only for microVMs: enable virtualization in the firmware, load kvm_intel or kvm_amd,"
                            + " or enable nested virtualization for this VM");
        }
        try (FileChannel ignored = FileChannel.open(kvm, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return ok(name, "present and opens read-write (whether KVM boots a kernel here: the vm line)");
        } catch (IOException | SecurityException e) {
            return new Check(
                    name,
                    Status.WARN,
                    "present but cannot be opened read-write: " + e.getMessage(),
                    "only for microVMs: sudo usermod -aG kvm $USER, then log in again");
        }
    }

    /** The effective uid from {@code /proc/self/status} ({@code Uid: real effective saved fs}). */
    static Optional<Integer> effectiveUid(String procStatus) {
        return statusField(procStatus, "Uid").flatMap(value -> {
            String[] ids = value.split("\\s+", -1);
            try {
                return Optional.of(Integer.parseInt(ids.length > 1 ? ids[1] : ids[0]));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
    }

    /** The value of a {@code Key:\tvalue} line of a {@code /proc/.../status} file. */
    static Optional<String> statusField(String procStatus, String key) {
        for (String line : procStatus.split("\n", -1)) {
            if (line.startsWith(key + ":")) {
                return Optional.of(line.substring(key.length() + 1).trim());
            }
        }
        return Optional.empty();
    }

    private static List<String> missing(Set<String> controllers) {
        return Cgroups.NEEDED.stream().filter(c -> !controllers.contains(c)).toList();
    }

    // The group path from /proc/self/cgroup is relative to the hierarchy's root, which is not
    // always the mount's root (a container without a cgroup namespace sees the host's paths).
    private Path groupDir(String mountPoint, String groupPath) {
        Path mount = host(mountPoint);
        Path group = mount.resolve(groupPath.replaceFirst("^/+", ""));
        return Files.isDirectory(group) ? group : mount;
    }

    private Path host(String absolute) {
        return probes.root().resolve(absolute.replaceFirst("^/+", ""));
    }

    private Optional<String> read(String relative) {
        return readAt(probes.root().resolve(relative));
    }

    // Not Files.readString: on this kernel it returns only the first byte of numeric sysctl files
    // (/proc/sys/user/max_user_namespaces reads as "9" instead of "96365"). A stream reads to EOF.
    private static Optional<String> readAt(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static String firstLines(String text) {
        String joined = text.strip().lines().limit(3).collect(Collectors.joining(" / "));
        return joined.length() > 300 ? joined.substring(0, 300) + "…" : joined;
    }

    private static Check ok(String name, String detail) {
        return new Check(name, Status.OK, detail, "");
    }
}
