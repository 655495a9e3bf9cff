package dev.cordon.sandbox.oci;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import dev.cordon.sandbox.cgroup.CgroupHost;
import dev.cordon.sandbox.seccomp.Seccomp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Builds the OCI backends: {@code runc} and {@code crun} (namespaces, the same wall as bubblewrap,
 * through a standard runtime) and {@code runsc} (gVisor: a user-space kernel as a second wall). Both need
 * the daemon to run as root: a rootless runtime would need a user namespace per sandbox and
 * delegated cgroups, which this backend does not set up (docs/isolation.md).
 */
public final class Oci {
    /** gVisor's platform when none is configured: the one that works on every host (no KVM needed). */
    public static final String DEFAULT_PLATFORM = "ptrace";

    private Oci() {}

    /**
     * The runc backend.
     *
     * @throws SandboxException if runc is not installed or the daemon is not root; the message says what to do
     */
    public static SandboxBackend runc() {
        Path program = require("runc", "apt-get install runc");
        return backend(OciRuntime.runc(program, base("runc").resolve("state")));
    }

    /**
     * The crun backend: runc's bundle and walls, run by crun ({@link OciRuntime#crun} says what
     * differs, all of it about cgroups).
     *
     * @throws SandboxException if crun is not installed or the daemon is not root; the message says what to do
     */
    public static SandboxBackend crun() {
        Path program = require("crun", "apt-get install crun");
        return backend(OciRuntime.crun(program, base("crun").resolve("state"), OciRuntime.unifiedHoldsControllers()));
    }

    /**
     * The podman backend: rootful {@code podman run --rootfs} of the bundle's root filesystem, with
     * crun underneath and Cordon's cgroups ({@link PodmanBackend} says what podman adds).
     *
     * @throws SandboxException if podman or crun is not installed or the daemon is not root
     */
    public static SandboxBackend podman() {
        return podman(null, base("podman"));
    }

    /**
     * The podman backend on the operator's {@code image} instead of the host's system directories
     * ({@link PodmanImage}): never pulled, so it must already be in podman's local store, which each
     * start checks.
     *
     * @throws SandboxException if podman or crun is not installed, the daemon is not root, {@code
     *     image} is not an image name or is not in podman's local store (the message says how to put
     *     it there)
     */
    public static SandboxBackend podman(String image) {
        PodmanImage named = new PodmanImage(image);
        PodmanBackend backend = podman(named, base("podman"));
        named.requirePresent(backend::command);
        return backend;
    }

    /** Whether {@code name} is an image reference ({@code [registry/]name[:tag][@digest]}), never an option. */
    public static boolean isImageName(String name) {
        return PodmanImage.isName(name);
    }

    private static PodmanBackend podman(PodmanImage image, Path base) {
        Path program = require("podman", "apt-get install podman");
        Path crun = require("crun", "apt-get install crun (podman runs its containers with it)");
        return new PodmanBackend(
                program, crun, CgroupHost.detect(), Seccomp.ociProfile(), base, OciBackend.selfOwner(), image);
    }

    /**
     * The gVisor backend on {@code platform} ({@code ptrace}, {@code systrap} where the installed
     * runsc has it, {@code kvm} where {@code /dev/kvm} is real). {@code ./cordon doctor} says which
     * work here.
     *
     * @throws SandboxException if runsc is not installed or the daemon is not root
     */
    public static SandboxBackend runsc(String platform) {
        if (!platform.matches("[a-z0-9]+")) {
            throw new SandboxException("not a gVisor platform name: '" + platform + "'");
        }
        Path program = require("runsc", "apt-get install runsc");
        return backend(OciRuntime.runsc(program, base("runsc").resolve("state"), platform));
    }

    /** Whether {@code program} is installed and the daemon is root: what {@link #runc}, {@link #crun} and {@link #runsc} need. */
    public static boolean usable(String program) {
        return find(program).isPresent() && Bubblewrap.isRoot();
    }

    private static SandboxBackend backend(OciRuntime runtime) {
        Map<String, Object> seccomp = Seccomp.ociProfile();
        Path base = runtime.state().getParent();
        return new OciBackend(runtime, CgroupHost.detect(), seccomp, base.resolve("bundles"), OciBackend.selfOwner());
    }

    private static Path require(String program, String install) {
        Path path = find(program)
                .orElseThrow(() ->
                        new SandboxException(program + " is not installed: " + install + " (see ./cordon doctor)"));
        if (!Bubblewrap.isRoot()) {
            throw new SandboxException("the " + program + " backend needs the daemon to run as root (rootless OCI"
                    + " runtimes are not supported yet); use the bubblewrap backend, or run cordon as root");
        }
        return path;
    }

    /** Where a runtime's state and bundles live: under /run (gone at reboot, like the containers). */
    static Path base(String runtime) {
        Path run = Path.of("/run");
        return (Files.isDirectory(run) && Files.isWritable(run) ? run : Path.of(System.getProperty("java.io.tmpdir")))
                .resolve("cordon-oci")
                .resolve(runtime);
    }

    private static Optional<Path> find(String program) {
        return Bubblewrap.find(program);
    }
}
