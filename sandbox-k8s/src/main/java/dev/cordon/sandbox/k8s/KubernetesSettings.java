package dev.cordon.sandbox.k8s;

import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.SandboxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The {@code kubernetes:} block of {@code cordon.yaml} (docs/configuration.md,
 * docs/deploy-kubernetes.md): where the daemon puts its sandbox pods and what they may reach.
 *
 * @param namespace where sandbox pods, their secrets and network policies live
 * @param daemonId the value of the {@code cordon.dev/daemon} label on every object this daemon
 *     creates; stable across restarts, so a restarted daemon finds what a crashed one left
 * @param runtimeClasses the RuntimeClass that gives each wall; a wall that is not listed is refused.
 *     {@link #CLUSTER_DEFAULT} means the cluster's default runtime (no {@code runtimeClassName})
 * @param runnerImage the image with the JDK and the runner's jars at {@code /opt/cordon/lib}
 * @param runnerPort the TCP port the runner listens on inside its pod for the daemon's one connection
 * @param egressProxyIp the daemon's IP address ({@code kubernetes.egress_proxy}): the only peer
 *     allowed into a pod. Pods have no egress at all: they reach the proxy through the runner's
 *     channel (docs/deploy-kubernetes.md, "Egress from pods")
 * @param egressProxyPort the proxy's port there; only {@code deploy/kubernetes/escape-suite.sh}
 *     uses it, to check that a pod cannot reach the proxy directly
 * @param daemonSelector labels of the daemon's own pods; when not empty, the network policy names the
 *     daemon by these labels (in {@code daemonNamespace}) instead of by {@code egressProxyIp}, which
 *     is what an in-cluster daemon needs (pod IPs change when it restarts)
 * @param daemonNamespace the namespace of the daemon's pods, for {@code daemonSelector}
 * @param readyTimeout how long a new pod may take to become Ready (image pull included)
 * @param runnerCommand the runner's command in the image; empty: {@code java} with the daemon's
 *     runner flags and the jars at {@code /opt/cordon/lib} ({@link PodBackend#runnerCommand})
 */
public record KubernetesSettings(
        String namespace,
        String daemonId,
        Map<Isolation, String> runtimeClasses,
        String runnerImage,
        int runnerPort,
        String egressProxyIp,
        int egressProxyPort,
        Map<String, String> daemonSelector,
        String daemonNamespace,
        Duration readyTimeout,
        List<String> runnerCommand) {

    /** A {@code runtime_classes} value meaning: the cluster's default runtime, no RuntimeClass. */
    public static final String CLUSTER_DEFAULT = "default";

    static final Set<String> KEYS = Set.of(
            "namespace",
            "daemon_id",
            "runtime_classes",
            "runner_image",
            "runner_port",
            "egress_proxy",
            "daemon_selector",
            "daemon_namespace",
            "ready_timeout_seconds",
            "runner_command");

    /** RFC 1123 label: namespaces, RuntimeClass names, label values we write. */
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    private static final Pattern IPV4 =
            Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

    public KubernetesSettings {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(daemonId, "daemonId");
        runtimeClasses = Map.copyOf(runtimeClasses);
        Objects.requireNonNull(runnerImage, "runnerImage");
        Objects.requireNonNull(egressProxyIp, "egressProxyIp");
        daemonSelector = Map.copyOf(daemonSelector);
        Objects.requireNonNull(daemonNamespace, "daemonNamespace");
        Objects.requireNonNull(readyTimeout, "readyTimeout");
        runnerCommand = List.copyOf(runnerCommand);
    }

    /**
     * Reads the block as parsed from YAML (maps, lists, strings and numbers).
     *
     * @param where the file, for messages
     * @param block the value of {@code kubernetes:}; null when the file has none
     * @throws SandboxException naming {@code where}, the key ({@code kubernetes.runner_image}) and
     *     what is wrong
     */
    public static KubernetesSettings parse(String where, Map<String, ?> block) {
        if (block == null) {
            throw new SandboxException(where + ": sandbox.backend is kubernetes but there is no kubernetes: block"
                    + " (docs/deploy-kubernetes.md)");
        }
        Fields f = new Fields(where);
        f.onlyKeys("kubernetes", block, KEYS);
        String namespace = f.label("kubernetes.namespace", block.get("namespace"), "cordon-sandboxes");
        String daemonId = f.label("kubernetes.daemon_id", block.get("daemon_id"), "cordon");
        Map<Isolation, String> classes = runtimeClasses(f, block.get("runtime_classes"));
        String image = f.text("kubernetes.runner_image", block.get("runner_image"), null);
        if (image == null) {
            throw f.error("kubernetes.runner_image", "is required: the image with the JDK and the runner's jars");
        }
        if (image.chars().anyMatch(Character::isWhitespace)) {
            throw f.error("kubernetes.runner_image", "must be an image reference without spaces, got '" + image + "'");
        }
        int port = f.integer("kubernetes.runner_port", block.get("runner_port"), 7070, 1, 65_535);
        String proxy = f.text("kubernetes.egress_proxy", block.get("egress_proxy"), null);
        if (proxy == null) {
            throw f.error(
                    "kubernetes.egress_proxy", "is required: IP:port of the daemon's egress proxy, e.g. 10.0.0.5:3128");
        }
        int colon = proxy.lastIndexOf(':');
        String ip = colon < 0 ? proxy : proxy.substring(0, colon);
        if (colon < 0 || !IPV4.matcher(ip).matches()) {
            throw f.error(
                    "kubernetes.egress_proxy",
                    "must be IPv4:port (a network policy allows an address, not a name), got '" + proxy + "'");
        }
        int proxyPort = f.integer("kubernetes.egress_proxy", proxy.substring(colon + 1), 0, 1, 65_535);
        Map<String, String> selector = f.labels("kubernetes.daemon_selector", block.get("daemon_selector"));
        String daemonNamespace = f.label("kubernetes.daemon_namespace", block.get("daemon_namespace"), namespace);
        int ready = f.integer("kubernetes.ready_timeout_seconds", block.get("ready_timeout_seconds"), 120, 1, 3600);
        List<String> command = f.strings("kubernetes.runner_command", block.get("runner_command"));
        return new KubernetesSettings(
                namespace,
                daemonId,
                classes,
                image,
                port,
                ip,
                proxyPort,
                selector,
                daemonNamespace,
                Duration.ofSeconds(ready),
                command);
    }

    /**
     * The RuntimeClass for {@code wall}: empty for the cluster default.
     *
     * @throws SandboxException if no runtime class is configured for that wall, naming the key to set
     */
    public java.util.Optional<String> runtimeClassFor(Isolation wall) {
        String name = runtimeClasses.get(wall);
        if (name == null) {
            throw new SandboxException("the kubernetes backend has no RuntimeClass for isolation " + lower(wall)
                    + ": set kubernetes.runtime_classes." + lower(wall) + " in cordon.yaml to a RuntimeClass"
                    + " of your cluster that gives that wall (configured: " + describeClasses() + ")");
        }
        return name.equals(CLUSTER_DEFAULT) ? java.util.Optional.empty() : java.util.Optional.of(name);
    }

    /** The configured walls and their classes, e.g. {@code gvisor=gvisor, vm=kata}. */
    public String describeClasses() {
        if (runtimeClasses.isEmpty()) {
            return "none";
        }
        Map<Isolation, String> sorted = new EnumMap<>(runtimeClasses);
        StringBuilder out = new StringBuilder();
        sorted.forEach((k, v) -> out.append(out.isEmpty() ? "" : ", ")
                .append(lower(k))
                .append('=')
                .append(v));
        return out.toString();
    }

    static String lower(Isolation wall) {
        return wall.name().toLowerCase(Locale.ROOT);
    }

    private static Map<Isolation, String> runtimeClasses(Fields f, Object value) {
        String key = "kubernetes.runtime_classes";
        if (value == null) {
            throw f.error(
                    key,
                    "is required: the RuntimeClass for each wall you allow, e.g. {gvisor: gvisor, vm: kata}"
                            + " (container: default means the cluster's default runtime)");
        }
        Map<String, ?> map = f.map(key, value);
        Map<Isolation, String> classes = new EnumMap<>(Isolation.class);
        for (var entry : new TreeMap<>(map).entrySet()) {
            Isolation wall;
            try {
                wall = Isolation.valueOf(entry.getKey().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw f.error(key + "." + entry.getKey(), "is not a wall (known: container, gvisor, vm)");
            }
            classes.put(wall, f.label(key + "." + entry.getKey(), entry.getValue(), null));
        }
        if (classes.isEmpty()) {
            throw f.error(key, "must name at least one wall, e.g. {gvisor: gvisor}");
        }
        return classes;
    }

    /** Typed reads of YAML values with errors naming the file and the key. */
    private record Fields(String where) {
        SandboxException error(String key, String what) {
            return new SandboxException(where + ": " + key + " " + what);
        }

        void onlyKeys(String key, Map<String, ?> map, Set<String> known) {
            for (String k : map.keySet()) {
                if (!known.contains(k)) {
                    throw new SandboxException(where + ": unknown field '" + key + "." + k + "' (known: "
                            + String.join(", ", new java.util.TreeSet<>(known)) + ")");
                }
            }
        }

        @SuppressWarnings("unchecked")
        Map<String, ?> map(String key, Object value) {
            if (!(value instanceof Map<?, ?> m)) {
                throw error(key, "must be a mapping, got '" + value + "'");
            }
            return (Map<String, ?>) m;
        }

        String text(String key, Object value, String fallback) {
            if (value == null) {
                return fallback;
            }
            if (value instanceof Map<?, ?> || value instanceof Iterable<?>) {
                throw error(key, "must be a string");
            }
            String s = value.toString().strip();
            return s.isEmpty() ? fallback : s;
        }

        String label(String key, Object value, String fallback) {
            String s = text(key, value, fallback);
            if (s == null) {
                throw error(key, "is required");
            }
            if (!DNS_LABEL.matcher(s).matches()) {
                throw error(
                        key, "must be a DNS label (lower-case letters, digits and '-', at most 63), got '" + s + "'");
            }
            return s;
        }

        int integer(String key, Object value, int fallback, int min, int max) {
            if (value == null) {
                return fallback;
            }
            long n;
            try {
                n = value instanceof Number num
                        ? num.longValue()
                        : Long.parseLong(value.toString().strip());
            } catch (NumberFormatException e) {
                n = Long.MIN_VALUE;
            }
            if (n < min || n > max || (value instanceof Number num && num.doubleValue() != n)) {
                throw error(key, "must be a whole number from " + min + " to " + max + ", got '" + value + "'");
            }
            return (int) n;
        }

        /** A list of non-blank strings; absent means empty. */
        List<String> strings(String key, Object value) {
            if (value == null) {
                return List.of();
            }
            if (!(value instanceof List<?> list) || list.isEmpty()) {
                throw error(
                        key,
                        "must be a non-empty list of strings, e.g. [java, -cp, '/opt/cordon/lib/*',"
                                + " dev.cordon.runner.Main], got '" + value + "'");
            }
            List<String> out = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                Object item = list.get(i);
                if (item == null
                        || item instanceof Map<?, ?>
                        || item instanceof Iterable<?>
                        || item.toString().isBlank()) {
                    throw error(key + "[" + i + "]", "must be a non-blank string, got '" + item + "'");
                }
                out.add(item.toString());
            }
            return out;
        }

        Map<String, String> labels(String key, Object value) {
            if (value == null) {
                return Map.of();
            }
            Map<String, String> labels = new TreeMap<>();
            map(key, value).forEach((k, v) -> labels.put(k, label(key + "." + k, v, null)));
            return labels;
        }
    }
}
