package dev.cordon.sandbox.doctor;

import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.doctor.HostDoctor.Check;
import dev.cordon.sandbox.doctor.HostDoctor.CommandResult;
import dev.cordon.sandbox.doctor.HostDoctor.Probes;
import dev.cordon.sandbox.doctor.HostDoctor.Status;
import dev.cordon.sandbox.vm.Vm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The optional backends: runc and gVisor (with which of its platforms start a sandbox here), the
 * microVM (QEMU, with the accelerator it gets here), crun and podman. A missing optional
 * runtime is not a warning: bubblewrap is the default and needs none of them.
 */
final class RuntimeChecks {
    /** gVisor's platforms, cheapest first to probe; {@code kvm} only where {@code /dev/kvm} exists. */
    static final List<String> PLATFORMS = List.of("ptrace", "systrap", "kvm");

    /** Most a platform probe may take: the KVM platform hangs, spinning, on a host whose KVM cannot run it. */
    static final String PROBE_SECONDS = "5";

    private static final Pattern VERSION = Pattern.compile("version (\\S+)");

    private final Probes probes;
    private final boolean root;
    /** Whether controllers are on cgroup v1 (a v1 or hybrid layout), which crun refuses. */
    private final boolean cgroupV1;

    RuntimeChecks(Probes probes, boolean root, boolean cgroupV1) {
        this.probes = probes;
        this.root = root;
        this.cgroupV1 = cgroupV1;
    }

    List<Check> all() {
        List<Check> checks = new ArrayList<>();
        Check runc = runc();
        Check runsc = runsc();
        Check crun = crun();
        Check podman = podman(crun);
        checks.add(runc);
        checks.add(runsc);
        Check vm = vm();
        checks.add(vm);
        checks.add(crun);
        checks.add(podman);
        List<String> usable = new ArrayList<>(List.of("bubblewrap (container)"));
        for (Check oci : List.of(runc, crun, podman)) {
            if (oci.detail().contains("backend " + oci.name() + " usable")) {
                usable.add(oci.name() + " (container)");
            }
        }
        // Usable with the statx warning too: the backend runs, some tools inside do not.
        if (root && runsc.detail().contains(" works") && !runsc.detail().contains("none works")) {
            usable.add("runsc (gvisor)");
        }
        if (vm.detail().contains("backend vm usable")) {
            usable.add("vm (vm, " + (vm.detail().contains("microvm on KVM") ? "KVM" : "emulated") + ")");
        }
        checks.add(new Check("backends", Status.OK, "usable here: " + String.join(", ", usable), ""));
        return checks;
    }

    Check runc() {
        CommandResult version = probes.commands().run(List.of("runc", "--version"));
        Check unusable = unusable("runc", version, "optional backend");
        return unusable != null
                ? unusable
                : new Check("runc", Status.OK, "runc " + version(version.stdout()) + ": backend runc usable", "");
    }

    /**
     * The check of an OCI runtime that is not installed (OK: it is optional) or that this non-root
     * daemon cannot use (a warning); null when it is installed and the daemon is root.
     */
    private Check unusable(String program, CommandResult version, String what) {
        if (!version.succeeded()) {
            return new Check(program, Status.OK, "not installed (" + what + ": apt-get install " + program + ")", "");
        }
        if (!root) {
            return new Check(
                    program,
                    Status.WARN,
                    program + " " + version(version.stdout()) + ", but the " + program
                            + " backend needs cordon to run as root",
                    "run cordon as root to use sandbox.backend: " + program);
        }
        return null;
    }

