package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.Sandboxes;
import dev.cordon.sandbox.vm.Vm;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Picks each agent's sandbox backend from its policy ({@code sandbox.backend}, {@code
 * sandbox.isolation}) among those this host can run, and refuses, naming the rule and what to do,
 * when none fits. Backends are built on first use and kept for the daemon's life.
 *
 * <p>Thread-safe.
 */
final class SandboxBackends {
    private final SandboxBackend fallback;
    private final Predicate<String> usable;
    private final Function<String, SandboxBackend> build;
    private final Map<String, SandboxBackend> built = new ConcurrentHashMap<>();
    /** The cluster's backend for a required wall, when cordon.yaml says sandbox.backend: kubernetes; else null. */
    private final Function<Isolation, SandboxBackend> pods;

    /** The host's backends: {@code fallback} (the default) plus whatever {@link Sandboxes} can build here. */
    SandboxBackends(SandboxBackend fallback) {
        this(fallback, Sandboxes::usable, Sandboxes::named, null);
    }

    /**
     * @param pods when not null, every agent whose policy names no backend runs in a pod, under the
     *     RuntimeClass this picks for its policy's {@code sandbox.isolation} (docs/deploy-kubernetes.md)
     */
    SandboxBackends(
            SandboxBackend fallback,
            Predicate<String> usable,
            Function<String, SandboxBackend> build,
            Function<Isolation, SandboxBackend> pods) {
        this.fallback = fallback;
        this.usable = usable;
        this.build = build;
        this.pods = pods;
        built.put(fallback.name(), fallback);
    }

    /**
     * The backend for {@code agent}'s {@code policy}: the named one, else the daemon's default if
     * its wall is strong enough, else the weakest usable wall that is.
     *
     * @throws SandboxException if the named backend cannot run here or no usable backend has the wall
     *     the policy requires; the message names the agent, the policy field and the fix
     */
    SandboxBackend forPolicy(AgentName agent, AgentPolicy.Sandbox policy) {
        if (policy.image() != null) {
            return onImage(agent, policy.image());
        }
        if (policy.backend() != null) {
            String name = policy.backend();
            if (!built.containsKey(name) && !usable.test(name)) {
                throw new SandboxException("agent " + agent.value() + " must run in sandbox backend " + name
                        + " (sandbox.backend in its policy.yaml), which cannot run on this host: "
                        + why(name) + ". Run ./cordon doctor, or change the policy (docs/isolation.md)");
            }
            return built.computeIfAbsent(name, build);
        }
        Isolation required = policy.isolation();
        if (pods != null) {
            try {
                return pods.apply(required);
            } catch (SandboxException e) {
                throw new SandboxException("agent " + agent.value() + ": " + e.getMessage(), e);
            }
        }
        if (required == null || fallback.isolation().satisfies(required)) {
            return fallback;
        }
        for (String name : Sandboxes.NAMES) {
            if (Sandboxes.isolation(name).satisfies(required) && (built.containsKey(name) || usable.test(name))) {
                return built.computeIfAbsent(name, build);
            }
        }
        List<String> here = Sandboxes.NAMES.stream()
                .filter(n -> built.containsKey(n) || usable.test(n))
                .map(n -> n + " (" + lower(Sandboxes.isolation(n)) + ")")
                .toList();
        throw new SandboxException("agent " + agent.value() + " requires isolation " + lower(required)
                + " (sandbox.isolation in its policy.yaml), and no sandbox backend on this host gives it; usable here: "
                + String.join(", ", here)
                + (required == Isolation.VM
                        ? ". Install the microVM backend's parts (apt-get install " + Vm.PACKAGES
                                + "); ./cordon doctor says what is missing (docs/isolation.md)"
                        : ". Install runsc (apt-get install runsc) and run cordon as root; ./cordon doctor says more"));
    }

    /** The podman backend on {@code image} (the policy parser has checked that its backend is podman). */
    private SandboxBackend onImage(AgentName agent, String image) {
        String key = "podman image " + image;
        SandboxBackend known = built.get(key);
        if (known != null) {
            return known;
        }
        if (!usable.test("podman")) {
            throw new SandboxException("agent " + agent.value() + " must run in podman on image " + image
                    + " (sandbox.image in its policy.yaml), which cannot run on this host: " + why("podman")
                    + ". Run ./cordon doctor, or change the policy (docs/isolation.md)");
        }
        try {
            // Not computeIfAbsent: a missing image throws, and must be looked for again next time.
            SandboxBackend backend = Sandboxes.podman(image);
            SandboxBackend raced = built.putIfAbsent(key, backend);
            return raced == null ? backend : raced;
        } catch (SandboxException e) {
            throw new SandboxException("agent " + agent.value() + ": " + e.getMessage(), e);
        }
    }

    private static String why(String name) {
        return switch (name) {
            case "bubblewrap" -> "bwrap is not installed (apt-get install bubblewrap)";
            case "vm" -> "QEMU, a kernel, busybox-static or socat is missing (apt-get install " + Vm.PACKAGES + ")";
            default -> name + " is not installed (apt-get install " + name + ") or the daemon does not run as root";
        };
    }

    private static String lower(Isolation isolation) {
        return isolation.name().toLowerCase(Locale.ROOT);
    }
}
