package dev.cordon.sandbox.escape;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import dev.cordon.sandbox.cgroup.CgroupHost;

/**
 * The escape suite against the bubblewrap backend, as {@link Bubblewrap#backend()} builds it for
 * this host. What it does not claim depends on the host: limits need writable cgroups, and only a
 * root daemon can run sandboxes as their spec's uid (otherwise bwrap runs as the daemon's user).
 */
class BubblewrapEscapeTest extends EscapeSuite {
    /** One backend for the whole class: it writes its seccomp filter to a file once. */
    private static final SandboxBackend BACKEND = Bubblewrap.backend();

    private static final boolean LIMITS =
            CgroupHost.detect().unenforceable(Limits.DEFAULTS).isEmpty();

    @Override
    protected SandboxBackend backend() {
        return BACKEND;
    }

    @Override
    protected boolean enforcesLimits() {
        return LIMITS;
    }

    @Override
    protected boolean runsAsSpecUid() {
        return Bubblewrap.isRoot();
    }
}
