package dev.cordon.sandbox.escape;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.sandbox.vm.Vm;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The escape suite against the microVM backend: each scenario boots its own VM (emulated where
 * KVM cannot boot a kernel, as on CI), whose command runs under bubblewrap inside the guest. The
 * attacks are the same; what they meet first is the inner bubblewrap, then the guest kernel, then
 * QEMU.
 */
class VmEscapeTest extends EscapeSuite {
    private static final SandboxBackend BACKEND = build();

    private static SandboxBackend build() {
        try {
            return Vm.backend(Files.createTempDirectory("cordon-vm-escape-"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    protected SandboxBackend backend() {
        return BACKEND;
    }
}
