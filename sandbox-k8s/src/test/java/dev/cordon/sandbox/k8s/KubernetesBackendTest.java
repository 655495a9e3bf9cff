package dev.cordon.sandbox.k8s;

import static dev.cordon.sandbox.k8s.Pods.NS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.Limit;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.protocol.ChannelToken;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicySpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class KubernetesBackendTest {
    KubernetesClient client;

    private PodFleet fleet() {
        return Kubernetes.fleet(client, Pods.settings(), new SecureRandom());
    }

    private List<NetworkPolicy> policies() {
        return client.network().v1().networkPolicies().inNamespace(NS).list().getItems();
    }

    @AfterEach
    void clean() {
        client.pods().inNamespace(NS).delete();
        client.secrets().inNamespace(NS).delete();
        client.network().v1().networkPolicies().inNamespace(NS).delete();
    }

    @Test
    void podHasEveryWallTheRuntimeClassOfItsIsolationAndThePolicysLimits() {
        SandboxBackend backend = fleet().backend(Isolation.GVISOR);
        try (PodSandbox sandbox = Pods.startReady(client, backend, Pods.spec("sales-s7-1-1"), "10.1.2.3")) {
            Pod pod = client.pods().inNamespace(NS).withName(sandbox.podName()).get();
            assertThat(pod.getMetadata().getName()).isEqualTo("cordon-sales-s7-1-1");
            assertThat(pod.getMetadata().getLabels())
                    .containsEntry("cordon.dev/daemon", "daemon-a")
                    .containsEntry("cordon.dev/sandbox", "cordon-sales-s7-1-1")
                    .containsEntry("app.kubernetes.io/managed-by", "cordon");
            PodSpec spec = pod.getSpec();
            assertThat(spec.getRuntimeClassName()).isEqualTo("gvisor");
            assertThat(spec.getAutomountServiceAccountToken()).isFalse();
            assertThat(spec.getEnableServiceLinks()).isFalse();
            assertThat(spec.getRestartPolicy()).isEqualTo("Never");
            assertThat(spec.getHostNetwork()).isNotEqualTo(Boolean.TRUE);
            assertThat(spec.getHostPID()).isNotEqualTo(Boolean.TRUE);
            assertThat(spec.getSecurityContext().getRunAsNonRoot()).isTrue();
            assertThat(spec.getSecurityContext().getRunAsUser()).isEqualTo(200_001L);
            assertThat(spec.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
            assertThat(spec.getContainers()).hasSize(1);
            Container runner = spec.getContainers().getFirst();
            assertThat(runner.getImage()).isEqualTo("registry.example/cordon-runner:0.1.0");
            assertThat(runner.getCommand())
                    .containsExactly("/usr/bin/java", "-cp", "/opt/cordon/lib/*", "dev.cordon.runner.Main");
            SecurityContext sc = runner.getSecurityContext();
            assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
            assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
            assertThat(sc.getPrivileged()).isFalse();
            assertThat(sc.getRunAsNonRoot()).isTrue();
            assertThat(sc.getRunAsUser()).isEqualTo(200_001L);
            assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
            assertThat(sc.getCapabilities().getAdd()).isNullOrEmpty();
            assertThat(sc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
            Map<String, Quantity> limits = runner.getResources().getLimits();
            assertThat(Quantity.getAmountInBytes(limits.get("memory")).longValueExact())
                    .isEqualTo(512L << 20);
            assertThat(limits.get("cpu")).isEqualTo(new Quantity("500m"));
            assertThat(runner.getResources().getRequests()).isEqualTo(limits);
            assertThat(runner.getVolumeMounts())
                    .extracting(m -> m.getMountPath())
                    .containsExactlyInAnyOrder("/workspace", "/tmp");
            assertThat(spec.getVolumes()).allSatisfy(v -> {
                assertThat(v.getEmptyDir()).isNotNull();
                assertThat(v.getHostPath()).isNull();
            });
        }
    }

    @Test
    void tokenIsOnlyInTheSecretAndThePodReferencesIt() {
        SandboxBackend backend = fleet().backend(Isolation.VM);
        try (PodSandbox sandbox = Pods.startReady(client, backend, Pods.spec("ops-s1-1-1"), "10.1.2.4")) {
            Secret secret = client.secrets()
                    .inNamespace(NS)
                    .withName(sandbox.podName() + "-token")
                    .get();
            String token = secret.getStringData() != null
                            && secret.getStringData().containsKey("token")
                    ? secret.getStringData().get("token")
                    : new String(Base64.getDecoder().decode(secret.getData().get("token")), StandardCharsets.UTF_8);
            assertThat(token).matches("[0-9a-f]{64}");
            assertThat(secret.getMetadata().getLabels()).containsEntry("cordon.dev/daemon", "daemon-a");
            Pod pod = client.pods().inNamespace(NS).withName(sandbox.podName()).get();
            assertThat(pod.getSpec().getRuntimeClassName()).isEqualTo("kata");
            String podJson = Serialization.asJson(pod);
            assertThat(podJson).doesNotContain(token);
            EnvVar env = pod.getSpec().getContainers().getFirst().getEnv().stream()
                    .filter(e -> e.getName().equals("CORDON_CHANNEL_TOKEN"))
                    .findFirst()
                    .orElseThrow();
            assertThat(env.getValue()).isNull();
            assertThat(env.getValueFrom().getSecretKeyRef().getName()).isEqualTo(sandbox.podName() + "-token");
            assertThat(env.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("token");
        }
    }

    @Test
    void theTokenIsNeverLoggedEvenAtDebug() {
        ch.qos.logback.classic.Logger root =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
                new ch.qos.logback.core.read.ListAppender<>();
        seen.start();
        ch.qos.logback.classic.Level before = root.getLevel();
        root.setLevel(ch.qos.logback.classic.Level.DEBUG);
        root.addAppender(seen);
        String token;
        try {
            PodFleet fleet = fleet();
            try (PodSandbox sandbox =
                    Pods.startReady(client, fleet.backend(Isolation.GVISOR), Pods.spec("l-s1-1-1"), "10.1.2.11")) {
                token = tokenOf(sandbox);
            }
            fleet.reclaimOrphans();
        } finally {
            root.detachAppender(seen);
            root.setLevel(before);
        }
        // The mock server stands in for the API server, which stores the Secret: its own logs are
        // not the daemon's. Everything else in this JVM is the daemon's side: Cordon and fabric8's client.
        var daemonSide = seen.list.stream()
                .filter(e -> !e.getLoggerName().startsWith("io.fabric8.kubernetes.client.server.mock"))
                .filter(e -> !e.getLoggerName().startsWith("io.fabric8.mockwebserver"))
                .toList();
        assertThat(daemonSide).isNotEmpty();
        assertThat(daemonSide)
                .allSatisfy(e -> assertThat(e.getFormattedMessage()).doesNotContain(token));
    }

    @Test
    void networkPolicyAllowsInOnlyTheDaemonAndNothingOut() {
        SandboxBackend backend = fleet().backend(Isolation.GVISOR);
        try (PodSandbox sandbox = Pods.startReady(client, backend, Pods.spec("a-s1-1-1"), "10.1.2.5")) {
            NetworkPolicy policy = client.network()
                    .v1()
                    .networkPolicies()
                    .inNamespace(NS)
                    .withName(sandbox.podName())
                    .get();
            NetworkPolicySpec spec = policy.getSpec();
            assertThat(spec.getPodSelector().getMatchLabels())
                    .isEqualTo(Map.of("cordon.dev/sandbox", sandbox.podName()));
            assertThat(spec.getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");
            assertThat(spec.getIngress()).singleElement().satisfies(rule -> {
                assertThat(rule.getFrom()).singleElement().satisfies(peer -> {
                    assertThat(peer.getIpBlock().getCidr()).isEqualTo("10.0.0.5/32");
                    assertThat(peer.getIpBlock().getExcept()).isNullOrEmpty();
                    assertThat(peer.getPodSelector()).isNull();
                    assertThat(peer.getNamespaceSelector()).isNull();
                });
                assertThat(rule.getPorts()).singleElement().satisfies(port -> {
                    assertThat(port.getPort().getIntVal()).isEqualTo(7070);
                    assertThat(port.getProtocol()).isEqualTo("TCP");
                });
            });
            // Deny-all egress: the proxy is reached over the runner's channel, never directly.
            assertThat(spec.getEgress()).isNullOrEmpty();
        }
    }

    @Test
    void anInClusterDaemonIsNamedByItsPodLabels() {
        Map<String, Object> block = Pods.block();
        block.put("daemon_selector", Map.of("app", "cordon-daemon"));
        NetworkPolicy policy = new PodSpecs(KubernetesSettings.parse("cordon.yaml", block)).networkPolicy("cordon-x");
        assertThat(policy.getSpec()
                        .getIngress()
                        .getFirst()
                        .getFrom()
                        .getFirst()
                        .getPodSelector()
                        .getMatchLabels())
                .isEqualTo(Map.of("app", "cordon-daemon"));
        assertThat(policy.getSpec().getEgress()).isNullOrEmpty();
    }

    @Test
    void exitFollowsThePodAndCloseDeletesPodPolicyAndSecret() throws Exception {
        SandboxBackend backend = fleet().backend(Isolation.GVISOR);
        PodSandbox sandbox = Pods.startReady(client, backend, Pods.spec("b-s2-1-1"), "10.1.2.6");
        String name = sandbox.podName();
        assertThat(sandbox.isAlive()).isTrue();
        Pods.markExited(client, name, 3, "Error");
        assertThat(sandbox.exit().get(20, TimeUnit.SECONDS)).isEqualTo(3);
        assertThat(sandbox.oomKilled()).isFalse();
        sandbox.close();
        assertThat(client.pods().inNamespace(NS).withName(name).get()).isNull();
        assertThat(client.network()
                        .v1()
                        .networkPolicies()
                        .inNamespace(NS)
                        .withName(name)
                        .get())
                .isNull();
        assertThat(client.secrets().inNamespace(NS).withName(name + "-token").get())
                .isNull();
        sandbox.close(); // idempotent
    }

    @Test
    void theHostOpensTheRunnersChannelWithThePodsTokenAndNothingElseGetsIn() throws Exception {
        ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Map<String, Object> block = Pods.block();
        block.put("runner_port", listener.getLocalPort());
        PodFleet fleet = Kubernetes.fleet(client, KubernetesSettings.parse("cordon.yaml", block), new SecureRandom());
        try (PodSandbox sandbox =
                Pods.startReady(client, fleet.backend(Isolation.GVISOR), Pods.spec("r-s1-1-1"), "127.0.0.1")) {
            String token = tokenOf(sandbox);
            // The runner's side, as the runner's Main runs it with the pod's environment.
            List<String> refused = new CopyOnWriteArrayList<>();
            CompletableFuture<Socket> runner = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    runner.complete(ChannelToken.acceptOne(listener, token, Duration.ofSeconds(5), refused::add));
                } catch (IOException e) {
                    runner.completeExceptionally(e);
                }
            });
            try (Socket intruder = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                intruder.getOutputStream().write("cordon-token guess\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(intruder.getInputStream().read()).isEqualTo(-1);
            }
            try (Socket host = sandbox.openChannel();
                    Socket inside = runner.get(10, TimeUnit.SECONDS)) {
                host.getOutputStream().write(42);
                assertThat(inside.getInputStream().read()).isEqualTo(42);
            }
            assertThat(refused).hasSize(1);
        }
    }

    private String tokenOf(PodSandbox sandbox) {
        Secret secret = client.secrets()
                .inNamespace(NS)
                .withName(sandbox.podName() + "-token")
                .get();
        return secret.getStringData() != null && secret.getStringData().containsKey("token")
                ? secret.getStringData().get("token")
                : new String(Base64.getDecoder().decode(secret.getData().get("token")), StandardCharsets.UTF_8);
    }

    @Test
    void aRunnerKilledForMemoryIsReportedAsSuch() throws Exception {
        SandboxBackend backend = fleet().backend(Isolation.GVISOR);
        try (PodSandbox sandbox = Pods.startReady(client, backend, Pods.spec("c-s3-1-1"), "10.1.2.7")) {
            Pods.markExited(client, sandbox.podName(), 137, "OOMKilled");
            assertThat(sandbox.exit().get(20, TimeUnit.SECONDS)).isEqualTo(137);
            assertThat(sandbox.oomKilled()).isTrue();
        }
    }

    @Test
    void aPodDeletedBehindTheDaemonsBackEndsItsSandbox() throws Exception {
        SandboxBackend backend = fleet().backend(Isolation.GVISOR);
        try (PodSandbox sandbox = Pods.startReady(client, backend, Pods.spec("d-s4-1-1"), "10.1.2.8")) {
            client.pods().inNamespace(NS).withName(sandbox.podName()).delete();
            assertThat(sandbox.exit().get(20, TimeUnit.SECONDS)).isEqualTo(RunningPod.KILLED);
        }
    }

    @Test
    void aPodNotReadyInTimeIsNamedWithItsLastConditionAndEventAndLeavesNothing() {
        Map<String, Object> block = Pods.block();
        block.put("ready_timeout_seconds", 1);
        SandboxBackend backend = Kubernetes.fleet(
                        client, KubernetesSettings.parse("cordon.yaml", block), new SecureRandom())
                .backend(Isolation.GVISOR);
        String name = PodSpecs.name("e-s5-1-1");
        client.v1()
                .events()
                .inNamespace(NS)
                .resource(new EventBuilder()
                        .withNewMetadata()
                        .withName(name + ".1")
                        .withNamespace(NS)
                        .endMetadata()
                        .withNewInvolvedObject()
                        .withKind("Pod")
                        .withName(name)
                        .withNamespace(NS)
                        .endInvolvedObject()
                        .withReason("FailedScheduling")
                        .withMessage("0/3 nodes are available: 3 node(s) had untolerated taint")
                        .withLastTimestamp("2026-12-06T12:00:00Z")
                        .build())
                .create();
        Thread.ofVirtual().start(() -> {
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> client.pods().inNamespace(NS).withName(name).get() != null);
            client.pods().inNamespace(NS).withName(name).editStatus(p -> {
                p.setStatus(new PodStatusBuilder()
                        .withPhase("Pending")
                        .withConditions(new PodConditionBuilder()
                                .withType("PodScheduled")
                                .withStatus("False")
                                .withReason("Unschedulable")
                                .withLastTransitionTime("2026-12-06T12:00:00Z")
                                .build())
                        .build());
                return p;
            });
        });
        assertThatThrownBy(() -> backend.start(Pods.spec("e-s5-1-1")))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("pod " + name + " in namespace " + NS + " was not Ready within 1 s")
                .hasMessageContaining("kubernetes.ready_timeout_seconds")
                .hasMessageContaining("phase Pending")
                .hasMessageContaining("PodScheduled=False (Unschedulable)")
                .hasMessageContaining("FailedScheduling: 0/3 nodes are available");
        assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
        assertThat(client.secrets().inNamespace(NS).list().getItems()).isEmpty();
        assertThat(policies()).isEmpty();
    }

    @Test
    void aRestartedDaemonDeletesWhatItsCrashedPredecessorLeftAndNothingElse() {
        PodFleet crashed = fleet();
        Pods.startReady(client, crashed.backend(Isolation.GVISOR), Pods.spec("f-s6-1-1"), "10.1.2.9");
        Pods.startReady(client, crashed.backend(Isolation.VM), Pods.spec("f-s6-1-2"), "10.1.2.10");
        // Another daemon (another replica) shares the namespace: its objects must survive.
        Map<String, Object> other = Pods.block();
        other.put("daemon_id", "daemon-b");
        PodFleet neighbour =
                Kubernetes.fleet(client, KubernetesSettings.parse("cordon.yaml", other), new SecureRandom());
        PodSandbox theirs =
                Pods.startReady(client, neighbour.backend(Isolation.GVISOR), Pods.spec("g-s1-1-1"), "10.1.3.1");

        // The crashed daemon never closed its sandboxes; a new one with the same daemon_id starts.
        int deleted = fleet().reclaimOrphans();

        assertThat(deleted).isEqualTo(6);
        assertThat(client.pods().inNamespace(NS).list().getItems())
                .extracting(p -> p.getMetadata().getName())
                .containsExactly(theirs.podName());
        assertThat(client.secrets().inNamespace(NS).list().getItems())
                .extracting(s -> s.getMetadata().getName())
                .containsExactly(theirs.podName() + "-token");
        assertThat(policies()).extracting(n -> n.getMetadata().getName()).containsExactly(theirs.podName());
        assertThat(fleet().reclaimOrphans()).isZero();
    }

    @Test
    void aPolicysIsolationPicksTheWeakestConfiguredWallThatSatisfiesIt() {
        PodFleet fleet = fleet();
        assertThat(fleet.backendFor(null).isolation()).isEqualTo(Isolation.GVISOR);
        assertThat(fleet.backendFor(Isolation.CONTAINER).isolation()).isEqualTo(Isolation.GVISOR);
        assertThat(fleet.backendFor(Isolation.GVISOR).isolation()).isEqualTo(Isolation.GVISOR);
        assertThat(fleet.backendFor(Isolation.VM).isolation()).isEqualTo(Isolation.VM);
        Map<String, Object> block = Pods.block();
        block.put("runtime_classes", Map.of("container", "default"));
        PodFleet plain = Kubernetes.fleet(client, KubernetesSettings.parse("cordon.yaml", block), new SecureRandom());
        assertThatThrownBy(() -> plain.backendFor(Isolation.GVISOR))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("kubernetes.runtime_classes.gvisor");
    }

    @Test
    void theClusterDefaultRuntimeSetsNoRuntimeClass() {
        Map<String, Object> block = Pods.block();
        block.put("runtime_classes", Map.of("container", "default"));
        KubernetesSettings settings = KubernetesSettings.parse("cordon.yaml", block);
        assertThat(new PodSpecs(settings)
                        .pod(
                                "cordon-x",
                                Pods.spec("x"),
                                settings.runtimeClassFor(Isolation.CONTAINER).orElse(null))
                        .getSpec()
                        .getRuntimeClassName())
                .isNull();
    }

    @Test
    void aWallWithNoRuntimeClassIsRefusedNamingTheKeyToSet() {
        assertThatThrownBy(() -> fleet().backend(Isolation.CONTAINER))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("no RuntimeClass for isolation container")
                .hasMessageContaining("kubernetes.runtime_classes.container")
                .hasMessageContaining("configured: gvisor=gvisor, vm=kata");
    }

    @Test
    void whatAPodCannotGiveIsRefusedBeforeAnythingIsCreated() {
        SandboxBackend backend = fleet().backend(Isolation.GVISOR);
        assertThat(backend.enforceableLimits()).containsExactlyInAnyOrder(Limit.MEMORY, Limit.CPU);
        assertThatThrownBy(() -> backend.start(Pods.spec("h", dev.cordon.core.sandbox.Limits.DEFAULTS, List.of())))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("[PIDS]")
                .hasMessageContaining("podPidsLimit");
        assertThatThrownBy(() -> backend.start(Pods.spec(
                        "h",
                        new dev.cordon.core.sandbox.Limits(64L << 20, 0, 100),
                        List.of(new dev.cordon.core.sandbox.SandboxSpec.Mount(
                                java.nio.file.Path.of("/etc"),
                                "/etc",
                                dev.cordon.core.sandbox.SandboxSpec.Mode.READ_ONLY)))))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("cannot show host path /etc at /etc inside a pod");
        assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
        assertThat(client.secrets().inNamespace(NS).list().getItems()).isEmpty();
    }

    @Test
    void doctorsProbeSaysWhetherTheClusterAnswersAndTheNamespaceExists() {
        assertThatThrownBy(() -> fleet().probe())
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("has no namespace cordon-sandboxes (kubernetes.namespace)");
        client.namespaces()
                .resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                        .withNewMetadata()
                        .withName(NS)
                        .endMetadata()
                        .build())
                .create();
        try {
            assertThat(fleet().probe())
                    .contains("namespace cordon-sandboxes")
                    .contains("runtime classes gvisor=gvisor, vm=kata");
        } finally {
            client.namespaces().withName(NS).delete();
        }
        var nowhere = new io.fabric8.kubernetes.client.KubernetesClientBuilder()
                .withConfig(new io.fabric8.kubernetes.client.ConfigBuilder()
                        .withMasterUrl("http://127.0.0.1:1")
                        .withRequestRetryBackoffLimit(0)
                        .build())
                .build();
        try (PodFleet unreachable = Kubernetes.fleet(nowhere, Pods.settings(), new SecureRandom())) {
            assertThatThrownBy(unreachable::probe)
                    .isInstanceOf(SandboxException.class)
                    .hasMessageContaining("cluster http://127.0.0.1:1/ is not reachable");
        }
    }

    @Test
    void objectNamesAreDnsLabelsUniquePerId() {
        assertThat(PodSpecs.name("sales-s12-345-6")).isEqualTo("cordon-sales-s12-345-6");
        String odd = PodSpecs.name("Sales_Team-s1-2-3");
        assertThat(odd).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?").hasSizeLessThanOrEqualTo(63);
        assertThat(odd).isNotEqualTo(PodSpecs.name("sales-team-s1-2-3"));
        String longId = "a".repeat(100) + "-s1-2-3";
        assertThat(PodSpecs.name(longId)).hasSizeLessThanOrEqualTo(63).isNotEqualTo(PodSpecs.name(longId + "4"));
    }
}
