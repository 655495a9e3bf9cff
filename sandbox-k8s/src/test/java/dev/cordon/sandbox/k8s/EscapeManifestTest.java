package dev.cordon.sandbox.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.Limits;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes/escape-suite.sh attacks a pod built from deploy/kubernetes/escape/*.yaml, not
 * from Java: this keeps those manifests' walls equal to what {@link PodSpecs} writes, so what the
 * script proves on a real cluster is true of Cordon's own pods.
 */
class EscapeManifestTest {
    private static final Path DIR = Path.of("../deploy/kubernetes/escape");

    @Test
    void theEscapePodHasExactlyTheWallsOfACordonPod() throws Exception {
        Pod manifest = Serialization.unmarshal(
                Files.readString(DIR.resolve("pod.yaml"))
                        .replace("RUNTIME_CLASS", "gvisor")
                        .replace("IMAGE", "registry.example/cordon-runner:0.1.0"),
                Pod.class);
        KubernetesSettings settings = Pods.settings();
        Pod cordon = new PodSpecs(settings)
                .pod(
                        "cordon-escape",
                        Pods.spec("escape", new Limits(256L << 20, 0, 500), List.of()),
                        settings.runtimeClassFor(Isolation.GVISOR).orElseThrow());
        var want = cordon.getSpec();
        var got = manifest.getSpec();
        assertThat(got.getRuntimeClassName()).isEqualTo(want.getRuntimeClassName());
        assertThat(got.getAutomountServiceAccountToken()).isEqualTo(want.getAutomountServiceAccountToken());
        assertThat(got.getEnableServiceLinks()).isEqualTo(want.getEnableServiceLinks());
        assertThat(got.getRestartPolicy()).isEqualTo(want.getRestartPolicy());
        assertThat(got.getSecurityContext()).isEqualTo(want.getSecurityContext());
        assertThat(got.getVolumes()).isEqualTo(want.getVolumes());
        Container c = got.getContainers().getFirst();
        Container w = want.getContainers().getFirst();
        assertThat(c.getSecurityContext()).isEqualTo(w.getSecurityContext());
        assertThat(c.getVolumeMounts()).isEqualTo(w.getVolumeMounts());
        assertThat(c.getResources()).isEqualTo(w.getResources());
        assertThat(manifest.getMetadata().getLabels().keySet())
                .isEqualTo(cordon.getMetadata().getLabels().keySet());
    }

    @Test
    void theEscapeNetworkPolicyIsACordonNetworkPolicy() throws Exception {
        NetworkPolicy manifest = Serialization.unmarshal(
                Files.readString(DIR.resolve("networkpolicy.yaml")).replace("DAEMON_IP", "10.0.0.5"),
                NetworkPolicy.class);
        NetworkPolicy cordon = new PodSpecs(Pods.settings()).networkPolicy("cordon-escape");
        assertThat(manifest.getSpec()).isEqualTo(cordon.getSpec());
    }
}
