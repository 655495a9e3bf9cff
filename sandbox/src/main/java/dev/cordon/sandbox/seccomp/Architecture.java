package dev.cordon.sandbox.seccomp;

import dev.cordon.core.sandbox.SandboxException;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The architectures the filter is compiled for: their audit identifier (what the kernel reports in
 * {@code seccomp_data.arch}) and the numbers of the syscalls the policy names. Both are
 * little-endian, which the compiler relies on to find an argument's low 32 bits.
 *
 * <p>The numbers come from the kernel's {@code arch/x86/entry/syscalls/syscall_64.tbl} and {@code
 * include/uapi/asm-generic/unistd.h} (aarch64). A name missing from a table does not exist on that
 * architecture (iopl, ioperm and uselib are x86-only).
 */
enum Architecture {
    X86_64(0xC000003E, true),
    AARCH64(0xC00000B7, false);

    private final int auditArch;
    private final boolean hasX32;

    Architecture(int auditArch, boolean hasX32) {
        this.auditArch = auditArch;
        this.hasX32 = hasX32;
    }

    /**
     * The architecture this JVM runs on.
     *
     * @throws SandboxException on any architecture the filter has no syscall table for
     */
    static Architecture current() {
        return of(System.getProperty("os.arch", ""));
    }

    /** Maps a JVM {@code os.arch} value; see {@link #current()}. */
    static Architecture of(String osArch) {
        return switch (osArch) {
            case "amd64", "x86_64" -> X86_64;
            case "aarch64", "arm64" -> AARCH64;
            default ->
                throw new SandboxException("no seccomp filter for architecture '" + osArch
                        + "': Cordon's filter knows x86_64 and aarch64 syscall numbers only; run on one of those"
                        + " or add the architecture's table to dev.cordon.sandbox.seccomp.Architecture");
        };
    }

    /** {@code AUDIT_ARCH_*}: what {@code seccomp_data.arch} holds for a native call. */
    int auditArch() {
        return auditArch;
    }

    /**
     * Whether the same arch value also carries x32 ABI calls, told apart only by bit 30 of the syscall
     * number ({@code __X32_SYSCALL_BIT}); a filter that ignores it can be bypassed by x32 numbers.
     */
    boolean hasX32() {
        return hasX32;
    }

    OptionalInt number(String syscall) {
        Integer n = numbers().get(syscall);
        return n == null ? OptionalInt.empty() : OptionalInt.of(n);
    }

    /** Whether any supported architecture has a syscall of that name (catches typos in the policy). */
    static boolean knows(String syscall) {
        for (Architecture a : values()) {
            if (a.numbers().containsKey(syscall)) {
                return true;
            }
        }
        return false;
    }

    private Map<String, Integer> numbers() {
        return switch (this) {
            case X86_64 -> Tables.X86_64;
            case AARCH64 -> Tables.AARCH64;
        };
    }

    private static final class Tables {
        static final Map<String, Integer> X86_64 = Map.ofEntries(
                Map.entry("ioctl", 16),
                Map.entry("clone", 56),
                Map.entry("ptrace", 101),
                Map.entry("syslog", 103),
                Map.entry("uselib", 134),
                Map.entry("personality", 135),
                Map.entry("vhangup", 153),
                Map.entry("pivot_root", 155),
                Map.entry("adjtimex", 159),
                Map.entry("chroot", 161),
                Map.entry("acct", 163),
                Map.entry("settimeofday", 164),
                Map.entry("mount", 165),
                Map.entry("umount2", 166),
                Map.entry("swapon", 167),
                Map.entry("swapoff", 168),
                Map.entry("reboot", 169),
                Map.entry("iopl", 172),
                Map.entry("ioperm", 173),
                Map.entry("init_module", 175),
                Map.entry("delete_module", 176),
                Map.entry("quotactl", 179),
                Map.entry("lookup_dcookie", 212),
                Map.entry("clock_settime", 227),
                Map.entry("kexec_load", 246),
                Map.entry("add_key", 248),
                Map.entry("request_key", 249),
                Map.entry("keyctl", 250),
                Map.entry("migrate_pages", 256),
                Map.entry("unshare", 272),
                Map.entry("move_pages", 279),
                Map.entry("perf_event_open", 298),
                Map.entry("name_to_handle_at", 303),
                Map.entry("open_by_handle_at", 304),
                Map.entry("clock_adjtime", 305),
                Map.entry("setns", 308),
                Map.entry("process_vm_readv", 310),
                Map.entry("process_vm_writev", 311),
                Map.entry("kcmp", 312),
                Map.entry("finit_module", 313),
                Map.entry("kexec_file_load", 320),
                Map.entry("bpf", 321),
                Map.entry("userfaultfd", 323),
                Map.entry("io_uring_setup", 425),
                Map.entry("io_uring_enter", 426),
                Map.entry("io_uring_register", 427),
                Map.entry("open_tree", 428),
                Map.entry("move_mount", 429),
                Map.entry("fsopen", 430),
                Map.entry("fsconfig", 431),
                Map.entry("fsmount", 432),
                Map.entry("fspick", 433),
                Map.entry("clone3", 435),
                Map.entry("pidfd_getfd", 438),
                Map.entry("mount_setattr", 442),
                Map.entry("quotactl_fd", 443),
                Map.entry("open_tree_attr", 467));

        static final Map<String, Integer> AARCH64 = Map.ofEntries(
                Map.entry("lookup_dcookie", 18),
                Map.entry("ioctl", 29),
                Map.entry("umount2", 39),
                Map.entry("mount", 40),
                Map.entry("pivot_root", 41),
                Map.entry("chroot", 51),
                Map.entry("vhangup", 58),
                Map.entry("quotactl", 60),
                Map.entry("acct", 89),
                Map.entry("personality", 92),
                Map.entry("unshare", 97),
                Map.entry("kexec_load", 104),
                Map.entry("init_module", 105),
                Map.entry("delete_module", 106),
                Map.entry("clock_settime", 112),
                Map.entry("syslog", 116),
                Map.entry("ptrace", 117),
                Map.entry("reboot", 142),
                Map.entry("settimeofday", 170),
                Map.entry("adjtimex", 171),
                Map.entry("add_key", 217),
                Map.entry("request_key", 218),
                Map.entry("keyctl", 219),
                Map.entry("clone", 220),
                Map.entry("swapon", 224),
                Map.entry("swapoff", 225),
                Map.entry("migrate_pages", 238),
                Map.entry("move_pages", 239),
                Map.entry("perf_event_open", 241),
                Map.entry("name_to_handle_at", 264),
                Map.entry("open_by_handle_at", 265),
                Map.entry("clock_adjtime", 266),
                Map.entry("setns", 268),
                Map.entry("process_vm_readv", 270),
                Map.entry("process_vm_writev", 271),
                Map.entry("kcmp", 272),
                Map.entry("finit_module", 273),
                Map.entry("bpf", 280),
                Map.entry("userfaultfd", 282),
                Map.entry("kexec_file_load", 294),
                Map.entry("io_uring_setup", 425),
                Map.entry("io_uring_enter", 426),
                Map.entry("io_uring_register", 427),
                Map.entry("open_tree", 428),
                Map.entry("move_mount", 429),
                Map.entry("fsopen", 430),
                Map.entry("fsconfig", 431),
                Map.entry("fsmount", 432),
                Map.entry("fspick", 433),
                Map.entry("clone3", 435),
                Map.entry("pidfd_getfd", 438),
                Map.entry("mount_setattr", 442),
                Map.entry("quotactl_fd", 443),
                Map.entry("open_tree_attr", 467));

        private Tables() {}
    }
}
