package dev.cordon.sandbox.bwrap;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Locates bubblewrap and builds its backend. */
public final class Bubblewrap {
    private Bubblewrap() {}

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
        return new BubblewrapBackend(bwrap, setpriv, root);
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
