package dev.cordon.sandbox.seccomp;

import java.util.Objects;

/** What the compiler needs of one policy line: which call, under which condition, which errno. */
record Rule(String syscall, ArgCheck check, int errno) {
    Rule {
        Objects.requireNonNull(syscall, "syscall");
        Objects.requireNonNull(check, "check");
        if (errno <= 0 || errno > 4095) {
            // SECCOMP_RET_DATA is 16 bits, and the kernel clamps anything above MAX_ERRNO.
            throw new IllegalArgumentException("errno out of range: " + errno);
        }
    }
}
