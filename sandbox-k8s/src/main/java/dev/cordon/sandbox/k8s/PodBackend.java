package dev.cordon.sandbox.k8s;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import java.util.List;

/**
 * A backend whose sandboxes are pods: nothing of the daemon's host is in them, the runner comes
 * from {@code kubernetes.runner_image}, and the daemon reaches it over TCP ({@link
 * PodSandbox#openChannel}) rather than a Unix socket it bind-mounts. Thread-safe.
 */
public interface PodBackend extends SandboxBackend {
    /**
     * Creates the sandbox's objects and returns once its pod is Ready. Blocks up to {@code
     * kubernetes.ready_timeout_seconds}.
     *
     * @throws SandboxException if the spec has mounts or sets the backend's own variables, the
     *     cluster refuses, or the pod is not Ready in time; nothing of the sandbox is left then
     */
    @Override
    PodSandbox start(SandboxSpec spec);

    /**
     * The command that starts the runner in the image: {@code kubernetes.runner_command} when set,
     * else {@code java}, {@code jvmFlags} and the runner's jars at {@code /opt/cordon/lib}.
     */
    List<String> runnerCommand(List<String> jvmFlags);
}
