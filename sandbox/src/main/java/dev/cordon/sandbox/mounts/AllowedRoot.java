package dev.cordon.sandbox.mounts;

import dev.cordon.core.sandbox.SandboxSpec.Mode;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One entry of the operator's mount allowlist: a host directory under which agents' policies may
 * ask for mounts. {@link MountAllowlist#of} validates it; this record only holds it.
 *
 * @param path the directory; absolute. Every folder below it may be mounted (subject to the other
 *     rules), the directory itself included
 * @param mode the most an agent can get there: {@link Mode#READ_ONLY}, or {@link Mode#READ_WRITE}
 *     when the agent's policy also allows writes
 * @param allowCredentials the operator states that credential-like names found at the top level of a
 *     mounted folder under this entry (a sample {@code .env}, a test {@code server.pem}) are not
 *     secrets. It never permits mounting a path that itself has a credential-like component
 */
public record AllowedRoot(Path path, Mode mode, boolean allowCredentials) {
    public AllowedRoot {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(mode, "mode");
    }

    /** An entry with {@code allowCredentials} false: the default, and the safe one. */
    public AllowedRoot(Path path, Mode mode) {
        this(path, mode, false);
    }
}
