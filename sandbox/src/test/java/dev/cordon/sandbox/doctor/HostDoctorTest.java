package dev.cordon.sandbox.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.sandbox.doctor.HostDoctor.Check;
import dev.cordon.sandbox.doctor.HostDoctor.CommandResult;
import dev.cordon.sandbox.doctor.HostDoctor.Probes;
import dev.cordon.sandbox.doctor.HostDoctor.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checks against fake hosts: a directory tree standing in for {@code /} and scripted commands. */
class HostDoctorTest {
    @TempDir
    Path root;

    private final Map<String, CommandResult> answers = new HashMap<>();
    private final List<List<String>> ran = new ArrayList<>();

    @Test
    void hybridHostWithUserNamespacesIsReady() throws IOException {
        hybridHost(1000);

        List<Check> checks = HostDoctor.run(probes(25));

        assertThat(statusOf(checks, "java")).isEqualTo(Status.OK);
        assertThat(statusOf(checks, "bubblewrap")).isEqualTo(Status.OK);
        assertThat(statusOf(checks, "user namespaces")).isEqualTo(Status.OK);
        assertThat(statusOf(checks, "bubblewrap sandbox")).isEqualTo(Status.OK);
        assertThat(check(checks, "cgroups").detail())
                .startsWith("hybrid: v1 memory at /sys/fs/cgroup/memory, pids at /sys/fs/cgroup/pids,"
                        + " cpu at /sys/fs/cgroup/cpu")
                .endsWith("v2 at /sys/fs/cgroup/unified has hugetlb");
        assertThat(statusOf(checks, "cgroups")).isEqualTo(Status.OK);
        assertThat(statusOf(checks, "seccomp")).isEqualTo(Status.OK);
        assertThat(statusOf(checks, "/dev/kvm")).isEqualTo(Status.OK);
        assertThat(checks).noneMatch(c -> c.name().equals("setpriv"));
        assertThat(ran).contains(Checks.BWRAP_PROBE);
        assertThat(HostDoctor.render(checks)).endsWith("Ready: sandboxes can run.\n");
    }

    @Test
    void asRootTheSandboxProbeDropsToAnUnprivilegedUid() throws IOException {
        hybridHost(0);

        List<Check> checks = HostDoctor.run(probes(25));

        assertThat(statusOf(checks, "setpriv")).isEqualTo(Status.OK);
        assertThat(check(checks, "bubblewrap sandbox").detail()).contains("as uid 65534");
        List<String> expected = new ArrayList<>(Checks.SETPRIV);
        expected.addAll(Checks.BWRAP_PROBE);
        assertThat(ran).contains(expected);
    }

    @Test
    void asRootWithoutSetprivTheSandboxIsNotTriedAsRoot() throws IOException {
        hybridHost(0);
        answers.remove("setpriv");

        List<Check> checks = HostDoctor.run(probes(25));

        assertThat(statusOf(checks, "setpriv")).isEqualTo(Status.MISSING);
        assertThat(check(checks, "bubblewrap sandbox").detail()).startsWith("not tried");
        assertThat(ran).noneMatch(argv -> argv.contains("/usr/bin/true"));
    }

    @Test
    void pureV2HostReportsItsGroupsControllers() throws IOException {
        commonHost(1000);
        write("proc/mounts", CgroupsTest.V2_MOUNTS);
        write("proc/self/cgroup", CgroupsTest.V2_SELF);
        write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        write("sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/cgroup.controllers", "cpu io memory pids\n");

        Check cgroups = check(HostDoctor.run(probes(25)), "cgroups");

        assertThat(cgroups.status()).isEqualTo(Status.OK);
        assertThat(cgroups.detail())
                .isEqualTo(
                        "v2 at /sys/fs/cgroup (group /user.slice/user-1000.slice/session-2.scope): cpu io memory pids");
    }

    @Test
    void pureV2HostWithoutMemoryControllerWarnsWithAFix() throws IOException {
        commonHost(1000);
        write("proc/mounts", CgroupsTest.V2_MOUNTS);
        write("proc/self/cgroup", "0::/\n");
        write("sys/fs/cgroup/cgroup.controllers", "cpu pids\n");

        Check cgroups = check(HostDoctor.run(probes(25)), "cgroups");

        assertThat(cgroups.status()).isEqualTo(Status.WARN);
        assertThat(cgroups.detail()).contains("missing memory");
        assertThat(cgroups.fix()).contains("cgroup.subtree_control");
    }

    @Test
    void hostWithoutUserNamespacesIsNotReady() throws IOException {
        hybridHost(1000);
        write("proc/sys/user/max_user_namespaces", "0\n");
        answers.put(
                "bwrap --unshare-all",
                new CommandResult(
                        true, 1, "", "bwrap: No permissions to creating new namespace, likely because ...\n"));

        List<Check> checks = HostDoctor.run(probes(25));

        Check userns = check(checks, "user namespaces");
        assertThat(userns.status()).isEqualTo(Status.MISSING);
        assertThat(userns.fix()).contains("user.max_user_namespaces=15000");
        Check sandbox = check(checks, "bubblewrap sandbox");
        assertThat(sandbox.status()).isEqualTo(Status.MISSING);
        assertThat(sandbox.detail()).contains("(exit 1): bwrap: No permissions to creating new namespace");
        assertThat(HostDoctor.render(checks))
                .contains("fix: sudo sysctl -w user.max_user_namespaces=15000")
                .contains("Not ready: 2 missing");
    }

