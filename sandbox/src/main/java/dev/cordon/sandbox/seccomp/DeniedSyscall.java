package dev.cordon.sandbox.seccomp;

import java.util.Objects;

/**
 * One line of the seccomp policy, for documentation and {@code cordon doctor}.
 *
 * @param name the syscall's Linux name, e.g. {@code "ptrace"}
 * @param errno what the caller gets instead of the call
 * @param when {@code "always"}, or the argument condition under which the call is denied
 * @param reason why a sandboxed agent must not make this call, in one line
 */
public record DeniedSyscall(String name, Errno errno, String when, String reason) {
    public DeniedSyscall {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(errno, "errno");
        Objects.requireNonNull(when, "when");
        Objects.requireNonNull(reason, "reason");
    }
}
