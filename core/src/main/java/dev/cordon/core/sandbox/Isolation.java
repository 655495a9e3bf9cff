package dev.cordon.core.sandbox;

/**
 * How strong the wall around a sandbox is, weakest first: what an agent must get through to reach
 * the host. A policy may require a minimum ({@code sandbox: {isolation: gvisor}}); a backend at or
 * above it satisfies it. docs/isolation.md says what each wall stops and costs.
 */
public enum Isolation {
    /**
     * Namespaces, a seccomp denylist, cgroups, no capabilities, no_new_privs (bubblewrap, runc): the
     * agent talks to the host kernel directly, so a kernel bug in a call the filter allows is an escape.
     */
    CONTAINER,
    /**
     * A user-space kernel (gVisor's runsc) answers the agent's system calls; the host kernel sees only
     * the small set the sentry itself makes, under its own seccomp filter. Two walls.
     */
    GVISOR,
    /** A virtual machine with its own guest kernel; the host is reached only through the hypervisor. */
    VM;

    /** Whether this wall is at least as strong as {@code required}. */
    public boolean satisfies(Isolation required) {
        return compareTo(required) >= 0;
    }
}
