package dev.cordon.server;

import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.session.RunnerLink;
import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.RunnerMessage;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A runner that said Ready, in its sandbox, behind its one channel: whatever the backend (a
 * bubblewrap sandbox and its Unix socket, a pod and its TCP connection). Closing it asks the runner
 * to shut down, then stops the sandbox. Thread-safe.
 */
final class SandboxLink implements RunnerLink {
    private final String id;
    private final Sandbox sandbox;
    private final FrameChannel<RunnerMessage, HostMessage> channel;
    /** Removes what the launcher left on the host for this sandbox; runs once the sandbox is gone. */
    private final Runnable cleanup;

    private volatile String closedBecause;

    SandboxLink(String id, Sandbox sandbox, FrameChannel<RunnerMessage, HostMessage> channel, Runnable cleanup) {
        this.id = id;
        this.sandbox = sandbox;
        this.channel = channel;
        this.cleanup = cleanup;
    }

    @Override
    public void send(HostMessage message) throws IOException {
        channel.send(message);
    }

    @Override
    public void sendStreamData(String streamId, byte[] bytes, int off, int len) throws IOException {
        channel.sendStreamData(streamId, bytes, off, len);
    }

    @Override
    public RunnerMessage receive() throws IOException {
        return channel.receive();
    }

    @Override
    public String describeExit() {
        if (closedBecause != null) {
            return closedBecause;
        }
        try {
            Integer status = sandbox.exit().get(2, TimeUnit.SECONDS);
            if (sandbox.oomKilled()) {
                return "sandbox " + id + " was killed: it went over its memory limit";
            }
            long refused = sandbox.usage().map(ResourceUsage::pidsLimitHits).orElse(0L);
            if (refused > 0) {
                return "sandbox " + id + " exited with status " + status + " after reaching its process limit ("
                        + refused + " forks refused; sandbox.pids in the agent's policy.yaml)";
            }
            return "sandbox " + id + " exited with status " + status + (status == 137 ? " (killed)" : "");
        } catch (TimeoutException | ExecutionException e) {
            return "sandbox " + id + " stopped answering";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    @Override
    public boolean stoppedByALimit() {
        return sandbox.oomKilled()
                || sandbox.usage().map(ResourceUsage::pidsLimitHits).orElse(0L) > 0;
    }

    @Override
    public String sandboxId() {
        return id;
    }

    @Override
    public Optional<ResourceUsage> usage() {
        return sandbox.usage();
    }

    @Override
    public synchronized void kill(String reason) {
        if (closedBecause == null) {
            closedBecause = "sandbox " + id + " was killed: " + reason;
        }
        close();
    }

    @Override
    public synchronized void close() {
        if (closedBecause == null) {
            closedBecause = "sandbox " + id + " was stopped by the host";
        }
        try {
            channel.send(new HostMessage.Shutdown("host closed the session"));
        } catch (IOException | RuntimeException e) {
            // already gone
        }
        try {
            channel.close();
        } catch (IOException | RuntimeException e) {
            // already gone
        }
        sandbox.close();
        cleanup.run();
    }
}
