package dev.cordon.sandbox.k8s;

import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.SandboxException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.StatusDetails;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

final class Fleet implements PodFleet {
    private static final Logger LOG = LoggerFactory.getLogger(Fleet.class);

    private final KubernetesClient client;
    private final KubernetesSettings settings;
    private final SecureRandom random;
    private final PodSpecs specs;
    private final Map<Isolation, PodBackend> backends = new ConcurrentHashMap<>();

    Fleet(KubernetesClient client, KubernetesSettings settings, SecureRandom random) {
        this.client = client;
        this.settings = settings;
        this.random = random;
        this.specs = new PodSpecs(settings);
    }

    @Override
    public PodBackend backend(Isolation wall) {
        Optional<String> runtimeClass = settings.runtimeClassFor(wall);
        return backends.computeIfAbsent(
                wall, w -> new KubernetesBackend(client, settings, specs, random, w, runtimeClass));
    }

    @Override
    public PodBackend backendFor(Isolation required) {
        for (Isolation wall : Isolation.values()) {
            if (settings.runtimeClasses().containsKey(wall) && (required == null || wall.satisfies(required))) {
                return backend(wall);
            }
        }
        return backend(required);
    }

    @Override
    public int reclaimOrphans() {
        Map<String, String> mine = specs.daemonLabels();
        String ns = settings.namespace();
        try {
            // Pods first: a pod must never run without its network policy.
            int deleted = count(client.pods().inNamespace(ns).withLabels(mine).delete());
            deleted += count(client.network()
                    .v1()
                    .networkPolicies()
                    .inNamespace(ns)
                    .withLabels(mine)
                    .delete());
            deleted += count(client.secrets().inNamespace(ns).withLabels(mine).delete());
            if (deleted > 0) {
                LOG.info(
                        "deleted {} sandbox object(s) of daemon {} in namespace {} left by an earlier run",
                        deleted,
                        settings.daemonId(),
                        ns);
            }
            return deleted;
        } catch (KubernetesClientException e) {
            throw new SandboxException(
                    "cannot delete the sandbox pods left in namespace " + ns + " by daemon " + settings.daemonId()
                            + ": " + e.getMessage(),
                    e);
        }
    }

    private static int count(List<StatusDetails> deleted) {
        return deleted.size();
    }

    @Override
    public String probe() {
        String where = "cluster " + client.getMasterUrl();
        try {
            String version = client.getKubernetesVersion().getGitVersion();
            HasMetadata ns = client.namespaces().withName(settings.namespace()).get();
            if (ns == null) {
                throw new SandboxException(where + " (Kubernetes " + version + ") has no namespace "
                        + settings.namespace() + " (kubernetes.namespace): create it, see deploy/kubernetes/");
            }
            return where + ", Kubernetes " + version + ", namespace " + settings.namespace() + ", runtime classes "
                    + settings.describeClasses();
        } catch (KubernetesClientException e) {
            throw new SandboxException(where + " is not reachable: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
