package dev.cordon.sandbox.oci;

import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.Limits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One OCI runtime program and the flags Cordon runs it with.
 *
 * @param name the backend's name: {@code runc} or {@code runsc}
 * @param program absolute path of the runtime
 * @param flags global flags before the subcommand, after {@code --root}
 * @param isolation the wall its sandboxes get
 * @param state the runtime's {@code --root}: its container state, one directory per container
 */
record OciRuntime(String name, Path program, List<String> flags, Isolation isolation, Path state) {
    OciRuntime {
        flags = List.copyOf(flags);
    }

    static OciRuntime runc(Path program, Path state) {
        return new OciRuntime("runc", program, List.of(), Isolation.CONTAINER, state);
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
                state);
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
        if (isRunc()) {
            return limits;
        }
        return new Limits(
                limits.memoryBytes() == 0 ? 0 : limits.memoryBytes() + GVISOR_MEMORY,
                limits.maxPids() == 0 ? 0 : limits.maxPids() + GVISOR_THREADS,
                limits.cpuMillicores());
    }

    /** Whether this is runc (else gVisor's runsc). */
    boolean isRunc() {
        return name.equals("runc");
    }

    /**
     * The command line of the sandbox's first process. runc, run in the foreground, hands the
     * command stdout and stderr pipes of its own (copied to its output by one goroutine each, so
     * lines interleave mid-line), and those pipes belong to the sandbox's uid, which may reopen them
     * through {@code /proc/self/fd}. So runc also passes the host's own output pipe through as fd 3
     * ({@link #run}), and a shell points stdout and stderr at it before it execs the command (one
     * process; the shell is gone). gVisor hands the host's descriptors through as they are.
     */
    List<String> args(List<String> command) {
        if (!isRunc()) {
            return command;
        }
        List<String> args = new ArrayList<>(List.of("/bin/sh", "-c", "exec \"$@\" 1>&3 2>&3 3>&-", "cordon-stdio"));
        args.addAll(command);
        return args;
    }

    /**
     * The host command that runs container {@code id} from {@code bundle} in the foreground. For
     * runc, a shell first copies its stdout (the host's pipe to the log) to fd 3, which {@code
     * --preserve-fds 1} passes into the container ({@link #args}); and {@code --keep}, because
     * otherwise runc deletes the container, cgroups included, the moment the command exits, before the
     * host has read whether the OOM killer struck ({@code close} deletes it).
     */
    List<String> run(Path bundle, String id) {
        if (!isRunc()) {
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
        if (isRunc()) {
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
