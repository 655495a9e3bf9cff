package dev.cordon.sandbox.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The manifests under deploy/kubernetes, loaded as Kubernetes objects (fabric8's model, as the API
 * server would read them), keep the walls docs/deploy-kubernetes.md promises: several replicas only
 * as a StatefulSet (one home each), each replica's daemon id from the downward API, no
 * service-account token where nothing calls the API, non-root and a read-only root filesystem in
 * every container.
 */
class DaemonManifestsTest {
    private static final Path DIR = Path.of("../deploy/kubernetes");
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    static List<HasMetadata> objects() throws IOException {
        List<HasMetadata> all = new ArrayList<>();
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path file :
                    files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                Object loaded = SERIALIZATION.unmarshal(Files.readString(file));
                if (loaded instanceof List<?> list) {
                    list.forEach(o -> all.add((HasMetadata) o));
                } else {
                    all.add((HasMetadata) loaded);
                }
            }
        }
        return all;
    }

    static <T extends HasMetadata> List<T> all(Class<T> kind) throws IOException {
        return objects().stream().filter(kind::isInstance).map(kind::cast).toList();
    }

    @Test
    void severalReplicasRunOnlyAsAStatefulSetWithAVolumeForEachHome() throws IOException {
        for (Deployment d : all(Deployment.class)) {
            assertThat(d.getSpec().getReplicas())
                    .as("%s: a Deployment's replicas would share one home volume and its lock", name(d))
                    .isLessThanOrEqualTo(1);
        }
        StatefulSet daemons = daemonSet();
        assertThat(daemons.getSpec().getReplicas()).isGreaterThan(1);
        String home = daemon(daemons.getSpec().getTemplate()).getArgs().getLast();
        String claim = daemons.getSpec()
                .getVolumeClaimTemplates()
                .getFirst()
                .getMetadata()
                .getName();
        assertThat(daemon(daemons.getSpec().getTemplate()).getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getName()).isEqualTo(claim);
            assertThat(m.getMountPath()).isEqualTo(home);
        });
        Service headless = all(Service.class).stream()
                .filter(s -> s.getMetadata().getName().equals(daemons.getSpec().getServiceName()))
                .findFirst()
                .orElseThrow();
        assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(headless.getSpec().getSelector())
                .isEqualTo(daemons.getSpec().getSelector().getMatchLabels());
    }

    @Test
    void eachReplicaTakesItsDaemonIdFromItsPodNameThroughTheDownwardApi() throws IOException {
        StatefulSet daemons = daemonSet();
        PodTemplateSpec pod = daemons.getSpec().getTemplate();
        EnvVar podName = daemon(pod).getEnv().stream()
                .filter(e -> e.getName().equals("POD_NAME"))
                .findFirst()
                .orElseThrow();
        assertThat(podName.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");

        String configMap = pod.getSpec().getVolumes().stream()
                .filter(v -> v.getConfigMap() != null)
                .findFirst()
                .orElseThrow()
                .getConfigMap()
                .getName();
        String cordonYaml = all(ConfigMap.class).stream()
                .filter(c -> c.getMetadata().getName().equals(configMap))
                .findFirst()
                .orElseThrow()
                .getData()
                .get("cordon.yaml");
        @SuppressWarnings("unchecked")
        Map<String, Object> config = SERIALIZATION.unmarshal(cordonYaml, Map.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> kubernetes = (Map<String, Object>) config.get("kubernetes");
        assertThat(kubernetes.get("daemon_id")).isEqualTo("${env:POD_NAME}");
        // What the daemon makes of it in pod cordon-daemon-1 (server's EnvValues does the replacing).
        Map<String, Object> resolved = new java.util.HashMap<>(kubernetes);
        resolved.replaceAll((k, v) -> v instanceof String s
                ? s.replace("${env:POD_NAME}", "cordon-daemon-1").replace("${env:POD_IP}", "10.1.2.3")
                : v);
        KubernetesSettings settings = KubernetesSettings.parse("cordon.yaml", resolved);
        assertThat(settings.daemonId()).isEqualTo("cordon-daemon-1");
        assertThat(settings.daemonSelector()).isEqualTo(pod.getMetadata().getLabels());
    }

    @Test
    void everyContainerIsNonRootWithAReadOnlyRootAndNoTokenWhereNothingCallsTheApi() throws IOException {
        List<String> boundAccounts = all(RoleBinding.class).stream()
                .flatMap(b -> b.getSubjects().stream())
                .map(s -> s.getName())
                .toList();
        List<PodTemplateSpec> pods = new ArrayList<>();
        all(Deployment.class).forEach(d -> pods.add(d.getSpec().getTemplate()));
        all(StatefulSet.class).forEach(s -> pods.add(s.getSpec().getTemplate()));
        assertThat(pods).hasSizeGreaterThanOrEqualTo(3);
        for (PodTemplateSpec pod : pods) {
            var spec = pod.getSpec();
            String what = String.valueOf(pod.getMetadata().getLabels());
            assertThat(spec.getSecurityContext().getRunAsNonRoot()).as(what).isTrue();
            if (spec.getServiceAccountName() == null) {
                assertThat(spec.getAutomountServiceAccountToken())
                        .as("%s calls no API: no token", what)
                        .isFalse();
            } else {
                assertThat(boundAccounts).as(what).contains(spec.getServiceAccountName());
            }
            List<Container> containers = new ArrayList<>(spec.getContainers());
            if (spec.getInitContainers() != null) {
                containers.addAll(spec.getInitContainers());
            }
            for (Container c : containers) {
                assertThat(c.getSecurityContext().getReadOnlyRootFilesystem())
                        .as(what + " " + c.getName())
                        .isTrue();
                assertThat(c.getSecurityContext().getAllowPrivilegeEscalation())
                        .as(what + " " + c.getName())
                        .isFalse();
                assertThat(c.getSecurityContext().getCapabilities().getDrop())
                        .as(what + " " + c.getName())
                        .containsExactly("ALL");
            }
        }
    }

    /**
     * What replicas must share reaches every home from the one Secret, owner-only (the daemon
     * refuses keys others can read), where the daemon reads it: the audit key, the vault and its
     * key, and the key file links are signed with (without it a link opens only on its sender).
     */
    @Test
    void everyReplicaGetsTheSharedKeysFromTheSecretOwnerOnly() throws IOException {
        PodTemplateSpec pod = daemonSet().getSpec().getTemplate();
        Container keys = pod.getSpec().getInitContainers().stream()
                .filter(c -> c.getName().equals("keys"))
                .findFirst()
                .orElseThrow();
        String script = String.join(" ", keys.getCommand());
        String home = daemon(pod).getArgs().getLast();
        for (String file :
                List.of("keys/audit-ed25519", "keys/vault.key", "secrets/vault.json", "keys/file-links.key")) {
            String name = Path.of(file).getFileName().toString();
            assertThat(script).contains("install -m 600 /etc/cordon-keys/" + name + " " + home + "/" + file);
        }
    }

    private static StatefulSet daemonSet() throws IOException {
        return all(StatefulSet.class).stream()
                .filter(s -> s.getMetadata().getName().equals("cordon-daemon"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("deploy/kubernetes ships no cordon-daemon StatefulSet"));
    }

    private static Container daemon(PodTemplateSpec pod) {
        return pod.getSpec().getContainers().stream()
                .filter(c -> c.getName().equals("daemon"))
                .findFirst()
                .orElseThrow();
    }

    private static String name(HasMetadata o) {
        return o.getKind() + " " + o.getMetadata().getName();
    }
}
