package dev.cordon.server;

import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.session.RunnerLink;
import dev.cordon.protocol.RunnerMessage;
import java.io.InterruptedIOException;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The host's end of a runner a test plays, in place of a sandbox: what the runner says to the host
 * is queued by {@link #say}; killing or closing it ends what the host reads. Subclasses answer
 * what the host sends ({@link #send}).
 */
abstract class QueuedRunnerLink implements RunnerLink {
    /** Empty: the runner is gone. */
    private final BlockingQueue<Optional<RunnerMessage>> toHost = new LinkedBlockingQueue<>();

    volatile String killedBecause;
    volatile boolean closed;

    /** The runner says {@code message} to the host. */
    void say(RunnerMessage message) {
        toHost.add(Optional.of(message));
    }

    @Override
    public RunnerMessage receive() throws InterruptedIOException {
        try {
            return toHost.take().orElse(null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException();
        }
    }

    @Override
    public String describeExit() {
        return killedBecause == null ? "exited" : killedBecause;
    }

    @Override
    public String sandboxId() {
        return "fake-1";
    }

    @Override
    public Optional<ResourceUsage> usage() {
        return Optional.empty();
    }

    @Override
    public void kill(String reason) {
        if (killedBecause == null) {
            killedBecause = reason;
        }
        close();
    }

    @Override
    public void close() {
        closed = true;
        toHost.add(Optional.empty());
    }
}
