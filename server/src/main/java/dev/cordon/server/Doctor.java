package dev.cordon.server;

import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.doctor.HostDoctor;
import dev.cordon.sandbox.k8s.Kubernetes;
import dev.cordon.sandbox.k8s.KubernetesSettings;
import dev.cordon.sandbox.k8s.PodFleet;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** {@code cordon doctor}: what this host supports for sandboxing, and how to fix what is missing. */
final class Doctor {
    private Doctor() {}

    /** Prints the report; returns 0 when nothing required is missing, else 1. */
    static int print(PrintStream out, Path home) {
        List<HostDoctor.Check> checks = new ArrayList<>();
        checks.add(config(home, System.getenv()));
        checks.addAll(HostDoctor.run());
        checks.add(kubernetes(home.resolve("cordon.yaml"), Kubernetes::connect));
        out.print(HostDoctor.render(checks));
        return checks.stream().anyMatch(c -> c.status() == HostDoctor.Status.MISSING) ? 1 : 0;
    }

    /** Whether the daemon would take {@code home}'s cordon.yaml; MISSING names every mistake in it. */
    static HostDoctor.Check config(Path home, Map<String, String> env) {
        Path file = home.resolve("cordon.yaml");
        try {
            Config.loadChecked(home, env);
        } catch (ConfigException e) {
            return new HostDoctor.Check(
                    "config", HostDoctor.Status.MISSING, e.getMessage(), "correct it (docs/configuration.md)");
        }
        return new HostDoctor.Check(
                "config",
                HostDoctor.Status.OK,
                Files.exists(file) ? file + " is valid" : "no " + file + ": defaults",
                "");
    }

    /**
     * Whether a cluster is configured ({@code sandbox.backend: kubernetes}) and answers. Never throws:
     * a bad file or an unreachable cluster is a MISSING check naming what failed.
     */
    static HostDoctor.Check kubernetes(Path file, Function<KubernetesSettings, PodFleet> connect) {
        KubernetesSettings settings;
        try {
            settings = KubernetesChoice.load(file, System.getenv());
        } catch (ConfigException e) {
            return new HostDoctor.Check("kubernetes", HostDoctor.Status.MISSING, e.getMessage(), "fix cordon.yaml");
        }
        if (settings == null) {
            return new HostDoctor.Check(
                    "kubernetes", HostDoctor.Status.OK, "not configured (sandboxes run on this host)", "");
        }
        try (PodFleet fleet = connect.apply(settings)) {
            return new HostDoctor.Check("kubernetes", HostDoctor.Status.OK, fleet.probe(), "");
        } catch (SandboxException e) {
            return new HostDoctor.Check(
                    "kubernetes",
                    HostDoctor.Status.MISSING,
                    e.getMessage(),
                    "check $KUBECONFIG or the daemon's service account (docs/deploy-kubernetes.md)");
        }
    }
}
