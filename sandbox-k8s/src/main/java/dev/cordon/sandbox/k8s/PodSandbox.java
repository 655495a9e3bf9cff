package dev.cordon.sandbox.k8s;

import dev.cordon.core.sandbox.Sandbox;
import java.io.IOException;
import java.net.Socket;

/** A sandbox that is a pod: its runner is reached over TCP with the pod's token. Thread-safe. */
public interface PodSandbox extends Sandbox {
    /** The pod's name in {@link KubernetesSettings#namespace()}. */
    String podName();

    /**
     * Opens the runner's channel: connects to the pod's IP on {@link KubernetesSettings#runnerPort()}
     * and presents the pod's token ({@link dev.cordon.protocol.ChannelToken}). The runner accepts
     * one such connection; call this once. Blocks until connected.
     *
     * @throws IOException if the pod cannot be reached
     */
    Socket openChannel() throws IOException;
}
