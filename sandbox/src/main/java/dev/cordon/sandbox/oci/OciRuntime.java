package dev.cordon.sandbox.oci;

import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.sandbox.cgroup.Cgroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One OCI runtime program and the flags Cordon runs it with.
 *
 * @param name the backend's name: {@code runc}, {@code crun} or {@code runsc}
 * @param program absolute path of the runtime
 * @param flags global flags before the subcommand, after {@code --root}
 * @param isolation the wall its sandboxes get
 * @param state the runtime's {@code --root}: its container state, one directory per container
 * @param hideUnified whether the runtime must not see the host's {@code /sys/fs/cgroup/unified}
 *     (crun on a hybrid host whose v2 hierarchy holds a controller; see {@link #crun})
 */
record OciRuntime(String name, Path program, List<String> flags, Isolation isolation, Path state, boolean hideUnified) {
    OciRuntime {
        flags = List.copyOf(flags);
    }

    /**
     * How crun is started: its own stdin, stdout and stderr are a fresh pipe and a file in the
     * bundle, never the host's. crun (1.8.1) changes the owner of the descriptors 0-2 it is given to
     * the container's uid, whatever they are: the host's {@code /dev/null}, the daemon's log pipe, a
     * file (seen here: a stdin file and a stderr file of root's became the sandbox uid's). So the
     * host's output pipe travels as fd 3 ({@code --preserve-fds 1}, which crun leaves alone) and
     * {@link #args} points the command's output at it, as for runc; crun's own messages go to {@code
     * crun.out} and are copied to the log after it exits.
     */
    static final String CRUN_STDIO =
            "out=$1; shift; exec 3>&1 >\"$out\" 2>&1;" + " : | \"$@\"; status=$?; cat \"$out\" >&3; exit $status";

    /** The v2 hierarchy of a hybrid host, whose controllers crun checks before it does anything. */
    static final Path UNIFIED = Path.of("/sys/fs/cgroup/unified");

    static OciRuntime runc(Path program, Path state) {
        return new OciRuntime("runc", program, List.of(), Isolation.CONTAINER, state, false);
    }

    /**
     * crun, the same wall as runc from the same bundle. Two differences, both about cgroups. crun
     * refuses outright a hybrid host whose v2 hierarchy holds any controller ("cgroups in hybrid
     * mode not supported, drop all controllers from cgroupv2"; on Debian 12 under a v1 layout the
     * v2 mount holds {@code hugetlb}), whatever its cgroup manager: the check comes first. And its
     * cgroupfs manager resolves a relative {@code cgroupsPath} from the root of each hierarchy, not
     * from the daemon's own group as runc does. So crun runs with {@code --cgroup-manager=disabled}
     * and starts already inside the sandbox's groups, which Cordon made with the limits ({@link
     * #run}); on such a hybrid host it starts in a mount namespace of its own where the v2 mount is
     * gone, so its check passes. Nothing else changes: the container gets its own mount namespace
     * from crun's, and never sees {@code /sys} anyway.
     *
     * @param hideUnified whether this host's v2 hierarchy must be hidden from crun ({@link #unifiedHoldsControllers})
     */
    static OciRuntime crun(Path program, Path state, boolean hideUnified) {
        return new OciRuntime(
                "crun", program, List.of("--cgroup-manager=disabled"), Isolation.CONTAINER, state, hideUnified);
    }

    /** Whether a hybrid host's v2 hierarchy holds a controller, so that crun would refuse to start. */
    static boolean unifiedHoldsControllers() {
        try {
            Path controllers = UNIFIED.resolve("cgroup.controllers");
            return Files.exists(controllers) && !Files.readString(controllers).isBlank();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * gVisor. {@code --network=none}: the sentry's own stack with loopback only. {@code
     * --host-uds=open}: the one host Unix socket bind-mounted in (the runner's channel) may be
     * connected to; nothing may be created or listened on outside. {@code --oci-seccomp}: the
     * sentry applies Cordon's seccomp profile to the agent's calls too (off by default in runsc).
     *
     * @param platform how the sentry intercepts system calls: {@code ptrace}, {@code systrap} or {@code kvm}
     */
    static OciRuntime runsc(Path program, Path state, String platform) {
        return new OciRuntime(
                "runsc",
                program,
                List.of("--platform=" + platform, "--network=none", "--host-uds=open", "--oci-seccomp"),
                Isolation.GVISOR,
                state,
                false);
    }

    /** Host threads gVisor's sentry and gofer need besides the agent's own (about 60 seen idle). */
    static final int GVISOR_THREADS = 256;

    /** Memory gVisor's sentry needs besides the agent's own (about 40 MB seen idle). */
    static final long GVISOR_MEMORY = 64L << 20;

    /**
     * The limits of the sandbox's cgroup for a policy's {@code limits}. runc: the same. gVisor: the
     * group holds its kernel (sentry, gofer) with the agent, so memory and pids get an allowance for
     * them on top; the agent gets about what its policy says, and going over stops the sandbox as a
     * whole (docs/isolation.md).
     */
    Limits hostLimits(Limits limits) {
        if (!emulatesKernel()) {
            return limits;
        }
        return new Limits(
                limits.memoryBytes() == 0 ? 0 : limits.memoryBytes() + GVISOR_MEMORY,
                limits.maxPids() == 0 ? 0 : limits.maxPids() + GVISOR_THREADS,
                limits.cpuMillicores());
    }

    /** Whether this is gVisor's runsc, whose sandboxes get its own kernel (else runc or crun). */
    boolean emulatesKernel() {
        return isolation == Isolation.GVISOR;
    }

    /** Whether the runtime joins the sandbox's groups itself ({@code linux.cgroupsPath}); crun does not. */
    boolean joinsCgroups() {
        return !name.equals("crun");
    }

    /**
     * The command line of the sandbox's first process. runc, run in the foreground, hands the
     * command stdout and stderr pipes of its own (copied to its output by one goroutine each, so
     * lines interleave mid-line), and those pipes belong to the sandbox's uid, which may reopen them
     * through {@code /proc/self/fd}. So runc also passes the host's own output pipe through as fd 3
     * ({@link #run}), and a shell points stdout and stderr at it before it execs the command (one
     * process; the shell is gone). crun gets the same ({@link #CRUN_STDIO} says why). gVisor hands
     * the host's descriptors through as they are.
     */
    List<String> args(List<String> command) {
        return emulatesKernel() ? command : outputToFd3(command);
    }

    /** {@code command} behind a shell that points its stdout and stderr at fd 3 and closes fd 3. */
    static List<String> outputToFd3(List<String> command) {
        List<String> args = new ArrayList<>(List.of("/bin/sh", "-c", "exec \"$@\" 1>&3 2>&3 3>&-", "cordon-stdio"));
        args.addAll(command);
        return args;
    }

    /**
     * The host command that runs container {@code id} from {@code bundle} in the foreground. For
     * runc, a shell first copies its stdout (the host's pipe to the log) to fd 3, which {@code
     * --preserve-fds 1} passes into the container ({@link #args}); and {@code --keep}, because
     * otherwise runc deletes the container, cgroups included, the moment the command exits, before the
     * host has read whether the OOM killer struck ({@code close} deletes it). For crun, the
     * command first joins {@code cgroup} (null: no limits) and, where it must, leaves the v2
     * hierarchy behind ({@link #crun}); crun keeps nothing of the groups, which are Cordon's.
     */
    List<String> run(Path bundle, String id, Cgroup cgroup) {
        if (name.equals("crun")) {
            List<String> argv = new ArrayList<>();
            if (hideUnified) {
                argv.addAll(List.of("unshare", "--mount", "--propagation", "private", "--"));
            }
            argv.addAll(List.of(
                    "/bin/sh",
                    "-c",
                    (hideUnified ? "umount -l " + UNIFIED + " || exit 125; " : "") + CRUN_STDIO,
                    "cordon-crun",
                    bundle.resolve("crun.out").toString()));
            argv.addAll(command("run", "--preserve-fds", "1", "--bundle", bundle.toString(), id));
            return cgroup == null ? argv : cgroup.wrap(argv);
        }
        if (emulatesKernel()) {
            return command("run", "--bundle", bundle.toString(), id);
        }
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", "exec 3>&1; exec \"$@\"", "cordon-runc"));
        argv.addAll(command("run", "--keep", "--preserve-fds", "1", "--bundle", bundle.toString(), id));
        return argv;
    }

    /**
     * The seccomp profile for this runtime. gVisor (2022-12-19, Debian 12) ignores {@code errnoRet}
     * and answers EPERM: a call the profile answers with ENOSYS so that libc falls back (clone3)
     * would fail outright, and every {@code pthread_create} with it. Those rules are left out for
     * runsc; its own kernel does not implement clone3 and answers ENOSYS itself.
     */
    @SuppressWarnings("unchecked")
    Map<String, Object> seccomp(Map<String, Object> profile) {
        if (!emulatesKernel()) {
            return profile;
        }
        Map<String, Object> copy = new LinkedHashMap<>(profile);
        copy.put(
                "syscalls",
                ((List<Map<String, Object>>) profile.get("syscalls"))
                        .stream()
                                .filter(rule -> Integer.valueOf(1).equals(rule.get("errnoRet")))
                                .toList());
        return copy;
    }

    /** {@code program --root state <flags> args...}. */
    List<String> command(String... args) {
        List<String> argv = new ArrayList<>();
        argv.add(program.toString());
        argv.add("--root");
        argv.add(state.toString());
        argv.addAll(flags);
        argv.addAll(List.of(args));
        return argv;
    }
}
