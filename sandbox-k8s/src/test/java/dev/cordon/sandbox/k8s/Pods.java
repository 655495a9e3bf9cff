package dev.cordon.sandbox.k8s;

import static org.awaitility.Awaitility.await;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxSpec;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Test helpers: settings, specs, and playing the kubelet's part on the mock server. */
final class Pods {
    static final String NS = "cordon-sandboxes";

    private Pods() {}

    static Map<String, Object> block() {
        Map<String, Object> block = new HashMap<>();
        block.put("namespace", NS);
        block.put("daemon_id", "daemon-a");
        block.put("runtime_classes", Map.of("gvisor", "gvisor", "vm", "kata"));
        block.put("runner_image", "registry.example/cordon-runner:0.1.0");
        block.put("egress_proxy", "10.0.0.5:3128");
        block.put("ready_timeout_seconds", 30);
        return block;
    }

    static KubernetesSettings settings() {
        return KubernetesSettings.parse("cordon.yaml", block());
    }

    static SandboxSpec spec(String id) {
        return spec(id, new Limits(512L << 20, 0, 500), List.of());
    }

    static SandboxSpec spec(String id, Limits limits, List<SandboxSpec.Mount> mounts) {
        return new SandboxSpec(
                id,
                mounts,
                List.of("/usr/bin/java", "-cp", "/opt/cordon/lib/*", "dev.cordon.runner.Main"),
                Map.of("HOME", "/workspace", "LANG", "C.UTF-8"),
                200_001,
                200_001,
                "cordon",
                "/workspace",
                Path.of("/tmp/unused.log"),
                limits);
    }

    /** Starts {@code spec} on a virtual thread and plays the kubelet: the pod becomes Ready at {@code ip}. */
    static PodSandbox startReady(KubernetesClient client, SandboxBackend backend, SandboxSpec spec, String ip) {
        CompletableFuture<PodSandbox> started = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                started.complete((PodSandbox) backend.start(spec));
            } catch (RuntimeException e) {
                started.completeExceptionally(e);
            }
        });
        String name = PodSpecs.name(spec.id());
        await().atMost(Duration.ofSeconds(20))
                .until(() -> client.pods().inNamespace(NS).withName(name).get() != null);
        markReady(client, name, ip);
        return started.join();
    }

    static void markReady(KubernetesClient client, String name, String ip) {
        client.pods().inNamespace(NS).withName(name).editStatus(p -> {
            p.setStatus(new PodStatusBuilder()
                    .withPhase("Running")
                    .withPodIP(ip)
                    .withConditions(new PodConditionBuilder()
                            .withType("Ready")
                            .withStatus("True")
                            .build())
                    .build());
            return p;
        });
    }

    static void markExited(KubernetesClient client, String name, int code, String reason) {
        client.pods().inNamespace(NS).withName(name).editStatus(p -> {
            p.setStatus(new PodStatusBuilder(p.getStatus())
                    .withPhase(code == 0 ? "Succeeded" : "Failed")
                    .withContainerStatuses(new ContainerStatusBuilder()
                            .withName(PodSpecs.CONTAINER)
                            .withNewState()
                            .withNewTerminated()
                            .withExitCode(code)
                            .withReason(reason)
                            .endTerminated()
                            .endState()
                            .build())
                    .build());
            return p;
        });
    }
}