    @Test
    void debianSwitchOffDisablesUnprivilegedUserNamespaces() throws IOException {
        hybridHost(1000);
        write("proc/sys/kernel/unprivileged_userns_clone", "0\n");

        Check userns = check(HostDoctor.run(probes(25)), "user namespaces");

        assertThat(userns.status()).isEqualTo(Status.MISSING);
        assertThat(userns.fix())
                .isEqualTo("sudo sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)");
    }

    @Test
    void appArmorRestrictionIsAWarningAndTheFixForAFailedSandbox() throws IOException {
        hybridHost(1000);
        write("proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n");
        answers.put(
                "bwrap --unshare-all",
                new CommandResult(true, 1, "", "bwrap: setting up uid map: Permission denied\n"));

        List<Check> checks = HostDoctor.run(probes(25));

        assertThat(statusOf(checks, "user namespaces")).isEqualTo(Status.WARN);
        assertThat(check(checks, "bubblewrap sandbox").fix())
                .contains("kernel.apparmor_restrict_unprivileged_userns=0");
    }

    @Test
    void missingOrOldBubblewrapIsReportedWithTheInstallCommand() throws IOException {
        hybridHost(1000);
        answers.remove("bwrap --version");

        List<Check> checks = HostDoctor.run(probes(25));

        assertThat(statusOf(checks, "bubblewrap")).isEqualTo(Status.MISSING);
        assertThat(check(checks, "bubblewrap").fix()).contains("apt-get install bubblewrap");
        assertThat(check(checks, "bubblewrap sandbox").detail()).isEqualTo("not tried: bubblewrap is missing");

        answers.put("bwrap --version", new CommandResult(true, 0, "bubblewrap 0.6.1\n", ""));
        Check old = check(HostDoctor.run(probes(25)), "bubblewrap");
        assertThat(old.status()).isEqualTo(Status.MISSING);
        assertThat(old.detail()).contains("0.6.1 is too old").contains("--bind-fd");
    }

    @Test
    void oldJavaIsMissingWithWhatToInstall() throws IOException {
        hybridHost(1000);

        Check java = check(HostDoctor.run(probes(21)), "java");

        assertThat(java.status()).isEqualTo(Status.MISSING);
        assertThat(java.fix()).contains("openjdk-25-jdk").contains("JAVA_HOME");
    }

    @Test
    void kernelWithoutSeccompOrKvmIsReported() throws IOException {
        hybridHost(1000);
        write("proc/self/status", "Name:\tjava\nUid:\t1000\t1000\t1000\t1000\n");
        Files.delete(root.resolve("dev/kvm"));

        List<Check> checks = HostDoctor.run(probes(25));

        assertThat(statusOf(checks, "seccomp")).isEqualTo(Status.MISSING);
        assertThat(statusOf(checks, "/dev/kvm")).isEqualTo(Status.WARN);
        assertThat(check(checks, "/dev/kvm").detail()).contains("bubblewrap does not need it");
    }

    @Test
    void noCgroupsIsAWarningNotABlocker() throws IOException {
        hybridHost(1000);
        write("proc/mounts", "proc /proc proc rw 0 0\n");

        List<Check> checks = HostDoctor.run(probes(25));

        assertThat(statusOf(checks, "cgroups")).isEqualTo(Status.WARN);
        assertThat(HostDoctor.render(checks)).contains("Ready: sandboxes can run (1 warning; see above).");
    }

    @Test
    void effectiveUidIsTheSecondFieldOfTheUidLine() {
        assertThat(Checks.effectiveUid("Name:\tx\nUid:\t1000\t0\t0\t0\n")).contains(0);
        assertThat(Checks.effectiveUid("Name:\tx\n")).isEmpty();
    }

    private Probes probes(int javaFeature) {
        return new Probes(root, Runtime.Version.parse(javaFeature + ".0.1"), "/opt/jdk", argv -> {
            ran.add(argv);
            int bwrap = argv.indexOf("bwrap");
            String key = bwrap < 0 ? argv.getFirst() : "bwrap " + argv.get(bwrap + 1);
            return answers.getOrDefault(key, new CommandResult(false, -1, "", "Cannot run program \"" + key + "\""));
        });
    }

    private void hybridHost(int uid) throws IOException {
        commonHost(uid);
        write("proc/mounts", CgroupsTest.HYBRID_MOUNTS);
        write("proc/self/cgroup", CgroupsTest.HYBRID_SELF);
        for (String controller : List.of("cpu", "cpuacct", "memory", "pids")) {
            Files.createDirectories(root.resolve("sys/fs/cgroup/" + controller));
        }
        write("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
    }

    private void commonHost(int uid) throws IOException {
        write(
                "proc/self/status",
                "Name:\tjava\nUid:\t%d\t%d\t%d\t%d\nSeccomp:\t0\nSeccomp_filters:\t0\n".formatted(uid, uid, uid, uid));
        write("proc/sys/user/max_user_namespaces", "96365\n");
        write(
                "proc/sys/kernel/seccomp/actions_avail",
                "kill_process kill_thread trap errno user_notif trace log allow\n");
        write("dev/kvm", "");
        answers.put("bwrap --version", new CommandResult(true, 0, "bubblewrap 0.8.0\n", ""));
        answers.put("bwrap --unshare-all", new CommandResult(true, 0, "", ""));
        answers.put("setpriv", new CommandResult(true, 0, "setpriv from util-linux 2.38.1\n", ""));
    }

    private void write(String relative, String content) throws IOException {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }

    private static Check check(List<Check> checks, String name) {
        return checks.stream()
                .filter(c -> c.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no check named " + name + " in " + checks));
    }

    private static Status statusOf(List<Check> checks, String name) {
        return check(checks, name).status();
    }
}
