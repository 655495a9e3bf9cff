package dev.cordon.sandbox.k8s;

import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.SandboxException;

/**
 * This daemon's sandbox pods in one namespace of one cluster. Thread-safe; one per daemon.
 * Built by {@link Kubernetes#connect}.
 */
public interface PodFleet extends AutoCloseable {
    /**
     * A backend whose pods run under the RuntimeClass configured for {@code wall}.
     *
     * @throws SandboxException if {@code kubernetes.runtime_classes} names no class for {@code wall}
     */
    PodBackend backend(Isolation wall);

    /**
     * The backend for a policy that requires {@code required} (null: no requirement): the weakest
     * configured wall that satisfies it, so a stronger runtime class is only used where asked for.
     *
     * @throws SandboxException if no configured wall satisfies {@code required}, naming the key to set
     */
    PodBackend backendFor(Isolation required);

    /**
     * Deletes every pod, secret and network policy carrying this daemon's label: what a daemon that
     * crashed left behind. Call once at start, before the first sandbox. Blocks.
     *
     * @return how many objects were deleted
     * @throws SandboxException if the cluster cannot be reached or refuses
     */
    int reclaimOrphans();

    /**
     * Whether the cluster answers and the namespace exists, in one line for {@code cordon doctor}.
     *
     * @throws SandboxException naming the cluster and what failed
     */
    String probe();

    /** Closes the connection to the cluster; pods still running are left (see {@link #reclaimOrphans}). */
    @Override
    void close();
}
