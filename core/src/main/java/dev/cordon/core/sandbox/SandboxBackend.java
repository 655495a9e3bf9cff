package dev.cordon.core.sandbox;

import java.util.Set;

/** A way to run a command in isolation (bubblewrap first; OCI, gVisor, microVM, Kubernetes later). */
public interface SandboxBackend {
    /** Short name for status and audit, e.g. {@code bubblewrap}. */
    String name();

    /**
     * The limits this backend can enforce on this host. {@link #start} refuses a spec that requires
     * any other; a caller whose operator opted out drops those with {@link Limits#without} first.
     */
    Set<Limit> enforceableLimits();

    /** The wall this backend puts between a sandbox and the host kernel. */
    default Isolation isolation() {
        return Isolation.CONTAINER;
    }

    /**
     * Starts {@code spec.command()} in a new sandbox and returns once the process is spawned (not
     * when it is ready: readiness is the runner's Ready message). Blocks briefly.
     *
     * @throws SandboxException if the sandbox cannot be created; the message says why and how to fix it
     */
    Sandbox start(SandboxSpec spec);
}
