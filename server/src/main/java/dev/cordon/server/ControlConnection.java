package dev.cordon.server;

import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.IOException;

/** One {@code cordon} command connected to the control socket. */
final class ControlConnection {
    private final FrameChannel<ControlRequest, ControlEvent> channel;
    private volatile boolean open = true;
    private volatile boolean wantsAllReplies;

    ControlConnection(FrameChannel<ControlRequest, ControlEvent> channel) {
        this.channel = channel;
    }

    /** Sends, or marks the connection closed if the client is gone. Never throws. */
    void send(ControlEvent event) {
        if (!open) {
            return;
        }
        try {
            channel.send(event);
        } catch (IOException | RuntimeException e) {
            close();
        }
    }

    ControlRequest receive() throws IOException {
        return channel.receive();
    }

    /** An interactive chat: it shows (and acknowledges) every reply of the chat, not only its own. */
    boolean wantsAllReplies() {
        return wantsAllReplies && open;
    }

    void wantAllReplies(boolean value) {
        wantsAllReplies = value;
    }

    boolean isOpen() {
        return open;
    }

    void close() {
        open = false;
        try {
            channel.close();
        } catch (IOException e) {
            // already closed
        }
    }
}
