package dev.cordon.sandbox.escape;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.sandbox.bwrap.Bubblewrap;

/**
 * The escape suite against the bubblewrap backend as {@link Bubblewrap#backend()} builds it for
 * this host. What it does not claim depends on the host: limits need cgroups this user can write
 * (the backend reports which), and only a root daemon runs sandboxes as their spec's uid; otherwise
 * bwrap runs them in a user namespace as the daemon's own user.
 */
class BubblewrapEscapeTest extends EscapeSuite {
    /** One backend for the whole class: it writes its seccomp filter to a file once. */
    private static final SandboxBackend BACKEND = Bubblewrap.backend();

    @Override
    protected SandboxBackend backend() {
        return BACKEND;
    }

    @Override
    protected boolean runsAsSpecUid() {
        return Bubblewrap.isRoot();
    }
}
