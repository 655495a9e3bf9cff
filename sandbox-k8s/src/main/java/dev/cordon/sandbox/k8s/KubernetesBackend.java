package dev.cordon.sandbox.k8s;

import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.Limit;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.protocol.ChannelToken;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.KubernetesClientTimeoutException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs each sandbox as a pod: creates its Secret, then its NetworkPolicy, then the pod (so the pod
 * never runs a moment without its policy), and waits until the pod is Ready. On any failure it
 * deletes what it created. Thread-safe.
 *
 * <p>Memory and CPU are per-pod limits. A per-pod process limit does not exist in the pod API (it
 * is the kubelet's {@code podPidsLimit}, one value per node), so {@link Limit#PIDS} is not
 * enforceable here: set it on the nodes and opt out with {@code sandbox.unenforced_limits: [pids]}.
 */
final class KubernetesBackend implements PodBackend {
    private final KubernetesClient client;
    private final KubernetesSettings settings;
    private final PodSpecs specs;
    private final SecureRandom random;
    private final Isolation wall;
    private final String runtimeClass;

    KubernetesBackend(
            KubernetesClient client,
            KubernetesSettings settings,
            PodSpecs specs,
            SecureRandom random,
            Isolation wall,
            Optional<String> runtimeClass) {
        this.client = client;
        this.settings = settings;
        this.specs = specs;
        this.random = random;
        this.wall = wall;
        this.runtimeClass = runtimeClass.orElse(null);
    }

    @Override
    public String name() {
        return "kubernetes";
    }

    @Override
    public Set<Limit> enforceableLimits() {
        return EnumSet.of(Limit.MEMORY, Limit.CPU);
    }

    @Override
    public Isolation isolation() {
        return wall;
    }

    @Override
    public List<String> runnerCommand(List<String> jvmFlags) {
        if (!settings.runnerCommand().isEmpty()) {
            return settings.runnerCommand();
        }
        // "java" from the image's PATH (the pod's environment does not set one); the JVM expands
        // the wildcard itself, so no shell is needed in the image.
        List<String> command = new ArrayList<>();
        command.add("java");
        command.addAll(jvmFlags);
        command.addAll(List.of("-cp", PodSpecs.RUNNER_LIB + "/*", "dev.cordon.runner.Main"));
        return List.copyOf(command);
    }

    /**
     * Creates the sandbox's objects and returns once its pod is Ready (its runner then listens).
     * Blocks up to {@code kubernetes.ready_timeout_seconds}.
     *
     * @throws SandboxException if the spec needs what a pod cannot give, the cluster refuses an
     *     object, or the pod is not Ready in time (the message names the pod, its phase, its last
     *     condition and its last event); nothing of the sandbox is left in the cluster then
     */
    @Override
    public PodSandbox start(SandboxSpec spec) {
        Set<Limit> missing = EnumSet.noneOf(Limit.class);
        missing.addAll(spec.limits().required());
        missing.removeAll(enforceableLimits());
        if (!missing.isEmpty()) {
            throw new SandboxException("sandbox " + spec.id() + " requires " + missing + " limits, which a pod"
                    + " cannot have (a pod's process limit is the kubelet's podPidsLimit): set it on the nodes and"
                    + " opt out with sandbox.unenforced_limits in cordon.yaml");
        }
        String name = PodSpecs.name(spec.id());
        Pod pod = specs.pod(name, spec, runtimeClass);
        String token = ChannelToken.generate(random);
        String ns = settings.namespace();
        try {
            client.secrets().inNamespace(ns).resource(specs.secret(name, token)).create();
            client.network()
                    .v1()
                    .networkPolicies()
                    .inNamespace(ns)
                    .resource(specs.networkPolicy(name))
                    .create();
            client.pods().inNamespace(ns).resource(pod).create();
            Pod ready = awaitReady(name);
            return new RunningPod(client, settings, name, token, ready);
        } catch (KubernetesClientException | SandboxException e) {
            RunningPod.delete(client, ns, name);
            if (e instanceof SandboxException se) {
                throw se;
            }
            throw new SandboxException(
                    "the cluster refused sandbox " + name + " in namespace " + ns + ": " + e.getMessage(), e);
        }
    }

    private Pod awaitReady(String name) {
        var resource = client.pods().inNamespace(settings.namespace()).withName(name);
        Pod pod;
        try {
            pod = resource.waitUntilCondition(
                    p -> p == null || PodStates.ready(p) || PodStates.finished(p),
                    settings.readyTimeout().toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (KubernetesClientTimeoutException e) {
            throw new SandboxException("pod " + name + " in namespace " + settings.namespace()
                    + " was not Ready within " + settings.readyTimeout().toSeconds()
                    + " s (kubernetes.ready_timeout_seconds): "
                    + PodStates.describe(client, settings.namespace(), resource.get(), name));
        }
        if (pod == null) {
            throw new SandboxException("pod " + name + " in namespace " + settings.namespace()
                    + " was deleted before it was Ready (by someone else, or by a daemon cleaning up)");
        }
        if (!PodStates.ready(pod)) {
            throw new SandboxException("pod " + name + " in namespace " + settings.namespace()
                    + " stopped before it was Ready: "
                    + PodStates.describe(client, settings.namespace(), pod, name));
        }
        return pod;
    }
}
