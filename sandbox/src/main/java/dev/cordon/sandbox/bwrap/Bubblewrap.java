package dev.cordon.sandbox.bwrap;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
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
     * The backend for this host: finds the programs it needs, detects the cgroup layout once, and
     * writes the seccomp filter to a file only this user can read.
     *
     * @throws SandboxException if something required is missing; the message says how to fix it
     */
    public static SandboxBackend backend() {
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
        return new BubblewrapBackend(programs, root, CgroupHost.detect(), writeFilter());
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

    static java.util.Optional<Path> find(String program) {
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
