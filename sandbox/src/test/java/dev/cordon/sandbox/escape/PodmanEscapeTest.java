package dev.cordon.sandbox.escape;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.sandbox.oci.Oci;

/**
 * The escape suite against the podman backend: rootful {@code podman run --rootfs} of the same root
 * filesystem as runc's bundle, runc underneath, limits in podman's own cgroups. Needs root.
 */
class PodmanEscapeTest extends EscapeSuite {
    private static final SandboxBackend BACKEND = Oci.podman();

    @Override
    protected SandboxBackend backend() {
        return BACKEND;
    }
}
