package dev.cordon.sandbox.escape;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.sandbox.oci.Oci;

/**
 * The escape suite against the runc backend: the bundle Cordon writes, run by the host's runc
 * (installed by CI). Needs root, as the backend does.
 */
class RuncEscapeTest extends EscapeSuite {
    private static final SandboxBackend BACKEND = Oci.runc();

    @Override
    protected SandboxBackend backend() {
        return BACKEND;
    }
}
