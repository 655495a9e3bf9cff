package dev.cordon.sandbox.k8s;

import dev.cordon.core.sandbox.SandboxException;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.security.SecureRandom;

/** Entry point of the Kubernetes sandbox backend (docs/deploy-kubernetes.md). */
public final class Kubernetes {
    private Kubernetes() {}

    /**
     * Connects to the cluster the usual way: in a pod, its service account; elsewhere {@code
     * $KUBECONFIG} or {@code ~/.kube/config}. Does not contact the cluster yet ({@link PodFleet#probe}
     * does).
     *
     * @throws SandboxException if no cluster configuration can be found or read
     */
    public static PodFleet connect(KubernetesSettings settings) {
        try {
            return fleet(new KubernetesClientBuilder().build(), settings, new SecureRandom());
        } catch (KubernetesClientException | IllegalStateException e) {
            throw new SandboxException(
                    "cannot configure a Kubernetes client (in-cluster service account,"
                            + " $KUBECONFIG or ~/.kube/config): " + e.getMessage(),
                    e);
        }
    }

    /** A fleet on {@code client}, which it closes when closed. */
    static PodFleet fleet(KubernetesClient client, KubernetesSettings settings, SecureRandom random) {
        return new Fleet(client, settings, random);
    }
}
