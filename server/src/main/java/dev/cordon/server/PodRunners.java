package dev.cordon.server;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.core.sandbox.SandboxSpec.Mount;
import dev.cordon.core.session.RunnerLink;
import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.ProtocolException;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.sandbox.k8s.PodBackend;
import dev.cordon.sandbox.k8s.PodSandbox;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Starts a session's runner in a pod ({@code sandbox.backend: kubernetes}, docs/deploy-kubernetes.md).
 *
 * <p>Unlike a sandbox on this host, a pod is shown nothing of the host: the runner and the JDK come
 * from {@code kubernetes.runner_image}, the workspace is the pod's own, and a spec with a host
 * mount (skills, shares, a policy's {@code mounts}) is refused by the backend, naming the path. The
 * channel is reversed: the runner listens in its pod and the daemon connects with the pod's token
 * ({@link PodSandbox#openChannel}); the runner keeps that one connection and stops listening, which
 * gives the same one-channel-per-sandbox guarantee as the Unix socket (invariant 2). Egress goes
 * through the runner's relay over that channel, as on every backend. No AOT cache: it would have
 * to be built into the image. Thread-safe.
 */
final class PodRunners {
    /** How long a connected runner may take to say Ready (its JVM starts before it listens, so this is short). */
    private static final Duration HELLO_TIMEOUT = Duration.ofSeconds(60);

    private final List<String> jvmFlags;

    PodRunners(List<String> jvmFlags) {
        this.jvmFlags = List.copyOf(jvmFlags);
    }

    /**
     * Starts the pod, opens its channel and waits for the runner's Ready. Blocks up to the backend's
     * ready timeout, then up to the time the runner takes to listen and say Ready.
     *
     * @param env the sandbox's environment as for any backend; what only makes sense on this host
     *     (the Unix socket's path, a PATH that would hide the image's JDK) is left out
     * @throws SandboxException if the pod does not start, cannot be reached or its runner does not say
     *     Ready; the pod is deleted then
     */
    RunnerLink launch(
            PodBackend backend,
            String id,
            int uid,
            Map<String, String> env,
            List<Mount> mounts,
            Limits limits,
            Path log) {
        Map<String, String> podEnv = new HashMap<>(env);
        podEnv.remove("CORDON_SOCKET");
        podEnv.remove("PATH");
        PodSandbox pod = backend.start(new SandboxSpec(
                id, mounts, backend.runnerCommand(jvmFlags), podEnv, uid, uid, "cordon", "/workspace", log, limits));
        try {
            Socket socket = pod.openChannel();
            FrameChannel<RunnerMessage, HostMessage> channel =
                    new FrameChannel<>(socket.getInputStream(), socket.getOutputStream(), RunnerMessage.class, socket);
            socket.setSoTimeout((int) HELLO_TIMEOUT.toMillis());
            RunnerMessage hello = channel.receive();
            if (!(hello instanceof RunnerMessage.Ready)) {
                channel.close();
                throw new SandboxException(
                        hello == null
                                ? "the runner closed the channel before saying Ready (a wrong token is refused this way)"
                                : "the runner sent " + hello + " instead of Ready");
            }
            socket.setSoTimeout(0);
            return new SandboxLink(pod.podName(), pod, channel, () -> {});
        } catch (IOException | ProtocolException | SandboxException e) {
            pod.close();
            throw new SandboxException(
                    "runner in pod " + pod.podName() + " did not start: " + e.getMessage() + " (kubectl logs "
                            + pod.podName() + " shows its output while the pod exists)",
                    e);
        }
    }
}
