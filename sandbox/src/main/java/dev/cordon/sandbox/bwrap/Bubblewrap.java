package dev.cordon.sandbox.bwrap;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.sandbox.cgroup.CgroupHost;
import dev.cordon.sandbox.seccomp.Seccomp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/** Locates bubblewrap and builds its backend. */
public final class Bubblewrap {
    private Bubblewrap() {}

    /**
     * Which of the backend's layers are switched on. {@link #DEFAULTS} has both, and it is what the
     * daemon runs; switching one off exists only to measure what that layer costs (the sandbox-start
     * benchmark) and must never reach a daemon's configuration.
     *
     * @param seccomp whether every sandbox gets Cordon's seccomp filter; without it a sandbox may call
     *     ptrace, mount, keyctl, bpf, unshare and the rest of the denylist
     * @param cgroups whether every sandbox gets cgroups; without them the backend enforces no {@link
     *     dev.cordon.core.sandbox.Limits} (it refuses a spec that asks for any) and kills only what its
     *     process group holds on close
     */
    public record Options(boolean seccomp, boolean cgroups) {
        /** Every layer on: what {@link #backend()} builds and the daemon runs. */
        public static final Options DEFAULTS = new Options(true, true);
    }

    /**
     * The backend for this host: finds the programs it needs, detects the cgroup layout once, and
     * writes the seccomp filter to a file only this user can read. Every layer is on ({@link
     * Options#DEFAULTS}). From its first start on, the backend keeps one idle shell (in fresh
     * cgroups with the last start's limits) ready for the next start, which then skips spawning and
     * joining; a shutdown hook removes it when the JVM exits.
     *
     * @throws SandboxException if something required is missing; the message says how to fix it
     */
    public static SandboxBackend backend() {
        return backend(Options.DEFAULTS);
    }

    /**
     * As {@link #backend()}, with the layers {@code options} switches on. For benchmarks and tests
     * only: anything but {@link Options#DEFAULTS} weakens every sandbox it starts.
     *
     * @throws SandboxException if something required is missing; the message says how to fix it
     */
    public static SandboxBackend backend(Options options) {
        Path bwrap = find("bwrap")
                .orElseThrow(() -> new SandboxException(
                        "bubblewrap (bwrap) is not installed: apt-get install bubblewrap (see ./cordon doctor)"));
        boolean root = isRoot();
        Path setpriv = find("setpriv").orElse(null);
        if (root && setpriv == null) {
            throw new SandboxException(
                    "running as root needs setpriv to drop sandboxes to an unprivileged uid: apt-get install util-linux");
        }
        Path setsid =
                find("setsid").orElseThrow(() -> new SandboxException("setsid is missing: apt-get install util-linux"));
        Path kill = find("kill").orElseThrow(() -> new SandboxException("kill is missing: apt-get install procps"));
        Path sh = Path.of("/bin/sh");
        BubblewrapBackend.Programs programs = new BubblewrapBackend.Programs(bwrap, setpriv, setsid, kill, sh);
        CgroupHost cgroups = options.cgroups() ? CgroupHost.detect() : null;
        if (cgroups != null) {
            // A daemon that starts with nothing to run still clears what a killed one left.
            cgroups.reclaimInBackground();
        }
        return new BubblewrapBackend(programs, root, cgroups, options.seccomp() ? writeFilter() : null);
    }

    /**
     * The bwrap command line for {@code spec} as a privileged (root) bwrap runs it elsewhere, with
     * Cordon's seccomp filter read from fd 3: what the microVM backend runs inside its guest, the
     * second wall. Mount sources are paths of that other system and are not checked here; the
     * host's top-level links ({@code /bin -> usr/bin}) are assumed there too.
     *
     * @param bwrap and {@code setpriv}: where the programs are on that system
     */
    public static List<String> argumentsElsewhere(SandboxSpec spec, Path bwrap, Path setpriv) {
        BubblewrapBackend.Programs programs = new BubblewrapBackend.Programs(
                bwrap, setpriv, Path.of("/usr/bin/setsid"), Path.of("/bin/kill"), Path.of("/bin/sh"));
        List<String> args =
                new java.util.ArrayList<>(new BubblewrapBackend(programs, true, null, null).arguments(spec, false));
        args.addAll(1, List.of("--seccomp", "3"));
        return args;
    }

    private static Path writeFilter() {
        try {
            Path file = Files.createTempFile(
                    "cordon-seccomp-",
                    ".bpf",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(file, Seccomp.defaultFilter());
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new SandboxException("cannot write the seccomp filter to a temporary file: " + e.getMessage(), e);
        }
    }

    /** {@code program} on the PATH (or in /usr/bin, /usr/sbin, /bin, /sbin), if it is there and executable. */
    public static java.util.Optional<Path> find(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : (path + ":/usr/bin:/usr/sbin:/bin:/sbin").split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isExecutable(candidate)) {
                return java.util.Optional.of(candidate);
            }
        }
        return java.util.Optional.empty();
    }

    /** Whether this process's effective uid is 0, read from /proc (no native code). */
    public static boolean isRoot() {
        return effectiveUid() == 0;
    }

    /** This process's effective uid. */
    public static int effectiveUid() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/status"));
            for (String line : lines) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.split("\\s+")[2]);
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new SandboxException("cannot read /proc/self/status to learn this process's uid", e);
        }
        throw new SandboxException("no Uid line in /proc/self/status");
    }
}
