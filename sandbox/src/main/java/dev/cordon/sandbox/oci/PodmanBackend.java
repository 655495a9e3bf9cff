package dev.cordon.sandbox.oci;

import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.Limit;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.sandbox.cgroup.Cgroup;
import dev.cordon.sandbox.cgroup.CgroupHost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import tools.jackson.databind.json.JsonMapper;

/**
 * Sandboxes run by rootful podman ({@code podman run --rootfs}): the same root filesystem as the
 * OCI bundle ({@link Bundle#rootfs}, no image), the same binds, seccomp profile, uid, capabilities
 * (none), {@code no_new_privs} and namespaces as runc. podman adds its own parts: conmon as the
 * container's monitor, an {@code /etc/hostname} file, a read-only {@code /sys}, its default masked
 * paths.
 *
 * <p>Limits are Cordon's own, as for crun: podman starts inside the sandbox's groups ({@link
 * CgroupHost#create}) and runs the container with {@code --cgroups=disabled}, so conmon and the
 * container stay there. podman allows that only with crun, so its runtime is crun, through a small
 * wrapper named {@code crun} that starts it the way {@link OciRuntime#crun} does on a hybrid host.
 * podman's own limits would not do: it takes one absolute {@code --cgroup-parent}, which cannot be
 * Cordon's groups where the daemon sits in different groups per v1 hierarchy, and its group is gone
 * (OOM record included) by the time the command's exit is seen.
 *
 * <p>With an operator's image ({@link PodmanImage}) the image is the root filesystem instead, still
 * read-only, with the same walls; only the spec's mounts and the runner's JDK come from the host.
 *
 * <p>State: each container is named {@code cordon-<id>} and labelled with its owning daemon; {@link
 * Sandbox#close} removes it, its root filesystem and its groups, and the first start removes
 * containers whose owner is gone ({@link #reclaimStale}). Thread-safe.
 */
final class PodmanBackend implements SandboxBackend {
    static final String OWNER_LABEL = "dev.cordon.owner";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Path program;
    private final CgroupHost cgroups;
    private final Path seccompFile;
    private final Path runtimeWrapper;
    private final Path rootfses;
    private final String owner;
    /** The operator's image, or null for the bundle's root filesystem on the host's directories. */
    private final PodmanImage image;

    private final AtomicBoolean reclaimed = new AtomicBoolean();

    /**
     * @param crun the host's crun program, which podman's runtime wrapper starts (never written to)
     * @param image the image that gives each sandbox its root filesystem, or null for the host's
     *     system directories
     * @param base where the seccomp profile, the runtime wrapper and each sandbox's root filesystem go
     * @throws SandboxException if those files cannot be written
     */
    PodmanBackend(
            Path program,
            Path crun,
            CgroupHost cgroups,
            Map<String, Object> seccomp,
            Path base,
            String owner,
            PodmanImage image) {
        this.program = program;
        this.image = image;
        this.cgroups = cgroups;
        this.rootfses = base.resolve("rootfs");
        this.owner = owner;
        try {
            Files.createDirectories(rootfses);
            this.seccompFile = base.resolve("seccomp.json");
            JSON.writeValue(seccompFile.toFile(), seccomp);
            // The wrapper, never the program it wraps: crun itself is the host's.
            Path wrapper = Files.createDirectories(base.resolve("bin")).resolve("crun");
            if (wrapper.toAbsolutePath()
                    .normalize()
                    .equals(crun.toAbsolutePath().normalize())) {
                throw new SandboxException("podman's crun wrapper would replace crun itself: " + crun);
            }
            Files.writeString(wrapper, wrapper(crun, OciRuntime.unifiedHoldsControllers()));
            Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
            this.runtimeWrapper = wrapper;
        } catch (IOException | tools.jackson.core.JacksonException e) {
            throw new SandboxException("cannot write podman's seccomp profile and runtime in " + base + ": " + e, e);
        }
    }

