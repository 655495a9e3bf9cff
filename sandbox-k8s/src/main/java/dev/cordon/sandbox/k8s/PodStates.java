package dev.cordon.sandbox.k8s;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** Reading a pod's status: Ready, finished, its exit, and a one-line diagnosis for errors. */
final class PodStates {
    private PodStates() {}

    static boolean ready(Pod pod) {
        return pod.getStatus() != null
                && pod.getStatus().getPodIP() != null
                && conditions(pod).stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    static boolean finished(Pod pod) {
        String phase = phase(pod);
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    static String phase(Pod pod) {
        return pod.getStatus() == null ? null : pod.getStatus().getPhase();
    }

    /** The runner container's end, once it has one. */
    static Optional<ContainerStateTerminated> terminated(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return Optional.empty();
        }
        return pod.getStatus().getContainerStatuses().stream()
                .filter(s -> PodSpecs.CONTAINER.equals(s.getName()))
                .map(ContainerStatus::getState)
                .filter(Objects::nonNull)
                .map(s -> s.getTerminated())
                .filter(Objects::nonNull)
                .findFirst();
    }

    /** Phase, last condition, waiting or terminated reason, and the pod's latest event. */
    static String describe(KubernetesClient client, String namespace, Pod pod, String name) {
        if (pod == null) {
            return "the pod no longer exists";
        }
        StringBuilder out = new StringBuilder("phase ").append(Objects.requireNonNullElse(phase(pod), "unknown"));
        conditions(pod).stream()
                .max(Comparator.comparing(c -> Objects.requireNonNullElse(c.getLastTransitionTime(), "")))
                .ifPresent(c -> out.append("; last condition ")
                        .append(c.getType())
                        .append('=')
                        .append(c.getStatus())
                        .append(c.getReason() == null ? "" : " (" + c.getReason() + ")")
                        .append(c.getMessage() == null ? "" : ": " + c.getMessage()));
        if (pod.getStatus() != null && pod.getStatus().getContainerStatuses() != null) {
            for (ContainerStatus s : pod.getStatus().getContainerStatuses()) {
                if (s.getState() != null && s.getState().getWaiting() != null) {
                    out.append("; container ")
                            .append(s.getName())
                            .append(" waiting: ")
                            .append(s.getState().getWaiting().getReason());
                }
            }
        }
        terminated(pod)
                .ifPresent(t -> out.append("; runner exited with ")
                        .append(t.getExitCode())
                        .append(t.getReason() == null ? "" : " (" + t.getReason() + ")"));
        lastEvent(client, namespace, name)
                .ifPresent(e -> out.append("; last event: ")
                        .append(e.getReason())
                        .append(": ")
                        .append(e.getMessage()));
        return out.toString();
    }

    private static List<PodCondition> conditions(Pod pod) {
        return pod.getStatus() == null || pod.getStatus().getConditions() == null
                ? List.of()
                : pod.getStatus().getConditions();
    }

    private static Optional<Event> lastEvent(KubernetesClient client, String namespace, String name) {
        try {
            return client.v1().events().inNamespace(namespace).list().getItems().stream()
                    .filter(e -> e.getInvolvedObject() != null
                            && "Pod".equals(e.getInvolvedObject().getKind())
                            && name.equals(e.getInvolvedObject().getName()))
                    .max(Comparator.comparing(PodStates::eventTime));
        } catch (KubernetesClientException e) {
            return Optional.empty();
        }
    }

    private static String eventTime(Event e) {
        return Objects.requireNonNullElse(
                e.getLastTimestamp(), Objects.requireNonNullElse(e.getMetadata().getCreationTimestamp(), ""));
    }
}
