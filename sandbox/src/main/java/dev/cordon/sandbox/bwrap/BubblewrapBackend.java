package dev.cordon.sandbox.bwrap;

import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Sandboxes with bubblewrap: every namespace unshared (no network but loopback), read-only
 * {@code /usr}, a fresh tmpfs root with only the mounts the spec names, a private {@code /proc},
 * {@code /dev} and {@code /tmp}, cleared environment, {@code --die-with-parent}, {@code
 * --new-session} (no TIOCSTI into the daemon's terminal), all capabilities dropped.
 *
 * <p>Identity: a sandbox never runs as host root. As an ordinary user, bwrap runs unprivileged in a
 * user namespace as that user. As root, bwrap runs privileged without a user namespace (an
 * unprivileged bwrap could not see host paths under {@code /root}), and the sandboxed command is
 * started through {@code setpriv}, which switches to the spec's uid/gid, clears supplementary
 * groups, empties every capability set and sets no_new_privs before anything untrusted runs. The
 * only capabilities bwrap keeps for that first process are the three setpriv needs.
 */
final class BubblewrapBackend implements SandboxBackend {
    private final Path bwrap;
    private final Path setpriv;
    private final boolean root;

    BubblewrapBackend(Path bwrap, Path setpriv, boolean root) {
        this.bwrap = bwrap;
        this.setpriv = setpriv;
        this.root = root;
    }

    @Override
    public String name() {
        return "bubblewrap";
    }

    @Override
    public Sandbox start(SandboxSpec spec) {
        if (spec.uid() == 0 || spec.gid() == 0) {
            throw new SandboxException("refusing to run sandbox " + spec.id() + " as uid/gid 0");
        }
        List<String> args = arguments(spec);
        ProcessBuilder builder = new ProcessBuilder(args);
        // bwrap is pid 1 inside; its own environment must not carry the daemon's secrets.
        builder.environment().clear();
        builder.redirectErrorStream(true);
        try {
            Files.createDirectories(spec.log().getParent());
            builder.redirectOutput(ProcessBuilder.Redirect.appendTo(spec.log().toFile()));
            builder.redirectInput(
                    ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            Process process = builder.start();
            return new BwrapSandbox(spec.id(), process);
        } catch (IOException e) {
            throw new SandboxException(
                    "could not start " + bwrap + ": " + e.getMessage()
                            + " (install bubblewrap: apt-get install bubblewrap; run ./cordon doctor)",
                    e);
        }
    }

    List<String> arguments(SandboxSpec spec) {
        List<String> a = new ArrayList<>();
        a.add(bwrap.toString());
        if (root) {
            // Privileged bwrap: no user namespace (uid 0 would map to host uid 0); setpriv drops to the uid.
            a.addAll(List.of(
                    "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"));
        } else {
            a.add("--unshare-all");
        }
        a.addAll(List.of("--die-with-parent", "--new-session", "--clearenv", "--hostname", spec.hostname()));
        a.addAll(List.of("--ro-bind", "/usr", "/usr"));
        for (String dir : List.of("bin", "sbin", "lib", "lib64", "lib32", "libx32")) {
            Path host = Path.of("/", dir);
            if (Files.isSymbolicLink(host)) {
                try {
                    a.addAll(List.of("--symlink", Files.readSymbolicLink(host).toString(), "/" + dir));
                } catch (IOException e) {
                    throw new SandboxException("cannot read symlink " + host, e);
                }
            } else if (Files.isDirectory(host)) {
                a.addAll(List.of("--ro-bind", host.toString(), "/" + dir));
            }
        }
        a.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"));
        // Privileged bwrap creates missing parents of mount points as 0700 root: the sandbox user
        // could not reach /opt/cordon/lib. Create them world-traversable (they are empty tmpfs dirs).
        java.util.Set<String> parents = new java.util.LinkedHashSet<>();
        for (SandboxSpec.Mount m : spec.mounts()) {
            List<String> chain = new ArrayList<>();
            for (Path p = Path.of(m.target()).getParent(); p != null && p.getNameCount() > 0; p = p.getParent()) {
                chain.addFirst(p.toString());
            }
            parents.addAll(chain);
        }
        for (String parent : parents) {
            if (!parent.equals("/usr")
                    && !parent.startsWith("/usr/")
                    && !parent.equals("/tmp")
                    && !parent.equals("/proc")
                    && !parent.equals("/dev")) {
                a.addAll(List.of("--perms", "0755", "--dir", parent));
            }
        }
        for (SandboxSpec.Mount m : spec.mounts()) {
            if (!Files.exists(m.source())) {
                throw new SandboxException("mount source " + m.source() + " for " + m.target() + " does not exist");
            }
            a.add(m.mode() == SandboxSpec.Mode.READ_ONLY ? "--ro-bind" : "--bind");
            a.add(m.source().toString());
            a.add(m.target());
        }
        a.addAll(List.of("--chdir", spec.workDir()));
        for (Map.Entry<String, String> e : spec.env().entrySet()) {
            a.addAll(List.of("--setenv", e.getKey(), e.getValue()));
        }
        a.addAll(List.of("--cap-drop", "ALL"));
        if (root) {
            a.addAll(List.of("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"));
            a.add("--");
            a.addAll(List.of(
                    setpriv.toString(),
                    "--reuid=" + spec.uid(),
                    "--regid=" + spec.gid(),
                    "--clear-groups",
                    "--no-new-privs",
                    "--bounding-set=-all",
                    "--inh-caps=-all",
                    "--"));
        } else {
            a.add("--");
        }
        a.addAll(spec.command());
        return a;
    }

    private static final class BwrapSandbox implements Sandbox {
        private final String id;
        private final Process process;
        private final CompletableFuture<Integer> exit;

        BwrapSandbox(String id, Process process) {
            this.id = id;
            this.process = process;
            this.exit = process.onExit().thenApply(Process::exitValue);
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public CompletableFuture<Integer> exit() {
            return exit;
        }

        @Override
        public void close() {
            // bwrap is pid 1 of the sandbox's pid namespace: when it dies the kernel kills everything inside.
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
