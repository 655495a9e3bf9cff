package dev.cordon.sandbox.k8s;

import dev.cordon.protocol.ChannelToken;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One sandbox pod. Its end is seen through a watch on the pod, not by polling; {@link #close}
 * deletes the pod, its network policy and its secret, and waits until the pod is gone.
 */
final class RunningPod implements PodSandbox {
    /** What {@link #exit} completes with when the pod is deleted before its runner exits: SIGKILL. */
    static final int KILLED = 137;

    private static final int CONNECT_TIMEOUT_MS = 5_000;

    private final KubernetesClient client;
    private final KubernetesSettings settings;
    private final String name;
    private final String token;
    private final String podIp;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final Watch watch;
    private volatile boolean oomKilled;
    private boolean closed;

    RunningPod(KubernetesClient client, KubernetesSettings settings, String name, String token, Pod ready) {
        this.client = client;
        this.settings = settings;
        this.name = name;
        this.token = token;
        this.podIp = ready.getStatus().getPodIP();
        this.watch = client.pods()
                .inNamespace(settings.namespace())
                .withName(name)
                .watch(new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, Pod pod) {
                        if (action == Action.DELETED) {
                            exit.complete(KILLED);
                        } else {
                            observe(pod);
                        }
                    }

                    @Override
                    public void onClose(WatcherException cause) {
                        // The watch broke (API server restart): look once; close() still completes exit.
                        recheck();
                    }
                });
        // The pod may have ended between Ready and the watch.
        recheck();
    }

    private void recheck() {
        try {
            Pod now = client.pods()
                    .inNamespace(settings.namespace())
                    .withName(name)
                    .get();
            if (now == null) {
                exit.complete(KILLED);
            } else {
                observe(now);
            }
        } catch (KubernetesClientException e) {
            // the cluster is unreachable: exit stays open until close()
        }
    }

    private void observe(Pod pod) {
        if (!PodStates.finished(pod)) {
            return;
        }
        ContainerStateTerminated end = PodStates.terminated(pod).orElse(null);
        if (end != null && "OOMKilled".equals(end.getReason())) {
            oomKilled = true;
        }
        exit.complete(end == null || end.getExitCode() == null ? KILLED : end.getExitCode());
    }

    @Override
    public String id() {
        return name;
    }

    @Override
    public String podName() {
        return name;
    }

    @Override
    public CompletableFuture<Integer> exit() {
        return exit;
    }

    @Override
    public boolean oomKilled() {
        return oomKilled;
    }

    @Override
    public Socket openChannel() throws IOException {
        long deadline = System.nanoTime() + settings.readyTimeout().toNanos();
        while (true) {
            Socket socket = new Socket();
            try {
                socket.connect(new InetSocketAddress(podIp, settings.runnerPort()), CONNECT_TIMEOUT_MS);
                ChannelToken.present(socket.getOutputStream(), token);
                return socket;
            } catch (ConnectException e) {
                socket.close();
                // Ready means the container started; the JVM may not listen yet.
                if (System.nanoTime() > deadline || exit.isDone()) {
                    throw new IOException("runner in pod " + name + " (" + podIp + ":" + settings.runnerPort()
                            + ") does not accept connections: " + e.getMessage());
                }
                sleep();
            } catch (IOException e) {
                socket.close();
                throw e;
            }
        }
    }

    private static void sleep() throws IOException {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        watch.close();
        delete(client, settings.namespace(), name);
        exit.complete(KILLED);
    }

    /**
     * Deletes sandbox {@code name}'s pod (no grace: it is cattle), then its network policy and its
     * secret, and waits up to 30 s for the pod to be gone. Never throws: what it cannot delete now,
     * the next daemon start reclaims ({@link PodFleet#reclaimOrphans}).
     */
    static void delete(KubernetesClient client, String namespace, String name) {
        try {
            var pod = client.pods().inNamespace(namespace).withName(name);
            pod.withGracePeriod(0).delete();
            pod.waitUntilCondition(p -> p == null, 30, TimeUnit.SECONDS);
        } catch (KubernetesClientException e) {
            // left for reclaimOrphans
        }
        try {
            client.network()
                    .v1()
                    .networkPolicies()
                    .inNamespace(namespace)
                    .withName(name)
                    .delete();
            client.secrets()
                    .inNamespace(namespace)
                    .withName(PodSpecs.secretName(name))
                    .delete();
        } catch (KubernetesClientException e) {
            // left for reclaimOrphans
        }
    }
}
