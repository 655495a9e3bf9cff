package dev.cordon.sandbox.escape;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.sandbox.oci.Oci;

/**
 * The escape suite against gVisor (runsc on the ptrace platform, which works on every host): the
 * same bundle as runc, with a user-space kernel between the agent and the host.
 */
class RunscEscapeTest extends EscapeSuite {
    private static final SandboxBackend BACKEND = Oci.runsc(Oci.DEFAULT_PLATFORM);

    @Override
    protected SandboxBackend backend() {
        return BACKEND;
    }

    @Override
    protected boolean emulatesTheKernel() {
        return true;
    }

    /** Its cgroup holds gVisor's own kernel too: a bomb stops the sandbox as a whole. */
    @Override
    protected boolean limitsStopTheWholeSandbox() {
        return true;
    }
}