    /**
     * The runtime podman runs: crun, in a mount namespace without the v2 hierarchy where that
     * hierarchy holds a controller ({@link OciRuntime#crun} says why). Named {@code crun} because
     * podman allows {@code --cgroups=disabled} only for a runtime of that name.
     */
    static String wrapper(Path crun, boolean hideUnified) {
        String exec = "exec '" + crun + "' \"$@\"";
        if (!hideUnified) {
            return "#!/bin/sh\n" + exec + "\n";
        }
        return "#!/bin/sh\nexec unshare --mount --propagation private -- /bin/sh -c 'umount -l " + OciRuntime.UNIFIED
                + " || exit 125; exec \"$0\" \"$@\"' '" + crun + "' \"$@\"\n";
    }

    @Override
    public String name() {
        return image == null ? "podman" : "podman image " + image.name();
    }

    @Override
    public Set<Limit> enforceableLimits() {
        return cgroups.enforceable();
    }

    @Override
    public Isolation isolation() {
        return Isolation.CONTAINER;
    }

    /** {@code podman --runtime <crun wrapper> --cgroup-manager cgroupfs args...}. */
    List<String> command(String... args) {
        List<String> argv = new ArrayList<>(List.of(
                program.toString(),
                "--runtime",
                runtimeWrapper.toString(),
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "file"));
        argv.addAll(List.of(args));
        return argv;
    }

    /**
     * Writes the root filesystem, makes the cgroups and starts {@code podman run} in the foreground
     * inside them. Blocks for those (a few ms) and, on the first start, for reclaiming what crashed
     * daemons left.
     *
     * @throws SandboxException if the spec runs as root, needs a limit this host cannot enforce, the
     *     backend's image is not in podman's local store, or podman cannot be started
     */
    @Override
    public Sandbox start(SandboxSpec spec) {
        if (spec.uid() == 0 || spec.gid() == 0) {
            throw new SandboxException("refusing to run sandbox " + spec.id() + " as uid/gid 0");
        }
        if (reclaimed.compareAndSet(false, true)) {
            reclaimStale();
        }
        if (image != null) {
            image.requirePresent(this::command);
        }
        Path dir = rootfses.resolve(spec.id());
        Cgroup cgroup = null;
        try {
            Files.createDirectories(spec.log().getParent());
            if (Files.exists(dir)) {
                remove(spec.id(), dir);
            }
            List<SandboxSpec.Mount> binds = image == null ? Bundle.rootfs(dir, spec) : PodmanImage.binds(spec);
            Path empty = Files.createDirectories(dir.resolve("empty"));
            cgroup = spec.limits().equals(Limits.UNLIMITED) && cgroups.layout() == CgroupHost.Layout.NONE
                    ? null
                    : cgroups.create(spec.id(), spec.limits());
            List<String> argv = run(spec, binds, dir.resolve("rootfs"), empty, image);
            String id = spec.id();
            return ContainerSandbox.start(
                    cgroup == null ? argv : cgroup.wrap(argv),
                    dir,
                    spec,
                    cgroup,
                    () -> OciBackend.run(command("kill", "--signal=KILL", containerName(id))),
                    () -> remove(id, dir));
        } catch (IOException | RuntimeException e) {
            throw ContainerSandbox.startFailed(e, cgroup, dir, "podman", spec.id());
        }
    }

