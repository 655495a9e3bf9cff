package dev.cordon.sandbox.seccomp;

import static dev.cordon.sandbox.seccomp.Errno.ENOSYS;
import static dev.cordon.sandbox.seccomp.Errno.EPERM;

import java.util.ArrayList;
import java.util.List;

/**
 * The calls every sandbox is denied, and why. It is a denylist on top of bubblewrap's walls (no
 * capabilities, no_new_privs, private namespaces, minimal {@code /dev}): most of these calls would
 * already fail for lack of a capability, and the filter keeps it that way should a capability, a
 * user namespace or a kernel bug hand one back. The kernel attack surface that needs no capability
 * at all (io_uring, bpf, userfaultfd, perf, user namespaces, keyrings) is where the filter does
 * work nothing else does. Keep docs/seccomp.md in step with this list.
 */
final class DefaultPolicy {
    /** Every CLONE_NEW* flag clone(2) accepts. CLONE_NEWTIME (0x80) is absent: in clone's flags that bit is the exit signal. */
    static final int CLONE_NAMESPACE_FLAGS = 0x00020000 // CLONE_NEWNS
            | 0x02000000 // CLONE_NEWCGROUP
            | 0x04000000 // CLONE_NEWUTS
            | 0x08000000 // CLONE_NEWIPC
            | 0x10000000 // CLONE_NEWUSER
            | 0x20000000 // CLONE_NEWPID
            | 0x40000000; // CLONE_NEWNET

    static final int TIOCSTI = 0x5412;
    static final int TIOCLINUX = 0x541C;

    /** PER_LINUX, PER_LINUX32, UNAME26, both, and 0xffffffff (query only): what Docker allows too. */
    static final List<Integer> SAFE_PERSONAS = List.of(0x0, 0x8, 0x20000, 0x20008, 0xffffffff);

    private static final String ALWAYS = "always";

    record Entry(DeniedSyscall syscall, ArgCheck check) {}

    static final List<Entry> ENTRIES = build();

    private DefaultPolicy() {}

    static List<Rule> rules() {
        return ENTRIES.stream()
                .map(e -> new Rule(
                        e.syscall().name(), e.check(), e.syscall().errno().number()))
                .toList();
    }