    /**
     * Which gVisor platforms start a sandbox: each is tried with {@code runsc do}, bounded by {@link
     * #PROBE_SECONDS}. A platform whose sandbox starts but whose {@code stat} fails with EINVAL is the
     * old gVisor of Debian 12, which rejects the statx flags coreutils passes; it still works, and the
     * report says what breaks.
     */
    Check runsc() {
        CommandResult version = probes.commands().run(List.of("runsc", "--version"));
        Check unusable = unusable("runsc", version, "optional gVisor backend");
        if (unusable != null) {
            return unusable;
        }
        String detail = "runsc " + version(version.stdout());
        CommandResult help = probes.commands().run(List.of("runsc", "flags"));
        String flags = help.stdout() + help.stderr();
        List<String> works = new ArrayList<>();
        List<String> fails = new ArrayList<>();
        boolean statxQuirk = false;
        for (String platform : PLATFORMS) {
            if (!flags.contains(platform)) {
                fails.add(platform + " (not in this runsc)");
                continue;
            }
            if (platform.equals("kvm") && !Files.exists(probes.root().resolve("dev/kvm"))) {
                fails.add("kvm (no /dev/kvm)");
                continue;
            }
            CommandResult probe = probes.commands()
                    .run(List.of(
                            "timeout",
                            "--kill-after=2",
                            PROBE_SECONDS,
                            "runsc",
                            "--root",
                            System.getProperty("java.io.tmpdir") + "/cordon-doctor-runsc",
                            "--network=none",
                            "--platform=" + platform,
                            "do",
                            "/usr/bin/stat",
                            "-c",
                            "%U",
                            "/"));
            if (probe.succeeded()) {
                works.add(platform);
            } else if (probe.exitCode() == 1 && (probe.stdout() + probe.stderr()).contains("Invalid argument")) {
                works.add(platform);
                statxQuirk = true;
            } else {
                fails.add(platform + (probe.exitCode() == 124 || probe.exitCode() == 137 ? " (hangs)" : " (fails)"));
            }
        }
        String platforms = "platforms: " + (works.isEmpty() ? "none works" : String.join(", ", works) + " works")
                + (fails.isEmpty() ? "" : "; " + String.join(", ", fails));
        if (works.isEmpty()) {
            return new Check(
                    "runsc",
                    Status.WARN,
                    detail + ", " + platforms,
                    "see the gVisor platform guide; ptrace needs only ptrace(2) to be allowed for root");
        }
        if (statxQuirk) {
            return new Check(
                    "runsc",
                    Status.WARN,
                    detail + " " + platforms + "; this gVisor rejects statx(AT_NO_AUTOMOUNT), so ls and stat fail"
                            + " with EINVAL inside",
                    "a gVisor release from 2023 or later fixes it (Debian 12 ships 2022-12-19)");
        }
        return new Check("runsc", Status.OK, detail + " " + platforms + ": backend runsc usable", "");
    }

    /**
     * The microVM backend: QEMU installed, then everything else it needs and which accelerator it
     * gets here, by building the initramfs and booting it under KVM once ({@link Vm#describe}).
     */
    Check vm() {
        CommandResult version = probes.commands().run(List.of("qemu-system-x86_64", "--version"));
        if (!version.succeeded()) {
            return new Check(
                    "vm",
                    Status.OK,
                    "QEMU not installed (optional microVM backend: apt-get install " + Vm.PACKAGES + ")",
                    "");
        }
        String detail = "qemu " + version(version.stdout());
        try {
            String how = Vm.describe(Path.of(System.getProperty("java.io.tmpdir"), "cordon-cache"));
            return new Check("vm", Status.OK, detail + ": backend vm usable; " + how, "");
        } catch (SandboxException e) {
            return new Check("vm", Status.WARN, detail + ", but " + e.getMessage(), "apt-get install " + Vm.PACKAGES);
        }
    }

    /**
     * crun: the same bundle as runc. Its own cgroup manager is off (Cordon's groups hold the
     * sandbox), and on a v1 or hybrid host it starts without seeing the v2 hierarchy, whose
     * controllers would make it refuse (docs/isolation.md).
     */
    Check crun() {
        CommandResult version = probes.commands().run(List.of("crun", "--version"));
        Check unusable = unusable("crun", version, "optional backend");
        if (unusable != null) {
            return unusable;
        }
        return new Check(
                "crun",
                Status.OK,
                "crun " + version(version.stdout()) + ": backend crun usable; limits in Cordon's cgroups"
                        + (cgroupV1
                                ? " (crun starts without the v2 hierarchy, which it refuses on this v1 layout)"
                                : ""),
                "");
    }

    /**
     * podman: rootful, {@code --rootfs} of the bundle's root filesystem, crun underneath (so it
     * needs crun too), limits in Cordon's cgroups.
     */
    Check podman(Check crun) {
        CommandResult version = probes.commands().run(List.of("podman", "--version"));
        Check unusable = unusable("podman", version, "optional backend");
        if (unusable != null) {
            return unusable;
        }
        String detail = "podman " + version(version.stdout());
        if (!crun.detail().contains("backend crun usable")) {
            return new Check(
                    "podman",
                    Status.WARN,
                    detail + ", but the podman backend runs its containers with crun, which is not installed",
                    "apt-get install crun");
        }
        return new Check(
                "podman",
                Status.OK,
                detail + ": backend podman usable (rootful, crun underneath); limits in Cordon's cgroups",
                "");
    }

    private static String version(String output) {
        Matcher m = VERSION.matcher(output);
        return m.find() ? m.group(1) : output.strip().lines().findFirst().orElse("?");
    }
}
