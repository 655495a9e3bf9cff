package dev.cordon.sandbox.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.SandboxException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KubernetesSettingsTest {
    @Test
    void aCompleteBlockIsRead() {
        KubernetesSettings s = Pods.settings();
        assertThat(s.namespace()).isEqualTo("cordon-sandboxes");
        assertThat(s.daemonId()).isEqualTo("daemon-a");
        assertThat(s.runtimeClasses()).isEqualTo(Map.of(Isolation.GVISOR, "gvisor", Isolation.VM, "kata"));
        assertThat(s.runnerPort()).isEqualTo(7070);
        assertThat(s.egressProxyIp()).isEqualTo("10.0.0.5");
        assertThat(s.egressProxyPort()).isEqualTo(3128);
        assertThat(s.readyTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.daemonSelector()).isEmpty();
        assertThat(s.runnerCommand()).isEmpty();
    }

    @Test
    void theRunnerCommandIsTheConfiguredOneOrJavaWithTheDaemonsFlagsAndTheImagesJars() {
        List<String> flags = List.of("-XX:+UseSerialGC", "-Xmx256m");
        PodBackend standard = Kubernetes.fleet(null, Pods.settings(), null).backend(Isolation.GVISOR);
        assertThat(standard.runnerCommand(flags))
                .containsExactly(
                        "java", "-XX:+UseSerialGC", "-Xmx256m", "-cp", "/opt/cordon/lib/*", "dev.cordon.runner.Main");
        Map<String, Object> block = Pods.block();
        block.put("runner_command", List.of("/opt/jdk/bin/java", "-jar", "/opt/cordon/runner.jar"));
        PodBackend custom = Kubernetes.fleet(null, KubernetesSettings.parse("cordon.yaml", block), null)
                .backend(Isolation.GVISOR);
        assertThat(custom.runnerCommand(flags)).containsExactly("/opt/jdk/bin/java", "-jar", "/opt/cordon/runner.jar");
        refused(Map.of(), "kubernetes.runner_command must be a non-empty list of strings", "runner_command", "java");
        refused(Map.of(), "kubernetes.runner_command must be a non-empty list of strings", "runner_command", List.of());
        refused(
                Map.of(),
                "kubernetes.runner_command[1] must be a non-blank string",
                "runner_command",
                List.of("java", " "));
    }

    @Test
    void badBlocksAreRefusedNamingTheFileAndTheKey() {
        refused(Map.of(), "cordon.yaml: unknown field 'kubernetes.runner_imag' (known: daemon_id", "runner_imag", "x");
        refused(Map.of(), "cordon.yaml: kubernetes.runner_image is required", "runner_image", null);
        refused(Map.of(), "kubernetes.runner_image must be an image reference without spaces", "runner_image", "a b");
        refused(Map.of(), "kubernetes.egress_proxy is required", "egress_proxy", null);
        refused(Map.of(), "kubernetes.egress_proxy must be IPv4:port", "egress_proxy", "proxy.local:3128");
        refused(Map.of(), "kubernetes.egress_proxy must be IPv4:port", "egress_proxy", "10.0.0.5");
        refused(
                Map.of(),
                "kubernetes.egress_proxy must be a whole number from 1 to 65535",
                "egress_proxy",
                "10.0.0.5:0");
        refused(Map.of(), "kubernetes.namespace must be a DNS label", "namespace", "Cordon_NS");
        refused(Map.of(), "kubernetes.runner_port must be a whole number from 1 to 65535", "runner_port", 70000);
        refused(Map.of(), "kubernetes.ready_timeout_seconds must be a whole number", "ready_timeout_seconds", "soon");
        refused(Map.of(), "kubernetes.runtime_classes is required", "runtime_classes", null);
        refused(Map.of(), "kubernetes.runtime_classes must name at least one wall", "runtime_classes", Map.of());
        refused(
                Map.of(),
                "kubernetes.runtime_classes.firecracker is not a wall",
                "runtime_classes",
                Map.of("firecracker", "fc"));
        refused(
                Map.of(),
                "kubernetes.runtime_classes.gvisor must be a DNS label",
                "runtime_classes",
                Map.of("gvisor", "G Visor"));
        refused(Map.of(), "kubernetes.runtime_classes must be a mapping", "runtime_classes", List.of("gvisor"));
        refused(
                Map.of(),
                "kubernetes.daemon_selector.app must be a DNS label",
                "daemon_selector",
                Map.of("app", "Not OK"));
        assertThatThrownBy(() -> KubernetesSettings.parse("cordon.yaml", null))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("cordon.yaml: sandbox.backend is kubernetes but there is no kubernetes: block");
    }

    private static void refused(Map<String, Object> extra, String message, String key, Object value) {
        java.util.HashMap<String, Object> block = new java.util.HashMap<>(Pods.block());
        block.putAll(extra);
        if (value == null) {
            block.remove(key);
        } else {
            block.put(key, value);
        }
        assertThatThrownBy(() -> KubernetesSettings.parse("cordon.yaml", block))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining(message);
    }
}
