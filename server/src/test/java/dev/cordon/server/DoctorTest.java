package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.doctor.HostDoctor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code cordon doctor} says about cordon.yaml and the Kubernetes backend (the probe itself:
 * KubernetesBackendTest).
 */
class DoctorTest {
    @TempDir
    Path home;

    static final String CLUSTER = String.join(
            "\n",
            "sandbox:",
            "  backend: kubernetes",
            "  unenforced_limits: [pids]",
            "kubernetes:",
            "  namespace: cordon-sandboxes",
            "  runtime_classes: {gvisor: gvisor}",
            "  runner_image: registry.example/cordon-runner:0.1.0",
            "  egress_proxy: 10.0.0.5:3128",
            "");

    @Test
    void doctorNamesEveryMistakeInCordonYamlAndCallsTheHostNotReady() throws Exception {
        Files.writeString(home.resolve("cordon.yaml"), "sandbox:\n  pids: many\nhttp:\n  port: abc\n");

        HostDoctor.Check check = Doctor.config(home, Map.of());

        assertThat(check.status()).isEqualTo(HostDoctor.Status.MISSING);
        assertThat(check.detail().lines())
                .hasSize(2)
                .anySatisfy(line -> assertThat(line).contains("sandbox.pids must be a whole number"))
                .anySatisfy(line -> assertThat(line).contains("http.port"));
        String report = HostDoctor.render(List.of(check));
        assertThat(report)
                .contains("  MISSING  config  " + home.resolve("cordon.yaml") + ": sandbox.pids")
                .contains(
                        "\n" + " ".repeat("  MISSING  config  ".length()) + home.resolve("cordon.yaml") + ": http.port")
                .contains("Not ready: 1 missing.");
    }

    @Test
    void doctorSaysWhenCordonYamlIsValidOrAbsent() throws Exception {
        assertThat(Doctor.config(home, Map.of()).detail()).startsWith("no " + home.resolve("cordon.yaml"));
        Files.writeString(home.resolve("cordon.yaml"), "sandbox:\n  pids: 256\n");
        HostDoctor.Check check = Doctor.config(home, Map.of());
        assertThat(check.status()).isEqualTo(HostDoctor.Status.OK);
        assertThat(check.detail()).endsWith("cordon.yaml is valid");
    }

    @Test
    void withoutAClusterDoctorSaysSandboxesRunHere() throws Exception {
        Files.writeString(home.resolve("cordon.yaml"), "sandbox:\n  memory_mb: 512\n");
        HostDoctor.Check check = Doctor.kubernetes(home.resolve("cordon.yaml"), s -> {
            throw new AssertionError("must not connect");
        });
        assertThat(check.status()).isEqualTo(HostDoctor.Status.OK);
        assertThat(check.detail()).contains("not configured");
    }

    @Test
    void anUnreachableClusterIsMissingWithTheReason() throws Exception {
        Files.writeString(home.resolve("cordon.yaml"), CLUSTER);
        HostDoctor.Check check = Doctor.kubernetes(home.resolve("cordon.yaml"), s -> {
            throw new SandboxException("cluster https://10.9.9.9:6443/ is not reachable: connect timed out");
        });
        assertThat(check.status()).isEqualTo(HostDoctor.Status.MISSING);
        assertThat(check.detail()).contains("not reachable");
        assertThat(check.fix()).contains("docs/deploy-kubernetes.md");
    }

    @Test
    void badClusterSettingsAreRefusedNamingTheFileAndKey() throws Exception {
        Path file = home.resolve("cordon.yaml");
        Files.writeString(file, CLUSTER.replace("10.0.0.5:3128", "proxy:3128"));
        assertThat(Doctor.kubernetes(file, s -> null).detail())
                .isEqualTo(file + ": kubernetes.egress_proxy must be IPv4:port (a network policy allows an address,"
                        + " not a name), got 'proxy:3128'");
        Files.writeString(file, "sandbox:\n  backend: nomad\n");
        assertThat(Doctor.kubernetes(file, s -> null).detail())
                .contains("sandbox.backend must be bubblewrap (the default) or kubernetes, got 'nomad'");
        Files.writeString(file, "sandbox:\n  backend: kubernetes\n");
        assertThat(Doctor.kubernetes(file, s -> null).detail())
                .contains("sandbox.backend is kubernetes but there is no kubernetes: block");
    }

    @Test
    void theDaemonsConfigAdmitsTheKubernetesKeys() throws Exception {
        Files.writeString(home.resolve("cordon.yaml"), CLUSTER);
        assertThat(Config.load(home, java.util.Map.of()).unenforcedLimits()).hasSize(1);
        assertThat(KubernetesChoice.load(home.resolve("cordon.yaml"), Map.of()).runnerImage())
                .isEqualTo("registry.example/cordon-runner:0.1.0");
    }

    @Test
    void eachReplicaTakesItsDaemonIdAndAddressFromItsEnvironment() throws Exception {
        Path file = home.resolve("cordon.yaml");
        Files.writeString(
                file,
                CLUSTER.replace("10.0.0.5:3128", "${env:POD_IP}:3128")
                        .replace("  namespace:", "  daemon_id: ${env:POD_NAME}\n  namespace:"));

        var settings = KubernetesChoice.load(file, Map.of("POD_NAME", "cordon-2", "POD_IP", "10.1.2.3"));

        assertThat(settings.daemonId()).isEqualTo("cordon-2");
        assertThat(settings.egressProxyIp()).isEqualTo("10.1.2.3");
        assertThat(settings.egressProxyPort()).isEqualTo(3128);
    }

    @Test
    void anUnsetOrEmptyVariableIsRefusedNamingTheFileTheKeyAndTheVariable() throws Exception {
        Path file = home.resolve("cordon.yaml");
        Files.writeString(file, CLUSTER.replace("  namespace:", "  daemon_id: ${env:POD_NAME}\n  namespace:"));

        assertThatThrownBy(() -> KubernetesChoice.load(file, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ": kubernetes.daemon_id: ${env:POD_NAME} names environment variable"
                        + " POD_NAME, which is not set");
        assertThatThrownBy(() -> KubernetesChoice.load(file, Map.of("POD_NAME", "")))
                .hasMessageContaining("kubernetes.daemon_id")
                .hasMessageContaining("POD_NAME, which is empty");
        assertThat(Doctor.kubernetes(file, s -> null).detail())
                .as("doctor reads the daemon's own environment")
                .contains("kubernetes.daemon_id");
    }

    @Test
    void aValueWithoutReferencesIsKeptAsWritten() throws Exception {
        Path file = home.resolve("cordon.yaml");
        Files.writeString(file, CLUSTER.replace("  namespace:", "  daemon_id: cordon-$1\n  namespace:"));
        assertThatThrownBy(() -> KubernetesChoice.load(file, Map.of()))
                .as("a label may not hold $, and the text is reported as written")
                .hasMessageContaining("cordon-$1");
    }
}
