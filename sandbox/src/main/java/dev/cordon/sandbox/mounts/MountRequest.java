package dev.cordon.sandbox.mounts;

import dev.cordon.core.sandbox.SandboxSpec.Mode;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A host folder an agent's policy asks to have inside its sandbox. Nothing is checked here: {@link
 * MountAllowlist#check} decides, and names the rule when it says no.
 *
 * @param hostPath the host path as written in the policy; symlinks are resolved by the check
 * @param target where it appears inside the sandbox, e.g. {@code /mnt/reports}
 * @param mode what is asked for; read-write is granted whole or refused, never downgraded
 */
public record MountRequest(Path hostPath, String target, Mode mode) {
    public MountRequest {
        Objects.requireNonNull(hostPath, "hostPath");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(mode, "mode");
    }
}
