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
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sandboxes run by an OCI runtime (runc, crun, or gVisor's runsc) from a bundle Cordon writes itself
 * ({@link Bundle}). The runtime runs in the foreground ({@code run}), so its process is the
 * sandbox's: its exit status is the command's, its output (the command's, passed straight through)
 * goes to the log.
 *
 * <p>Limits: the backend makes the sandbox's cgroups itself, with the spec's limits, before the
 * runtime starts ({@link CgroupHost#create}), and points the runtime at them through {@code
 * linux.cgroupsPath} with the same limits in {@code linux.resources} (crun instead starts inside
 * them with its cgroup manager off: {@link OciRuntime#crun}). The host can therefore read
 * usage and kill everything through its own groups, whatever the runtime does. Under gVisor the
 * groups hold the whole sandbox (sentry and gofer), so the limits cap the user-space kernel together
 * with the agent, and a memory overrun kills the sandbox as a whole.
 *
 * <p>State: bundles live under {@code <base>/bundles/<id>}, the runtime's state under {@code
 * <base>/state}. Each bundle names the daemon that owns it (pid and start time). {@link #close} of a
 * sandbox kills it, deletes the container and removes its bundle; a daemon that crashed leaves
 * them, and the first start of a later backend over the same base removes every container whose
 * owner is gone ({@link #reclaimStale}).
 *
 * <p>Thread-safe.
 */
final class OciBackend implements SandboxBackend {
    private static final Logger LOG = LoggerFactory.getLogger(OciBackend.class);
    private static final long COMMAND_SECONDS = 20;

    private final OciRuntime runtime;
    private final CgroupHost cgroups;
    private final Map<String, Object> seccomp;
    private final Path bundles;
    private final String owner;
    private final AtomicBoolean reclaimed = new AtomicBoolean();

    /**
     * @param owner who owns the bundles this backend writes: {@link #selfOwner()} except in tests
     *     that play a daemon which crashed
     */
    OciBackend(OciRuntime runtime, CgroupHost cgroups, Map<String, Object> seccomp, Path bundles, String owner) {
        this.runtime = runtime;
        this.cgroups = cgroups;
        this.seccomp = seccomp;
        this.bundles = bundles;
        this.owner = owner;
    }

    /** This JVM as a bundle owner: {@code <pid> <start time in ms>}; pids are reused, start times are not. */
    static String selfOwner() {
        ProcessHandle self = ProcessHandle.current();
        return self.pid() + " "
                + self.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }

    static boolean ownerAlive(String owner) {
        String[] parts = owner.trim().split(" ");
        if (parts.length != 2) {
            return false;
        }
        try {
            long pid = Long.parseLong(parts[0]);
            long started = Long.parseLong(parts[1]);
            return ProcessHandle.of(pid)
                    .filter(ProcessHandle::isAlive)
                    .flatMap(p -> p.info().startInstant())
                    .map(i -> i.toEpochMilli() == started)
                    .orElse(false);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    @Override
    public String name() {
        return runtime.name();
    }

    @Override
    public Set<Limit> enforceableLimits() {
        return cgroups.enforceable();
    }

    @Override
    public Isolation isolation() {
        return runtime.isolation();
    }

    /**
     * Writes the bundle, makes the cgroups and starts {@code <runtime> run}. Blocks for those
     * (a few ms) and, on the first start, for reclaiming what crashed daemons left; returns before
     * the command has done anything.
     */
    @Override
    public Sandbox start(SandboxSpec spec) {
        if (spec.uid() == 0 || spec.gid() == 0) {
            throw new SandboxException("refusing to run sandbox " + spec.id() + " as uid/gid 0");
        }
        if (reclaimed.compareAndSet(false, true)) {
            reclaimStale();
        }
        Path bundle = bundles.resolve(spec.id());
        Cgroup cgroup = null;
        try {
            Files.createDirectories(spec.log().getParent());
            if (Files.exists(bundle)) {
                destroy(spec.id(), bundle);
            }
            Files.createDirectories(bundles);
            cgroup = spec.limits().equals(Limits.UNLIMITED) && cgroups.layout() == CgroupHost.Layout.NONE
                    ? null
                    : cgroups.create(spec.id(), runtime.hostLimits(spec.limits()));
            Bundle.write(bundle, spec, runtime, cgroupsPath(cgroup), runtime.seccomp(seccomp), maxOpenFiles(), owner);
            String id = spec.id();
            return ContainerSandbox.start(
                    runtime.run(bundle, id, cgroup),
                    bundle,
                    spec,
                    cgroup,
                    () -> run(runtime.command("kill", "--all", id, "KILL")),
                    () -> {
                        run(runtime.command("delete", "--force", id));
                        StrayGroups.remove(id);
                        deleteTree(bundle);
                    });
        } catch (IOException | RuntimeException e) {
            throw ContainerSandbox.startFailed(
                    e, cgroup, bundle, runtime.program().toString(), spec.id());
        }
    }

    /**
     * The sandbox's group as the runtime names it. On v1 (and hybrid) a relative path: the runtime
     * resolves it against its own group in each hierarchy, which is the daemon's, where {@link
     * CgroupHost} made it. On v2 the one hierarchy's absolute path. Neither runtime removes a group it
     * found already there (runc only on {@code delete}, with {@code --keep}), so the usage and OOM
     * record outlive the command; the groups a runtime made itself, in the other hierarchies, it
     * removes ({@link StrayGroups} catches what one left after a crash).
     */
    private String cgroupsPath(Cgroup cgroup) {
        if (cgroup == null || !runtime.joinsCgroups()) {
            return null;
        }
        if (cgroups.layout() != CgroupHost.Layout.V2) {
            return "cordon/" + cgroup.sandboxId();
        }
        Path dir = cgroup.procsFiles().getFirst().getParent();
        Path mount = dir;
        while (mount.getParent() != null && Files.exists(mount.getParent().resolve("cgroup.procs"))) {
            mount = mount.getParent();
        }
        return "/" + mount.relativize(dir);
    }

    /** RLIMIT_NOFILE for the sandbox: 4096, or less where the daemon's own hard limit is lower. */
    static long maxOpenFiles() {
        return hardLimitUpTo4096("Max open files");
    }

    /**
     * 4096, or the daemon's own hard limit called {@code name} in {@code /proc/self/limits} where it
     * is lower: root without CAP_SYS_RESOURCE cannot raise a hard limit, and a runtime that tries fails.
     */
    static long hardLimitUpTo4096(String name) {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/limits"))) {
            return lines.filter(l -> l.startsWith(name))
                    .map(l -> l.substring(name.length()).trim().split("\\s+")[1])
                    .filter(hard -> !hard.equals("unlimited"))
                    .mapToLong(Long::parseLong)
                    .map(hard -> Math.min(hard, 4096))
                    .findFirst()
                    .orElse(4096);
        } catch (IOException | UncheckedIOException | NumberFormatException e) {
            return 1024;
        }
    }

    /**
     * Kills and deletes every container under this backend's bundles whose owning daemon is gone (it
     * crashed, or was killed), and removes its bundle; also containers in the runtime's state whose
     * bundle is missing. Never throws: what cannot be removed is logged and tried again next time.
     */
    void reclaimStale() {
        try {
            for (String line : run(runtime.command("list")).lines().skip(1).toList()) {
                String[] columns = line.trim().split("\\s+");
                if (columns.length >= 4 && columns[3].startsWith(bundles.toString())) {
                    Path bundle = Path.of(columns[3]);
                    if (!Files.exists(bundle.resolve(Bundle.OWNER_FILE))) {
                        destroy(columns[0], bundle);
                    }
                }
            }
            if (!Files.isDirectory(bundles)) {
                return;
            }
            try (Stream<Path> dirs = Files.list(bundles)) {
                for (Path bundle : dirs.toList()) {
                    Path ownerFile = bundle.resolve(Bundle.OWNER_FILE);
                    String owned = Files.exists(ownerFile) ? Files.readString(ownerFile) : "";
                    if (!ownerAlive(owned)) {
                        LOG.info("removing sandbox {} left by a daemon that is gone ({})", bundle.getFileName(), owned);
                        destroy(bundle.getFileName().toString(), bundle);
                    }
                }
            }
        } catch (IOException | UncheckedIOException | SandboxException e) {
            LOG.warn("could not reclaim stale {} sandboxes under {}: {}", runtime.name(), bundles, e.toString());
        }
    }

    /** Kills and deletes container {@code id} and removes its bundle and cgroups. Best effort. */
    private void destroy(String id, Path bundle) {
        run(runtime.command("kill", "--all", id, "KILL"));
        run(runtime.command("delete", "--force", id));
        StrayGroups.remove(id);
        try {
            // Empties and removes a group the runtime left (CgroupHost replaces a stale one).
            if (cgroups.layout() != CgroupHost.Layout.NONE) {
                cgroups.create(id, Limits.UNLIMITED).close();
            }
        } catch (RuntimeException e) {
            LOG.warn("could not remove the cgroups of stale sandbox {}: {}", id, e.toString());
        }
        deleteTree(bundle);
    }

    /** Runs a runtime subcommand; returns its output ("" when it failed, which is logged at debug). */
    static String run(List<String> argv) {
        try {
            Process p = new ProcessBuilder(argv)
                    .redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                        } catch (IOException e) {
                            return "";
                        }
                    },
                    r -> Thread.ofVirtual().start(r));
            if (!p.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                LOG.warn("{} did not finish within {} s", String.join(" ", argv), COMMAND_SECONDS);
                return "";
            }
            String output = out.get(COMMAND_SECONDS, TimeUnit.SECONDS);
            if (p.exitValue() != 0) {
                LOG.debug("{} exited with {}: {}", String.join(" ", argv), p.exitValue(), output.strip());
            }
            return output;
        } catch (IOException | ExecutionException | TimeoutException e) {
            LOG.warn("could not run {}: {}", String.join(" ", argv), e.toString());
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("could not remove {}: {}", dir, e.toString());
        }
    }

    /** For tests: the runtime this backend runs. */
    OciRuntime runtime() {
        return runtime;
    }

    /** For tests: where the bundles are. */
    Path bundles() {
        return bundles;
    }
}
