package dev.cordon.sandbox;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.sandbox.bwrap.Bubblewrap;

/** Factories for the sandbox backends this host can run. */
public final class Sandboxes {
    private Sandboxes() {}

    /** The bubblewrap backend, found on the PATH. */
    public static SandboxBackend bubblewrap() {
        return Bubblewrap.backend();
    }
}
