package dev.cordon.sandbox.k8s;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.protocol.ChannelToken;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The three objects one sandbox is made of: its Secret (the channel token), its NetworkPolicy and
 * its Pod. Pure: builds objects, talks to no cluster.
 *
 * <p>Every field below is a wall, and the pod gets nothing else:
 *
 * <ul>
 *   <li>{@code runtimeClassName}: gVisor or Kata as the second wall, from the policy's isolation.
 *   <li>{@code automountServiceAccountToken: false}: an agent holding a service-account token could
 *       talk to the API server, the one component that controls every pod.
 *   <li>{@code enableServiceLinks: false}: no {@code *_SERVICE_HOST} variables naming the cluster's
 *       services inside the sandbox.
 *   <li>{@code runAsNonRoot} with the spec's fixed uid, {@code allowPrivilegeEscalation: false}
 *       ({@code no_new_privs}), every capability dropped, seccomp {@code RuntimeDefault}: what
 *       bubblewrap gives with {@code --cap-drop ALL} and its denylist.
 *   <li>{@code readOnlyRootFilesystem}: the image cannot be changed; the agent writes to its
 *       workspace and {@code /tmp} only (both {@code emptyDir}, gone with the pod). No host path is
 *       ever mounted: a spec with mounts is refused.
 *   <li>Requests equal limits for memory and CPU, so the scheduler reserves what the policy caps.
 *   <li>The token reaches the runner through {@code secretKeyRef}: it is never in the pod spec.
 * </ul>
 */
final class PodSpecs {
    static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    static final String DAEMON = "cordon.dev/daemon";
    static final String SANDBOX = "cordon.dev/sandbox";
    static final String CONTAINER = "runner";
    static final String TOKEN_KEY = "token";
    static final String WORKSPACE = "/workspace";
    /** Where the runner image keeps the runner's jars (docs/deploy-kubernetes.md, "Set it up"). */
    static final String RUNNER_LIB = "/opt/cordon/lib";
    /** Where the runner listens, for the runner's own environment. */
    static final String PORT_ENV = "CORDON_LISTEN_PORT";

    private final KubernetesSettings settings;

    PodSpecs(KubernetesSettings settings) {
        this.settings = settings;
    }

    /**
     * The object name for sandbox {@code id}: a DNS label, lower-case, at most 63 characters, unique
     * per id (a hash suffix when the id had to be changed or cut).
     */
    static String name(String id) {
        String clean = id.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        String base = "cordon-" + clean;
        if (base.equals("cordon-" + id) && base.length() <= 63 && !base.endsWith("-")) {
            return base;
        }
        String hash = HexFormat.of().formatHex(sha256(id), 0, 5);
        String head = base.substring(0, Math.min(base.length(), 52)).replaceAll("-+$", "");
        return head + "-" + hash;
    }

    static String secretName(String podName) {
        return podName + "-token";
    }