    /**
     * The {@code podman run} command line; each flag is one of runc's bundle's walls ({@link Bundle}).
     * What podman would otherwise do differently, each seen here:
     *
     * <ul>
     *   <li>The container's stdout and stderr would be conmon's pipes, given to the sandbox's uid
     *       (crun does so, see {@link OciRuntime#CRUN_STDIO}): a command could reopen them through
     *       {@code /proc/self/fd}. So the host's log pipe is passed as fd 3 ({@code --preserve-fds}),
     *       as for runc, and nothing is written to podman's. Without {@code --interactive} the
     *       container's stdin would be the host's {@code /dev/null}, whose owner crun would change.
     *   <li>podman adds {@code HOSTNAME} (and {@code HOME} when the spec has none) to the
     *       environment even with {@code --unsetenv-all}: the command starts under {@code env -i}
     *       with exactly the spec's variables.
     *   <li>podman mounts a writable tmpfs at {@code /sys/fs/cgroup} to hold the cgroup
     *       hierarchies: an empty directory of the sandbox's, read-only, takes its place.
     * </ul>
     *
     * <p>On an operator's {@code image} (when not null) podman never pulls ({@code --pull=never}),
     * ignores the image's volumes, entrypoint, user, working directory and environment, and binds no
     * host system directory (the image has its own {@code /usr}): {@code binds} are all the sandbox
     * gets from the host. Every other flag, each a wall, is the same.
     *
     * @param empty an empty directory owned by root, bound read-only over {@code /sys/fs/cgroup}
     */
    List<String> run(SandboxSpec spec, List<SandboxSpec.Mount> binds, Path rootfs, Path empty, PodmanImage image) {
        long tmp = spec.limits().memoryBytes() == 0
                ? Bundle.TMP_BYTES
                : Math.min(Bundle.TMP_BYTES, spec.limits().memoryBytes() / 4);
        long files = OciBackend.maxOpenFiles();
        long processes = OciBackend.hardLimitUpTo4096("Max processes");
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", "exec 3>&1; exec \"$@\"", "cordon-podman"));
        argv.addAll(command(
                "run",
                "--name=" + containerName(spec.id()),
                "--label=" + OWNER_LABEL + "=" + owner,
                "--cgroups=disabled",
                "--interactive",
                "--preserve-fds=1",
                "--network=none",
                "--no-hosts",
                "--passwd=false",
                "--hostname=" + spec.hostname(),
                "--ipc=private",
                "--pid=private",
                "--uts=private",
                "--cgroupns=private",
                "--user=" + spec.uid() + ":" + spec.gid(),
                "--cap-drop=all",
                "--security-opt=no-new-privileges",
                "--security-opt=seccomp=" + seccompFile,
                "--read-only",
                "--read-only-tmpfs=false",
                "--tmpfs=/tmp:rw,nosuid,nodev,mode=1777,size=" + tmp,
                "--shm-size=" + Bundle.SHM_BYTES,
                "--ulimit=core=0:0",
                "--ulimit=nofile=" + files + ":" + files,
                // podman's default (32768) is above what this root may set, however high its own limit.
                "--ulimit=nproc=" + processes + ":" + processes,
                "--log-driver=none",
                "--unsetenv-all",
                "--workdir=" + spec.workDir(),
                "--mount=type=bind,source=" + empty + ",destination=/sys/fs/cgroup,ro=true"));
        if (image == null) {
            argv.add("--mount=type=bind,source=/usr,destination=/usr,ro=true");
        } else {
            argv.addAll(List.of("--pull=never", "--image-volume=ignore", "--entrypoint=/usr/bin/env"));
        }
        for (SandboxSpec.Mount m : binds) {
            argv.add("--mount=type=bind,source=" + m.source() + ",destination=" + m.target()
                    + (m.mode() == SandboxSpec.Mode.READ_ONLY ? ",ro=true" : ""));
        }
        if (image == null) {
            argv.addAll(List.of("--rootfs", rootfs.toString(), "/usr/bin/env"));
        } else {
            argv.add(image.name());
        }
        argv.add("-i");
        spec.env().entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .forEach(e -> argv.add(e.getKey() + "=" + e.getValue()));
        argv.addAll(OciRuntime.outputToFd3(spec.command()));
        return argv;
    }

    static String containerName(String sandboxId) {
        return "cordon-" + sandboxId;
    }

    /**
     * Removes every container labelled by a daemon that is gone, its root filesystem and its groups.
     * Never throws: what cannot be removed is tried again next time.
     */
    void reclaimStale() {
        String listed = OciBackend.run(command(
                "ps",
                "--all",
                "--filter=label=" + OWNER_LABEL,
                "--format={{.Names}}\t{{index .Labels \"" + OWNER_LABEL + "\"}}"));
        for (String line : listed.lines().toList()) {
            String[] columns = line.split("\t", 2);
            if (columns.length == 2 && columns[0].startsWith("cordon-") && !OciBackend.ownerAlive(columns[1])) {
                String id = columns[0].substring("cordon-".length());
                remove(id, rootfses.resolve(id));
                try {
                    if (cgroups.layout() != CgroupHost.Layout.NONE) {
                        cgroups.create(id, Limits.UNLIMITED).close();
                    }
                } catch (RuntimeException e) {
                    // tried again by the next start of the same id
                }
            }
        }
    }

    private void remove(String id, Path dir) {
        OciBackend.run(command("rm", "--force", "--time=0", containerName(id)));
        OciBackend.deleteTree(dir);
    }
}
