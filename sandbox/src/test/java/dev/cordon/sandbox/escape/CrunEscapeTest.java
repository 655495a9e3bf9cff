package dev.cordon.sandbox.escape;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.sandbox.oci.Oci;

/**
 * The escape suite against the crun backend: runc's bundle run by crun (installed by CI), which on
 * a hybrid cgroup host like CI's starts in a mount namespace without the v2 hierarchy and inside
 * the groups Cordon made. Needs root, as the backend does.
 */
class CrunEscapeTest extends EscapeSuite {
    private static final SandboxBackend BACKEND = Oci.crun();

    @Override
    protected SandboxBackend backend() {
        return BACKEND;
    }
}
