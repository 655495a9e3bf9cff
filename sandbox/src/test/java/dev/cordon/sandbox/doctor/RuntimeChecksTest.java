package dev.cordon.sandbox.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.sandbox.doctor.HostDoctor.Check;
import dev.cordon.sandbox.doctor.HostDoctor.CommandResult;
import dev.cordon.sandbox.doctor.HostDoctor.Probes;
import dev.cordon.sandbox.doctor.HostDoctor.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OCI runtime checks against scripted answers: which gVisor platforms work, and why not. */
class RuntimeChecksTest {
    @TempDir
    Path root;

    /** Answers by program, and for {@code timeout ... runsc --platform=P} by platform. */
    final Map<String, CommandResult> answers = new HashMap<>();

    private RuntimeChecks checks(boolean asRoot, boolean cgroupV1) {
        Probes probes = new Probes(root, Runtime.version(), "/opt/jdk", argv -> {
            String key = argv.getFirst().equals("timeout")
                    ? argv.stream()
                            .filter(a -> a.startsWith("--platform="))
                            .findFirst()
                            .orElseThrow()
                    : String.join(" ", argv);
            return answers.getOrDefault(key, new CommandResult(false, -1, "", "Cannot run program"));
        });
        return new RuntimeChecks(probes, asRoot, cgroupV1);
    }

    private void runscInstalled() {
        answers.put(
                "runsc --version", new CommandResult(true, 0, "runsc version 0.0~20221219.0\nspec: 1.0.2-dev\n", ""));
        answers.put(
                "runsc flags",
                new CommandResult(
                        true,
                        0,
                        "",
                        "  -platform string\n    \tspecifies which platform to use: ptrace (default), kvm.\n"));
    }

    @Test
    void eachGvisorPlatformIsProbedAndAHangingKvmIsReportedAsSuch() throws IOException {
        runscInstalled();
        Files.createDirectories(root.resolve("dev"));
        Files.writeString(root.resolve("dev/kvm"), "");
        answers.put("--platform=ptrace", new CommandResult(true, 0, "root\n", ""));
        answers.put("--platform=kvm", new CommandResult(true, 124, "", ""));

        Check runsc = checks(true, true).runsc();

        assertThat(runsc.status()).isEqualTo(Status.OK);
        assertThat(runsc.detail())
                .isEqualTo("runsc 0.0~20221219.0 platforms: ptrace works; systrap (not in this runsc), kvm (hangs):"
                        + " backend runsc usable");
    }

    @Test
    void kvmIsNotTriedWithoutDevKvm() {
        runscInstalled();
        answers.put("--platform=ptrace", new CommandResult(true, 0, "root\n", ""));

        assertThat(checks(true, true).runsc().detail()).contains("kvm (no /dev/kvm)");
    }

    @Test
    void theOldGvisorsStatxBugIsAWarningThatSaysWhatBreaks() {
        runscInstalled();
        answers.put(
                "--platform=ptrace",
                new CommandResult(true, 1, "", "/usr/bin/stat: cannot statx '/': Invalid argument\n"));

        List<Check> all = checks(true, true).all();
        Check runsc = check(all, "runsc");

        assertThat(runsc.status()).isEqualTo(Status.WARN);
        assertThat(runsc.detail()).contains("ptrace works").contains("ls and stat fail with EINVAL inside");
        assertThat(runsc.fix()).contains("2023 or later");
        assertThat(check(all, "backends").detail()).contains("runsc (gvisor)");
    }

    @Test
    void noWorkingPlatformIsAWarningAndTheBackendIsNotListedAsUsable() {
        runscInstalled();
        answers.put("--platform=ptrace", new CommandResult(true, 2, "", "panic: ptrace"));

        List<Check> all = checks(true, true).all();

        assertThat(check(all, "runsc").status()).isEqualTo(Status.WARN);
        assertThat(check(all, "runsc").detail()).contains("none works").contains("ptrace (fails)");
        assertThat(check(all, "backends").detail()).doesNotContain("runsc");
    }

    @Test
    void missingRuntimesAreNotWarningsAndOnlyBubblewrapIsUsable() {
        List<Check> all = checks(true, false).all();

        assertThat(all).allSatisfy(c -> assertThat(c.status()).isEqualTo(Status.OK));
        assertThat(check(all, "runc").detail()).contains("not installed").contains("apt-get install runc");
        assertThat(check(all, "vm").detail())
                .contains("QEMU not installed")
                .contains("apt-get install qemu-system-x86");
        assertThat(check(all, "backends").detail()).isEqualTo("usable here: bubblewrap (container)");
    }

    @Test
    void runcCrunAndPodmanNeedRootAndCrunSaysHowItRunsOnAHybridHost() {
        answers.put("runc --version", new CommandResult(true, 0, "runc version 1.1.5+ds1\ncommit: x\n", ""));
        answers.put("crun --version", new CommandResult(true, 0, "crun version 1.8.1\n", ""));
        answers.put("podman --version", new CommandResult(true, 0, "podman version 4.3.1\n", ""));

        List<Check> asUser = checks(false, true).all();
        List<Check> asRoot = checks(true, true).all();

        assertThat(check(asUser, "runc").status()).isEqualTo(Status.WARN);
        assertThat(check(asUser, "runc").detail()).contains("needs cordon to run as root");
        assertThat(check(asRoot, "runc").detail()).isEqualTo("runc 1.1.5+ds1: backend runc usable");
        assertThat(check(asUser, "crun").detail()).contains("needs cordon to run as root");
        assertThat(check(asUser, "podman").status()).isEqualTo(Status.WARN);
        assertThat(check(asRoot, "backends").detail())
                .isEqualTo("usable here: bubblewrap (container), runc (container), crun (container),"
                        + " podman (container)");
        assertThat(check(asRoot, "crun").detail())
                .startsWith("crun 1.8.1: backend crun usable; limits in Cordon's cgroups")
                .contains("without the v2 hierarchy");
        assertThat(check(asRoot, "podman").detail())
                .isEqualTo(
                        "podman 4.3.1: backend podman usable (rootful, crun underneath); limits in Cordon's cgroups");
    }

    @Test
    void podmanWithoutCrunIsAWarningThatSaysToInstallIt() {
        answers.put("podman --version", new CommandResult(true, 0, "podman version 4.3.1\n", ""));

        List<Check> all = checks(true, true).all();

        assertThat(check(all, "podman").status()).isEqualTo(Status.WARN);
        assertThat(check(all, "podman").fix()).isEqualTo("apt-get install crun");
        assertThat(check(all, "backends").detail()).doesNotContain("podman");
    }

    private static Check check(List<Check> checks, String name) {
        return checks.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }
}
