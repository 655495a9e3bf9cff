package dev.cordon.sandbox.escape;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The syscalls the suite makes raw through {@code SyscallProbe}, with their numbers on the two
 * architectures Cordon's seccomp filter knows (from the kernel's {@code syscall_64.tbl} and {@code
 * asm-generic/unistd.h}). Kept here rather than borrowed from the filter's own table: the suite must
 * not trust the code it checks.
 */
enum Syscall {
    GETPID(39, 172),
    IOCTL(16, 29),
    SOCKET(41, 198),
    CLONE(56, 220),
    CLONE3(435, 435),
    UNSHARE(272, 97),
    SETNS(308, 268),
    PTRACE(101, 117),
    PROCESS_VM_READV(310, 270),
    PROCESS_VM_WRITEV(311, 271),
    MOUNT(165, 40),
    UMOUNT2(166, 39),
    FSOPEN(430, 430),
    OPEN_TREE(428, 428),
    MOUNT_SETATTR(442, 442),
    CHROOT(161, 51),
    PIVOT_ROOT(155, 41),
    OPEN_BY_HANDLE_AT(304, 265),
    NAME_TO_HANDLE_AT(303, 264),
    KEYCTL(250, 219),
    ADD_KEY(248, 217),
    REQUEST_KEY(249, 218),
    BPF(321, 280),
    INIT_MODULE(175, 105),
    FINIT_MODULE(313, 273),
    DELETE_MODULE(176, 106),
    KEXEC_LOAD(246, 104),
    KEXEC_FILE_LOAD(320, 294),
    PERF_EVENT_OPEN(298, 241),
    USERFAULTFD(323, 282),
    IO_URING_SETUP(425, 425),
    SYSLOG(103, 116),
    SETTIMEOFDAY(164, 170),
    CLOCK_SETTIME(227, 112),
    REBOOT(169, 142),
    SWAPON(167, 224),
    SETUID(105, 146),
    SETGID(106, 144),
    SETRESUID(117, 147),
    SETGROUPS(116, 159);

    private static final String ARCH = System.getProperty("os.arch", "");

    private final int x8664;
    private final int aarch64;

    Syscall(int x8664, int aarch64) {
        this.x8664 = x8664;
        this.aarch64 = aarch64;
    }

    /** Whether this JVM runs on an architecture whose numbers are listed here. */
    static boolean knownArchitecture() {
        return ARCH.equals("amd64") || ARCH.equals("aarch64");
    }

    int number() {
        return switch (ARCH) {
            case "amd64" -> x8664;
            case "aarch64" -> aarch64;
            default -> throw new IllegalStateException("no syscall numbers for " + ARCH);
        };
    }

    /**
     * One probe argument, {@code label:nr:args}: the probe prints {@code label result errno}. Arguments
     * are numbers only (pointers are 0); a shell variable such as {@code $$} may stand in for one.
     */
    String call(String label, Object... args) {
        String tail = Arrays.stream(args).map(a -> ":" + a).collect(Collectors.joining());
        return label + ":" + number() + tail;
    }
}
