package dev.cordon.core.session;

import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.RunnerMessage;
import java.io.IOException;
import java.util.Optional;

/** The host's end of one sandbox's channel, after the runner said Ready. */
public interface RunnerLink extends AutoCloseable {
    /** Thread-safe. */
    void send(HostMessage message) throws IOException;

    /**
     * Sends {@code len} bytes of {@code bytes} from {@code off} as a {@code StreamData} message.
     * The array is the caller's again once this returns; a link that writes synchronously sends it
     * without the copy this default makes. Thread-safe.
     */
    default void sendStreamData(String streamId, byte[] bytes, int off, int len) throws IOException {
        send(new HostMessage.StreamData(streamId, java.util.Arrays.copyOfRange(bytes, off, off + len)));
    }

    /** Blocks for the next message; {@code null} when the runner is gone. One reader thread only. */
    RunnerMessage receive() throws IOException;

    /** Words for the user when the runner is gone: exit status, or why it was killed. */
    String describeExit();

    /**
     * Whether the sandbox was stopped by one of the agent's own limits (out of memory, the process
     * limit): the same turn would run into it again. Meaningful once the runner is gone.
     */
    default boolean stoppedByALimit() {
        return false;
    }

    /** The sandbox's id, for status and logs. */
    String sandboxId();

    /** What the runner's sandbox has consumed so far; empty when its backend cannot tell. Never blocks for long. */
    Optional<ResourceUsage> usage();

    /**
     * Stops the runner and destroys its sandbox, as {@link #close()} does, and makes {@link
     * #describeExit()} say {@code reason}. Idempotent (the first reason wins); never throws.
     */
    void kill(String reason);

    /** Stops the runner and destroys its sandbox. Idempotent; never throws. */
    @Override
    void close();
}
