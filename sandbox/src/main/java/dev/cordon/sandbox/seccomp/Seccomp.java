package dev.cordon.sandbox.seccomp;

import dev.cordon.core.sandbox.SandboxException;
import java.util.List;

/**
 * The seccomp filter every sandbox gets: a classic-BPF program, generated here, that denies the
 * syscalls listed by {@link #deniedSyscalls()} and kills any process that makes a call through a
 * foreign ABI (i386 {@code int 0x80} or x32 on x86_64, arm32 on aarch64). Everything else is allowed.
 *
 * <p>bubblewrap loads it with {@code --seccomp FD}; the program bytes must be readable from that file
 * descriptor. See docs/seccomp.md for the list, the reasons and how to verify it.
 *
 * <p>Thread-safe and stateless; both methods compute their result on each call, without blocking.
 */
public final class Seccomp {
    private Seccomp() {}

    /**
     * The filter for the architecture this JVM runs on, as the bytes of a {@code struct sock_filter}
     * array in native byte order: what {@code bwrap --seccomp FD} and {@code seccomp(2)} expect. The
     * caller owns the returned array.
     *
     * @throws SandboxException if this is neither x86_64 nor aarch64 (no syscall table for it)
     */
    public static byte[] defaultFilter() {
        return defaultFilter(Architecture.current());
    }

    static byte[] defaultFilter(Architecture arch) {
        return Instruction.encode(FilterCompiler.compile(arch, DefaultPolicy.rules()));
    }

    /**
     * The same policy as the {@code linux.seccomp} object of an OCI {@code config.json}, as plain maps
     * and lists ready for a JSON writer: for runc's libseccomp, and for gVisor, which applies it inside
     * its own kernel when run with {@code --oci-seccomp}. The caller owns the returned tree.
     *
     * @throws SandboxException if this is neither x86_64 nor aarch64
     */
    public static java.util.Map<String, Object> ociProfile() {
        return OciProfile.of(Architecture.current());
    }

    /**
     * What the filter denies, with the errno the caller gets and why, in the policy's order. The same
     * on every architecture, except that calls an architecture lacks (iopl on aarch64) are simply
     * absent from its program.
     */
    public static List<DeniedSyscall> deniedSyscalls() {
        return DefaultPolicy.ENTRIES.stream().map(DefaultPolicy.Entry::syscall).toList();
    }
}
