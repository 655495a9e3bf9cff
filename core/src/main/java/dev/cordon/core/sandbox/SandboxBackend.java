package dev.cordon.core.sandbox;

/** A way to run a command in isolation (bubblewrap first; OCI, gVisor, microVM, Kubernetes later). */
public interface SandboxBackend {
    /** Short name for status and audit, e.g. {@code bubblewrap}. */
    String name();

    /**
     * Starts {@code spec.command()} in a new sandbox and returns once the process is spawned (not
     * when it is ready: readiness is the runner's Ready message). Blocks briefly.
     *
     * @throws SandboxException if the sandbox cannot be created; the message says why and how to fix it
     */
    Sandbox start(SandboxSpec spec);
}