    /** The labels every object of sandbox {@code name} carries: cleanup finds them by the first two. */
    Map<String, String> labels(String name) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(MANAGED_BY, "cordon");
        labels.put(DAEMON, settings.daemonId());
        labels.put(SANDBOX, name);
        return labels;
    }

    /** Object {@code objectName} of sandbox {@code sandbox}, in the sandboxes' namespace, with its labels. */
    private ObjectMeta metadata(String objectName, String sandbox) {
        return new ObjectMetaBuilder()
                .withName(objectName)
                .withNamespace(settings.namespace())
                .withLabels(labels(sandbox))
                .build();
    }

    /** The labels that select every object this daemon made. */
    Map<String, String> daemonLabels() {
        return Map.of(MANAGED_BY, "cordon", DAEMON, settings.daemonId());
    }

    Secret secret(String name, String token) {
        return new SecretBuilder()
                .withMetadata(metadata(secretName(name), name))
                .withType("Opaque")
                .withImmutable(true)
                .withStringData(Map.of(TOKEN_KEY, token))
                .build();
    }

    /**
     * Deny-by-default for the sandbox's pod (invariant 5): in, only the daemon, on the runner's port;
     * out, nothing at all. A pod's tools reach the daemon's egress proxy the way every sandbox's do:
     * through the runner's relay over its one channel, which the daemon opened (invariant 2). A
     * direct path to the proxy would be a second way across the boundary, so there is none; the
     * daemon's replies on the channel pass as the answer to an allowed connection.
     */
    NetworkPolicy networkPolicy(String name) {
        return new NetworkPolicyBuilder()
                .withMetadata(metadata(name, name))
                .withNewSpec()
                .withPodSelector(selector(Map.of(SANDBOX, name)))
                .withPolicyTypes("Ingress", "Egress")
                .addNewIngress()
                .withFrom(daemonPeer())
                .addNewPort()
                .withProtocol("TCP")
                .withPort(new IntOrString(settings.runnerPort()))
                .endPort()
                .endIngress()
                .endSpec()
                .build();
    }

    private NetworkPolicyPeer daemonPeer() {
        if (!settings.daemonSelector().isEmpty()) {
            // Without a namespace selector a pod selector means "in the sandboxes' namespace".
            return new NetworkPolicyPeerBuilder()
                    .withPodSelector(selector(settings.daemonSelector()))
                    .withNamespaceSelector(selector(Map.of("kubernetes.io/metadata.name", settings.daemonNamespace())))
                    .build();
        }
        return new NetworkPolicyPeerBuilder()
                .withNewIpBlock()
                .withCidr(settings.egressProxyIp() + "/32")
                .endIpBlock()
                .build();
    }

    private static LabelSelector selector(Map<String, String> labels) {
        return new LabelSelectorBuilder().withMatchLabels(new TreeMap<>(labels)).build();
    }

    /**
     * The sandbox's pod.
     *
     * @param runtimeClass the RuntimeClass, or null for the cluster default
     * @throws SandboxException if the spec asks for what a pod cannot give: a host path mounted
     *     anywhere but the workspace, or uid 0
     */
    Pod pod(String name, SandboxSpec spec, String runtimeClass) {
        if (spec.uid() <= 0 || spec.gid() <= 0) {
            throw new SandboxException(
                    "sandbox " + spec.id() + ": refusing uid " + spec.uid() + " / gid " + spec.gid() + " (never root)");
        }
        // A pod runs on another machine: no host path can be shown in it. Its workspace is an
        // emptyDir; the runner and the JDK come from the image.
        if (!spec.mounts().isEmpty()) {
            SandboxSpec.Mount mount = spec.mounts().getFirst();
            throw new SandboxException("sandbox " + spec.id() + ": the kubernetes backend cannot show host path "
                    + mount.source() + " at " + mount.target() + " inside a pod; the runner must come from"
                    + " kubernetes.runner_image and the workspace is the pod's own (docs/deploy-kubernetes.md)");
        }
        Limits limits = spec.limits();
        Map<String, Quantity> caps = new TreeMap<>();
        if (limits.memoryBytes() != 0) {
            caps.put("memory", new Quantity(String.valueOf(limits.memoryBytes())));
        }
        if (limits.cpuMillicores() != 0) {
            caps.put("cpu", new Quantity(limits.cpuMillicores() + "m"));
        }
        long uid = spec.uid();
        long gid = spec.gid();
        return new PodBuilder()
                .withMetadata(metadata(name, name))
                .withNewSpec()
                .withRuntimeClassName(runtimeClass)
                .withAutomountServiceAccountToken(false)
                .withEnableServiceLinks(false)
                .withRestartPolicy("Never")
                .withHostname(spec.hostname())
                .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .withRunAsUser(uid)
                .withRunAsGroup(gid)
                .withFsGroup(gid)
                .withNewSeccompProfile()
                .withType("RuntimeDefault")
                .endSeccompProfile()
                .endSecurityContext()
                .addNewContainer()
                .withName(CONTAINER)
                .withImage(settings.runnerImage())
                .withCommand(spec.command())
                .withWorkingDir(spec.workDir())
                .withEnv(env(name, spec))
                .addNewPort()
                .withName("channel")
                .withContainerPort(settings.runnerPort())
                .withProtocol("TCP")
                .endPort()
                .withResources(new ResourceRequirementsBuilder()
                        .withRequests(caps)
                        .withLimits(caps)
                        .build())
                .withNewSecurityContext()
                .withReadOnlyRootFilesystem(true)
                .withAllowPrivilegeEscalation(false)
                .withPrivileged(false)
                .withRunAsNonRoot(true)
                .withRunAsUser(uid)
                .withRunAsGroup(gid)
                .withNewCapabilities()
                .withDrop("ALL")
                .endCapabilities()
                .withNewSeccompProfile()
                .withType("RuntimeDefault")
                .endSeccompProfile()
                .endSecurityContext()
                .addNewVolumeMount()
                .withName("workspace")
                .withMountPath(WORKSPACE)
                .endVolumeMount()
                .addNewVolumeMount()
                .withName("tmp")
                .withMountPath("/tmp")
                .endVolumeMount()
                .endContainer()
                .addNewVolume()
                .withName("workspace")
                .withNewEmptyDir()
                .endEmptyDir()
                .endVolume()
                .addNewVolume()
                .withName("tmp")
                .withNewEmptyDir()
                .withMedium("Memory")
                .withSizeLimit(new Quantity("64Mi"))
                .endEmptyDir()
                .endVolume()
                .endSpec()
                .build();
    }

    /** The spec's environment, the runner's port, and the token by reference to the Secret. */
    private List<EnvVar> env(String name, SandboxSpec spec) {
        List<EnvVar> env = new ArrayList<>();
        new TreeMap<>(spec.env()).forEach((k, v) -> {
            if (k.equals(ChannelToken.ENV) || k.equals(PORT_ENV)) {
                throw new SandboxException("sandbox " + spec.id() + ": environment variable " + k
                        + " is the kubernetes backend's own; the spec must not set it");
            }
            env.add(new EnvVar(k, v, null));
        });
        env.add(new EnvVar(PORT_ENV, String.valueOf(settings.runnerPort()), null));
        env.add(new EnvVarBuilder()
                .withName(ChannelToken.ENV)
                .withNewValueFrom()
                .withNewSecretKeyRef()
                .withName(secretName(name))
                .withKey(TOKEN_KEY)
                .withOptional(false)
                .endSecretKeyRef()
                .endValueFrom()
                .build());
        return env;
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
