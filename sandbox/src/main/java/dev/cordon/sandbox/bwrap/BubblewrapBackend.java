package dev.cordon.sandbox.bwrap;

import dev.cordon.core.sandbox.Limit;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.sandbox.cgroup.Cgroup;
import dev.cordon.sandbox.cgroup.CgroupHost;
import dev.cordon.sandbox.process.HostProcesses;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *
 * <p>Start-up: after each start the backend prepares one spare {@link Shell} for the next sandbox,
 * in the background: spawned, already in fresh cgroups with the same limits, waiting for its bwrap
 * command line. A start that finds it skips the spawn and the cgroup join (the join alone makes the
 * kernel wait an RCU grace period, about 8 ms here); one that finds none (a burst, or other limits
 * than the last start's) does both itself. Either way the sandbox is the same. A spare's groups are
 * named {@code spare-<daemon pid>-<n>}, not after the sandbox it becomes; a spare left at JVM exit,
 * or one still being made then, is removed by a shutdown hook.
 *
 * <p>Thread-safe: {@link #start} may be called from any number of threads.
 */
final class BubblewrapBackend implements SandboxBackend {
    static final long TMP_BYTES = 256L * 1024 * 1024;
    static final long SHM_BYTES = 64L * 1024 * 1024;

    /**
     * /tmp's size: {@link #TMP_BYTES}, but at most a quarter of the memory limit. tmpfs pages are
     * charged to the sandbox's memory and cannot be reclaimed, so a /tmp as large as the limit
     * would end in the OOM killer instead of "No space left on device".
     */
    static long tmpBytes(Limits limits) {
        return limits.memoryBytes() == 0 ? TMP_BYTES : Math.min(TMP_BYTES, limits.memoryBytes() / 4);
    }

    /** Host programs the backend runs; all absolute paths. */
    record Programs(Path bwrap, Path setpriv, Path setsid, Path kill, Path sh) {}

    private final Programs programs;
    private final boolean root;
    /** Null only when built without cgroups, for measurement ({@link Bubblewrap.Options}). */
    private final CgroupHost cgroups;
    /** Null only when built without seccomp, for measurement ({@link Bubblewrap.Options}). */
    private final Path seccompFilter;

    /** Makes spare cgroup names unique in this JVM; the pid makes them unique on the host. */
    private static final AtomicLong SPARE_IDS = new AtomicLong();

    /** The shell the next start may take, or null. */
    private final AtomicReference<Shell> spare = new AtomicReference<>();

    private final AtomicBoolean preparingSpare = new AtomicBoolean();
    private final AtomicBoolean exitHookAdded = new AtomicBoolean();
    /** Set when the JVM exits: no spare is made from then on ({@link #discardSpareAtExit}). */
    private volatile boolean exiting;

    BubblewrapBackend(Programs programs, boolean root, CgroupHost cgroups, Path seccompFilter) {
        this.programs = programs;
        this.root = root;
        this.cgroups = cgroups;
        this.seccompFilter = seccompFilter;
    }

    private static Process spawn(ProcessBuilder builder) throws IOException {
        // One long-lived platform thread forks every bwrap: --die-with-parent binds to the thread.
        return HostProcesses.spawn(builder);
    }

    @Override
    public String name() {
        return "bubblewrap";
    }

    @Override
    public Set<Limit> enforceableLimits() {
        return cgroups == null ? EnumSet.noneOf(Limit.class) : cgroups.enforceable();
    }

    /**
     * Starts bwrap as: {@code setsid} (a process group of its own, so {@link BwrapSandbox#close}
     * can kill outer and inner bwrap together where there is no cgroup) → one {@link Shell} that
     * joins the cgroups (the process is in the sandbox's groups before bwrap runs) and opens the
     * seccomp filter on fd 3 (which bwrap loads right before it executes the command) → bwrap. Each
     * step execs the next in place: one pid. The shell is the spare when one with the spec's limits
     * is waiting, else made now; then the next spare is prepared in the background.
     *
     * <p>Blocks for the spawn and the cgroup writes when there is no spare, and well under a
     * millisecond when there is one; returns before bwrap has done anything.
     */
    @Override
    public Sandbox start(SandboxSpec spec) {
        if (spec.uid() == 0 || spec.gid() == 0) {
            throw new SandboxException("refusing to run sandbox " + spec.id() + " as uid/gid 0");
        }
        if (cgroups == null && !spec.limits().required().isEmpty()) {
            throw new SandboxException(
                    "sandbox " + spec.id() + " needs limits " + spec.limits().required()
                            + ", but this backend was built without cgroups (Bubblewrap.Options, for measurement only):"
                            + " use Bubblewrap.backend()");
        }
        List<CgroupHost.Support> missing = cgroups == null ? List.of() : cgroups.unenforceable(spec.limits());
        if (!missing.isEmpty()) {
            StringBuilder why = new StringBuilder("sandbox " + spec.id() + " needs limits this host cannot enforce:");
            for (CgroupHost.Support m : missing) {
                why.append("\n  ")
                        .append(m.limit().name().toLowerCase(java.util.Locale.ROOT))
                        .append(": ")
                        .append(m.detail());
                if (!m.fix().isEmpty()) {
                    why.append(" (fix: ").append(m.fix()).append(')');
                }
            }
            throw new SandboxException(why.toString());
        }
        List<String> bwrapArgs = new ArrayList<>(arguments(spec));
        if (seccompFilter != null) {
            bwrapArgs.addAll(1, List.of("--seccomp", "3"));
        }
        String execLine = Shell.execLine(bwrapArgs, seccompFilter != null);
        try {
            Files.createDirectories(spec.log().getParent());
        } catch (IOException e) {
            throw new SandboxException("cannot create the log folder of sandbox " + spec.id() + ": " + e, e);
        }
        Sandbox sandbox = null;
        Shell taken = takeSpare(spec.limits());
        if (taken != null) {
            try {
                sandbox = launch(taken, spec, execLine);
            } catch (IOException e) {
                LoggerFactory.getLogger(BubblewrapBackend.class)
                        .debug("the spare shell was gone ({}); sandbox {} starts without it", e.toString(), spec.id());
                Thread.ofVirtual().start(taken::discard);
            }
        }
        if (sandbox == null) {
            Shell shell = prepare(spec.id(), spec.limits());
            try {
                sandbox = launch(shell, spec, execLine);
            } catch (IOException e) {
                shell.discard();
                throw new SandboxException(
                        "could not start " + programs.bwrap() + " for sandbox " + spec.id() + ": " + e.getMessage()
                                + " (install bubblewrap: apt-get install bubblewrap; run ./cordon doctor)",
                        e);
            }
        }
        prepareSpare(spec.limits());
        return sandbox;
    }

    /** The spare if it is alive and has {@code limits}; otherwise null (a wrong one is discarded). */
    private Shell takeSpare(Limits limits) {
        Shell shell = spare.getAndSet(null);
        if (shell == null) {
            return null;
        }
        if (!shell.limits().equals(limits) || !shell.process().isAlive()) {
            Thread.ofVirtual().start(shell::discard);
            return null;
        }
        return shell;
    }

    /**
     * In the background, makes sure a spare with {@code limits} waits for the next start, unless one
     * is being made. Failures are logged and leave no spare: the next start then does the work itself
     * and reports the failure.
     */
    private void prepareSpare(Limits limits) {
        if (!preparingSpare.compareAndSet(false, true)) {
            return;
        }
        // Checked after taking the flag: the exit hook either sees the flag and waits, or this sees exiting.
        if (exiting) {
            preparingSpare.set(false);
            return;
        }
        Thread.ofVirtual().name("bwrap-spare").start(() -> {
            try {
                Shell current = spare.get();
                if (current != null && current.limits().equals(limits)) {
                    return;
                }
                addExitHook();
                Shell fresh =
                        prepare("spare-" + ProcessHandle.current().pid() + "-" + SPARE_IDS.incrementAndGet(), limits);
                Shell old = spare.getAndSet(fresh);
                if (old != null) {
                    old.discard();
                }
            } catch (RuntimeException e) {
                LoggerFactory.getLogger(BubblewrapBackend.class)
                        .debug("no spare shell for the next sandbox: {}", e.toString());
            } finally {
                preparingSpare.set(false);
            }
        });
    }

    /** Removes the spare (process and groups) when the JVM exits normally. */
    private void addExitHook() {
        if (!exitHookAdded.compareAndSet(false, true)) {
            return;
        }
        try {
            Runtime.getRuntime()
                    .addShutdownHook(Thread.ofPlatform()
                            .name("bwrap-spare-cleanup")
                            .unstarted(() -> discardSpareAtExit(Duration.ofSeconds(5))));
        } catch (IllegalStateException e) {
            // The JVM is already shutting down: no spare will be made that outlives it by much.
        }
    }

    /**
     * The exit hook's work: no spare is made from now on, one being made is awaited (up to {@code
     * wait}; it takes milliseconds), and the spare is removed. Without the wait a spare finished
     * just after the hook looked outlived the JVM: its empty groups stayed until another daemon's
     * sweep (seen after test runs).
     */
    void discardSpareAtExit(Duration wait) {
        exiting = true;
        long deadline = System.nanoTime() + wait.toNanos();
        while (preparingSpare.get() && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        Shell left = spare.getAndSet(null);
        if (left != null) {
            left.discard();
        }
    }

    /**
     * Creates the groups (named {@code groupId}) and starts the {@link Shell} that joins them and
     * waits for its bwrap command line.
     *
     * @throws SandboxException if the groups or the process cannot be made; nothing is left behind
     */
    private Shell prepare(String groupId, Limits limits) {
        Cgroup cgroup =
                cgroups == null || (limits.equals(Limits.UNLIMITED) && cgroups.layout() == CgroupHost.Layout.NONE)
                        ? null
                        : cgroups.create(groupId, limits);
        // Without a cgroup, only a process group lets close() reach an inner bwrap that was
        // caught mid-setup; with one, the cgroup holds every process and setsid is not needed for
        // that, but it still keeps the daemon's terminal signals (^C, ^Z, hangup) off sandboxes.
        ProcessBuilder builder =
                new ProcessBuilder(Shell.argv(programs.setsid(), programs.sh(), seccompFilter, cgroup));
        // bwrap is pid 1 inside; its own environment must not carry the daemon's secrets.
        builder.environment().clear();
        builder.redirectErrorStream(true);
        // Output goes through a pipe that the host copies into the log. Handing the sandbox the log
        // file itself would let it reopen the file through /proc/self/fd/1 and read (or, as its
        // owner, rewrite) what earlier sandboxes wrote there. Input is the pipe the shell reads its
        // last line from; bwrap gets /dev/null instead.
        builder.redirectOutput(ProcessBuilder.Redirect.PIPE);
        builder.redirectInput(ProcessBuilder.Redirect.PIPE);
        Process process = null;
        try {
            process = spawn(builder);
            return new Shell(process, cgroup, limits);
        } catch (IOException | RuntimeException e) {
            if (process != null) {
                process.destroyForcibly();
            }
            if (cgroup != null) {
                cgroup.close();
            }
            throw e instanceof SandboxException se
                    ? se
                    : new SandboxException(
                            "could not start " + programs.sh() + " for a sandbox: " + e.getMessage()
                                    + " (run ./cordon doctor)",
                            e);
        }
    }

    /**
     * Hands {@code shell} the line that execs bwrap, with its output copied to the spec's log.
     *
     * @throws IOException if the shell is gone; the caller discards it
     */
    private Sandbox launch(Shell shell, SandboxSpec spec, String execLine) throws IOException {
        CompletableFuture<Void> logged = copyToLog(shell.process(), spec.log(), spec.id());
        shell.hand(execLine);
        // With a cgroup, its close() kills everything the sandbox ever started; the process-group
        // kill (one more process to spawn) is only needed without one.
        return new BwrapSandbox(
                spec.id(), shell.process(), logged, shell.cgroup(), shell.cgroup() == null ? programs.kill() : null);
    }

    /** Most a sandbox may write to its log; beyond it output is read and dropped (no disk fill). */
    static final long LOG_LIMIT_BYTES = HostProcesses.LOG_LIMIT_BYTES;

    private static CompletableFuture<Void> copyToLog(Process process, Path log, String id) {
        return HostProcesses.copyToLog(process, log, id);
    }

    List<String> arguments(SandboxSpec spec) {
        return arguments(spec, true);
    }

    /**
     * @param onThisHost whether the spec's mount sources are paths of this host, checked to exist;
     *     false for a command line run elsewhere (inside a microVM, whose paths the guest makes)
     */
    List<String> arguments(SandboxSpec spec, boolean onThisHost) {
        List<String> a = new ArrayList<>();
        a.add(programs.bwrap().toString());
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
        a.addAll(List.of("--proc", "/proc", "--dev", "/dev"));
        // A sized, sticky, world-writable /tmp: privileged bwrap would make it 0755 root (useless to
        // the sandbox uid), and an unsized tmpfs lets an agent fill memory through /tmp.
        a.addAll(List.of("--perms", "1777", "--size", Long.toString(tmpBytes(spec.limits())), "--tmpfs", "/tmp"));
        // bwrap's --dev gives /dev/shm as an unsized tmpfs (half of RAM) owned by the sandbox user
        // when unprivileged: cap it like /tmp.
        a.addAll(List.of("--perms", "1777", "--size", Long.toString(SHM_BYTES), "--tmpfs", "/dev/shm"));
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
            if (onThisHost && !Files.exists(m.source())) {
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
                    programs.setpriv().toString(),
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
        private static final Logger LOG = LoggerFactory.getLogger(BwrapSandbox.class);
        private final String id;
        private final Process process;
        private final Cgroup cgroup;
        /** {@code kill} for the process group, or null where the cgroup kills everything. */
        private final Path kill;

        private final CompletableFuture<Integer> exit;
        private volatile boolean oomKilled;
        private volatile boolean closed;
        private volatile ResourceUsage lastUsage;

        BwrapSandbox(String id, Process process, CompletableFuture<Void> logged, Cgroup cgroup, Path kill) {
            this.id = id;
            this.process = process;
            this.cgroup = cgroup;
            this.kill = kill;
            // Done once the process is gone and its output is in the log (bounded: a straggler that
            // still holds the pipe cannot hold up the exit for more than two seconds).
            // Not Process.onExit(): it completes through the common ForkJoinPool, which any caller
            // blocking there (one thread on a 2-CPU host) would stall, and with it every close().
            this.exit = new CompletableFuture<>();
            Thread.ofVirtual().name("exit-" + id).start(() -> {
                int status = awaitExit(process);
                logged.completeOnTimeout(null, 2, TimeUnit.SECONDS).join();
                oomKilled = cgroup != null && readOomKilled(cgroup);
                exit.complete(status);
            });
        }

        private static int awaitExit(Process process) {
            return HostProcesses.awaitExit(process);
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
        public boolean oomKilled() {
            return oomKilled || (cgroup != null && readOomKilled(cgroup));
        }

        @Override
        public Optional<ResourceUsage> usage() {
            ResourceUsage last = lastUsage;
            if (cgroup == null || closed) {
                return Optional.ofNullable(last);
            }
            try {
                return Optional.of(cgroup.usage());
            } catch (SandboxException e) {
                return Optional.ofNullable(last);
            }
        }

        private static boolean readOomKilled(Cgroup cgroup) {
            try {
                return cgroup.oomKilled();
            } catch (SandboxException e) {
                return false;
            }
        }

        @Override
        public void close() {
            // Without a cgroup: kill the whole process group (outer bwrap, inner bwrap = pid 1 of the
            // sandbox, and anything not yet in a session of its own). Killing the outer bwrap alone
            // is not enough: caught mid-setup, before the inner one armed --die-with-parent, the
            // inner one would be orphaned and live on. With a cgroup, closing it kills all of those
            // and whatever left the process group since.
            if (kill != null) {
                try {
                    new ProcessBuilder(kill.toString(), "-KILL", "--", "-" + process.pid())
                            .redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                            .start()
                            .waitFor(5, TimeUnit.SECONDS);
                } catch (IOException e) {
                    LOG.warn("could not kill the process group of sandbox {}", id, e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            process.destroyForcibly();
            if (cgroup != null) {
                try {
                    oomKilled = oomKilled || readOomKilled(cgroup);
                    lastUsage = usage().orElse(null);
                    closed = true;
                    cgroup.close();
                } catch (SandboxException e) {
                    LOG.warn("could not remove the cgroups of sandbox {}", id, e);
                }
            }
            try {
                exit.get(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                LOG.warn("sandbox {} did not exit within 10 s of being killed", id);
            }
        }
    }
}