    private static List<Entry> build() {
        List<Entry> l = new ArrayList<>();
        // Other processes: the agent's tools must not reach into each other or into the runner.
        always(l, "ptrace", "inspects and rewrites other processes and their syscalls; strace/gdb do not work inside");
        always(l, "process_vm_readv", "reads another process's memory without ptrace");
        always(l, "process_vm_writev", "writes another process's memory without ptrace");
        always(l, "pidfd_getfd", "copies an open file descriptor (a socket, a file) out of another process");
        always(l, "kcmp", "compares kernel objects of two processes, leaking kernel pointer order; only CRIU needs it");

        // The filesystem view bwrap built.
        always(
                l,
                "mount",
                "changes the filesystem view (needs CAP_SYS_ADMIN today; kept denied if a capability leaks)");
        always(l, "umount2", "removes mounts the sandbox was built with, exposing whatever they cover");
        always(l, "pivot_root", "swaps the root filesystem");
        always(l, "chroot", "changes the root directory; the basis of chroot-escape tricks");
        always(l, "fsopen", "new mount API: the same power as mount(2) through a call a mount-only filter misses");
        always(l, "fsconfig", "new mount API: configures a filesystem context from fsopen");
        always(l, "fsmount", "new mount API: turns a configured context into a mount");
        always(l, "fspick", "new mount API: reconfigures an existing mount");
        always(l, "move_mount", "new mount API: attaches a mount anywhere in the tree");
        always(l, "open_tree", "new mount API: clones a mount tree into a detached mount");
        always(l, "open_tree_attr", "new mount API (Linux 6.15): open_tree plus mount_setattr in one call");
        always(l, "mount_setattr", "new mount API: changes mount flags, e.g. read-only to read-write, or idmaps");
        always(
                l,
                "open_by_handle_at",
                "opens files by inode handle, bypassing paths and mounts (the 'shocker' escape)");
        always(l, "name_to_handle_at", "makes the handles open_by_handle_at takes and reveals host inode identity");
        always(l, "quotactl", "administers disk quotas of host filesystems");
        always(l, "quotactl_fd", "quotactl through a file descriptor");

        // Namespaces: a new user namespace grants every capability inside it and opens kernel code
        // otherwise reachable only by root, the path of most recent container escapes.
        always(l, "unshare", "creates namespaces, above all user namespaces (root-only kernel code for everyone)");
        always(l, "setns", "joins another namespace through a file descriptor");
        l.add(new Entry(
                new DeniedSyscall(
                        "clone",
                        EPERM,
                        "flags contain a CLONE_NEW* namespace flag (CLONE_NEWUSER, NEWNS, NEWPID, NEWNET,"
                                + " NEWIPC, NEWUTS, NEWCGROUP)",
                        "creating namespaces while forking is unshare(2) by another name; threads and fork are"
                                + " unaffected"),
                new ArgCheck.AnyBitSet(0, CLONE_NAMESPACE_FLAGS)));
        l.add(new Entry(
                new DeniedSyscall(
                        "clone3",
                        ENOSYS,
                        ALWAYS,
                        "its flags sit in memory a seccomp filter cannot read; ENOSYS makes glibc (2.34+) and"
                                + " others fall back to clone, whose flags the filter checks"),
                new ArgCheck.Always()));

        // Kernel attack surface that needs no capability at all.
        always(l, "keyctl", "the kernel keyring is not namespaced: keys of other users and containers, and many CVEs");
        always(l, "add_key", "adds to the kernel keyring (see keyctl)");
        always(l, "request_key", "asks the kernel keyring for keys, possibly calling out to host helpers");
        always(l, "bpf", "loads eBPF programs into the kernel; the verifier has a long CVE history");
        always(l, "perf_event_open", "kernel performance counters: side channels and a frequent CVE source");
        always(
                l,
                "userfaultfd",
                "pauses the kernel mid-copy on a page fault, turning kernel races into reliable exploits");
        always(
                l,
                "io_uring_setup",
                "io_uring: a large, fast-moving kernel surface with many escalation CVEs; its"
                        + " operations bypass syscall filtering");
        always(l, "io_uring_enter", "io_uring (see io_uring_setup)");
        always(l, "io_uring_register", "io_uring (see io_uring_setup)");
        always(
                l,
                "lookup_dcookie",
                "kernel profiling helper that returns paths of arbitrary dentries (removed in 6.10)");

        // Host-wide state: none of it is namespaced, so a change would reach the host and every
        // other sandbox.
        always(l, "kexec_load", "loads a new kernel to boot into");
        always(l, "kexec_file_load", "loads a new kernel to boot into, from a file");
        always(l, "init_module", "loads a kernel module");
        always(l, "finit_module", "loads a kernel module from a file");
        always(l, "delete_module", "unloads a kernel module");
        always(l, "reboot", "reboots or halts the host, and arms kexec and Ctrl-Alt-Del");
        always(l, "swapon", "adds host swap space");
        always(l, "swapoff", "removes host swap space");
        always(l, "acct", "turns on host-wide process accounting into a file");
        always(
                l,
                "settimeofday",
                "sets the host clock, which time namespaces do not cover (TLS validity, audit times)");
        always(l, "clock_settime", "sets the host clock (see settimeofday)");
        always(l, "clock_adjtime", "adjusts the host clock; also denies read-only queries, which nothing here needs");
        always(
                l,
                "adjtimex",
                "adjusts the host clock; also denies ntp_gettime-style queries, which nothing here needs");
        always(l, "syslog", "reads the kernel log: kernel addresses and other tenants' messages");
        always(l, "vhangup", "hangs up the current terminal");
        always(l, "iopl", "raw x86 I/O port access (x86_64 only)");
        always(l, "ioperm", "raw x86 I/O port access (x86_64 only)");
        always(l, "uselib", "obsolete a.out library loader with a CVE history (x86_64 only)");
        always(
                l,
                "move_pages",
                "moves another process's pages between NUMA nodes; its status query once leaked memory");
        always(l, "migrate_pages", "moves another process's pages between NUMA nodes");
        l.add(new Entry(
                new DeniedSyscall(
                        "personality",
                        EPERM,
                        "persona is anything but 0, PER_LINUX32 (8), UNAME26 (0x20000), both, or 0xffffffff (query)",
                        "ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC and MMAP_PAGE_ZERO switch off exploit"
                                + " mitigations for every program exec'd afterwards"),
                new ArgCheck.EqualsNone(0, SAFE_PERSONAS)));

        // Terminals: --new-session already detaches the sandbox from the daemon's terminal; these keep
        // a process from typing into a terminal it shares with another process inside.
        l.add(new Entry(
                new DeniedSyscall(
                        "ioctl",
                        EPERM,
                        "request is TIOCSTI (0x5412) or TIOCLINUX (0x541C); every other ioctl is allowed",
                        "TIOCSTI pushes keystrokes into a terminal's input (CVE-2017-5226); TIOCLINUX pastes"
                                + " console selections the same way (CVE-2023-1523)"),
                new ArgCheck.EqualsAny(1, List.of(TIOCSTI, TIOCLINUX))));
        return List.copyOf(l);
    }

    private static void always(List<Entry> l, String name, String reason) {
        l.add(new Entry(new DeniedSyscall(name, EPERM, ALWAYS, reason), new ArgCheck.Always()));
    }
}
