package dev.cordon.core.session;

import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.RunnerMessage;
import java.io.IOException;

/** The host's end of one sandbox's channel, after the runner said Ready. */
public interface RunnerLink extends AutoCloseable {
    /** Thread-safe. */
    void send(HostMessage message) throws IOException;

    /** Blocks for the next message; {@code null} when the runner is gone. One reader thread only. */
    RunnerMessage receive() throws IOException;

    /** Words for the user when the runner is gone: exit status, or why it was killed. */
    String describeExit();

    /** Stops the runner and destroys its sandbox. Idempotent; never throws. */
    @Override
    void close();
}
