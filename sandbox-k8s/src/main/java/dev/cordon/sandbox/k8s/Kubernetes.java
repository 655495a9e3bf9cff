package dev.cordon.sandbox.k8s;

import dev.cordon.core.sandbox.SandboxException;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.File;
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
        return connect(settings, null);
    }

    /**
     * As {@link #connect(KubernetesSettings)}, with the daemon's own environment's {@code KUBECONFIG}
     * (one file) rather than the process's, so that the daemon reads the cluster from where its
     * environment says.
     *
     * @param kubeconfig a kubeconfig file; null for the usual search
     * @throws SandboxException if that file, or no cluster configuration, can be read
     */
    public static PodFleet connect(KubernetesSettings settings, String kubeconfig) {
        try {
            KubernetesClientBuilder builder = new KubernetesClientBuilder();
            if (kubeconfig != null && !kubeconfig.isBlank() && !kubeconfig.contains(File.pathSeparator)) {
                builder.withConfig(Config.fromKubeconfig(new File(kubeconfig)));
            }
            return fleet(builder.build(), settings, new SecureRandom());
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
