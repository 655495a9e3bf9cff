package dev.cordon.server;

import dev.cordon.protocol.FrameChannel;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.IOException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One {@code cordon} command connected to the control socket. Sends from any thread; {@link
 * #inOrder} keeps an answer ahead of whatever other threads send about what it answers.
 */
final class ControlConnection {
    private final FrameChannel<ControlRequest, ControlEvent> channel;
    private final ReentrantLock sending = new ReentrantLock();
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
        sending.lock();
        try {
            channel.send(event);
        } catch (IOException | RuntimeException e) {
            close();
        } finally {
            sending.unlock();
        }
    }

    /**
     * Runs {@code work}, which ends by sending its answer, while other threads' sends to this
     * connection wait: a message's Accepted is sent before its session's first Delta or Reply,
     * which may be ready sooner (the session is woken while the Accepted waits for its audit entry
     * to be synced).
     */
    void inOrder(Runnable work) {
        sending.lock();
        try {
            work.run();
        } finally {
            sending.unlock();
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
