package dev.cordon.server;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Plays the kubelet's part on the fabric8 mock API server: runs a pod's one container as a real
 * process on this machine (its command, its environment with secret references resolved from the
 * Secret as a kubelet does, each {@code emptyDir} as a directory), reports it Running and Ready at
 * {@code 127.0.0.1}, reports its exit, and kills it when the pod is deleted.
 *
 * <p>This is NOT a sandbox: the process has the test's uid, this machine's file system and network.
 * It proves the daemon's side (pod objects, token, channel, lifecycle) with a real runner JVM; the
 * walls are proved on a real cluster by {@code deploy/kubernetes/escape-suite.sh}.
 */
final class TestKubelet implements AutoCloseable {
    private final KubernetesClient client;
    private final String namespace;
    private final Path root;
    private final Map<String, Process> running = new ConcurrentHashMap<>();
    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    private final Watch watch;

    TestKubelet(KubernetesClient client, String namespace, Path root) {
        this.client = client;
        this.namespace = namespace;
        this.root = root;
        this.watch = client.pods().inNamespace(namespace).watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, Pod pod) {
                if (action == Action.DELETED) {
                    Process process = running.remove(pod.getMetadata().getName());
                    if (process != null) {
                        process.destroyForcibly();
                    }
                }
            }

            @Override
            public void onClose(WatcherException cause) {}
        });
    }

    /** The next pod created in the namespace that this kubelet has not handed out yet. Blocks. */
    Pod awaitNewPod() {
        Pod[] found = new Pod[1];
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            for (Pod pod : client.pods().inNamespace(namespace).list().getItems()) {
                if (seen.add(pod.getMetadata().getName())) {
                    found[0] = pod;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    /** Starts the pod's container; its output goes to {@link #log}. */
    Process run(Pod pod) throws IOException {
        String name = pod.getMetadata().getName();
        Container container = pod.getSpec().getContainers().getFirst();
        Path podDir = Files.createDirectories(root.resolve(name));
        Map<String, String> volumes = new TreeMap<>();
        for (VolumeMount mount : container.getVolumeMounts()) {
            volumes.put(
                    mount.getMountPath(),
                    Files.createDirectories(podDir.resolve(mount.getName())).toString());
        }
        ProcessBuilder builder = new ProcessBuilder(container.getCommand());
        builder.environment().clear();
        for (EnvVar env : container.getEnv()) {
            builder.environment().put(env.getName(), onHost(value(env), volumes));
        }
        builder.directory(Path.of(onHost(container.getWorkingDir(), volumes)).toFile());
        builder.redirectErrorStream(true).redirectOutput(log(name).toFile());
        Process process = builder.start();
        running.put(name, process);
        process.onExit().thenAccept(p -> {
            if (running.remove(name, p)) {
                exited(name, p.exitValue());
            }
        });
        return process;
    }

    /** The process running {@code podName}'s container, or null once it ended or was killed. */
    Process process(String podName) {
        return running.get(podName);
    }

    Path log(String podName) {
        return root.resolve(podName).resolve("container.log");
    }

    /** Reports the pod Running and Ready at 127.0.0.1, as the kubelet does once its container runs. */
    void ready(String podName) {
        client.pods().inNamespace(namespace).withName(podName).editStatus(p -> {
            p.setStatus(new PodStatusBuilder()
                    .withPhase("Running")
                    .withPodIP("127.0.0.1")
                    .withConditions(new PodConditionBuilder()
                            .withType("Ready")
                            .withStatus("True")
                            .build())
                    .build());
            return p;
        });
    }

    private void exited(String podName, int code) {
        try {
            client.pods().inNamespace(namespace).withName(podName).editStatus(p -> {
                p.setStatus(new PodStatusBuilder(p.getStatus())
                        .withPhase(code == 0 ? "Succeeded" : "Failed")
                        .withContainerStatuses(new ContainerStatusBuilder()
                                .withName("runner")
                                .withNewState()
                                .withNewTerminated()
                                .withExitCode(code)
                                .endTerminated()
                                .endState()
                                .build())
                        .build());
                return p;
            });
        } catch (KubernetesClientException e) {
            // the pod was deleted meanwhile: nothing to report
        }
    }

    private String value(EnvVar env) {
        if (env.getValueFrom() == null) {
            return env.getValue();
        }
        SecretKeySelector ref = env.getValueFrom().getSecretKeyRef();
        Secret secret =
                client.secrets().inNamespace(namespace).withName(ref.getName()).get();
        if (secret.getStringData() != null && secret.getStringData().containsKey(ref.getKey())) {
            return secret.getStringData().get(ref.getKey());
        }
        return new String(Base64.getDecoder().decode(secret.getData().get(ref.getKey())), StandardCharsets.UTF_8);
    }

    /** A path inside the pod, as this machine has it: a volume's mount path becomes its directory. */
    private static String onHost(String value, Map<String, String> volumes) {
        for (var volume : volumes.entrySet()) {
            if (value.equals(volume.getKey()) || value.startsWith(volume.getKey() + "/")) {
                return volume.getValue() + value.substring(volume.getKey().length());
            }
        }
        return value;
    }

    @Override
    public void close() {
        watch.close();
        List<Process> left = List.copyOf(running.values());
        left.forEach(Process::destroyForcibly);
        left.forEach(p -> {
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UncheckedIOException(new IOException("interrupted", e));
            }
        });
    }
}
