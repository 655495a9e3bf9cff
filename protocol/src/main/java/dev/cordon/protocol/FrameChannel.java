package dev.cordon.protocol;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One side of a framed, typed connection: sends {@code O}, receives {@code I}.
 *
 * <p>{@link #send} is thread-safe (writes are serialized); {@link #receive} must be called from one
 * reader thread. Closing closes both streams.
 */
public final class FrameChannel<I, O> implements Closeable {
    private final InputStream in;
    private final OutputStream out;
    private final Class<I> inType;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Closeable resource;

    public FrameChannel(InputStream in, OutputStream out, Class<I> inType, Closeable resource) {
        this.in = new BufferedInputStream(in, 64 * 1024);
        this.out = new BufferedOutputStream(out, 64 * 1024);
        this.inType = inType;
        this.resource = resource;
    }

    /** Sends one message; blocks while the peer's buffer is full. */
    public void send(O message) throws IOException {
        byte[] payload = Wire.encode(message);
        writeLock.lock();
        try {
            Frames.write(out, payload);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Blocks for the next message.
     *
     * @return the message, or {@code null} when the peer closed the connection cleanly
     * @throws ProtocolException on a malformed frame; the channel should then be closed
     */
    public I receive() throws IOException {
        byte[] payload = Frames.read(in);
        return payload == null ? null : Wire.decode(payload, inType);
    }

    @Override
    public void close() throws IOException {
        resource.close();
    }
}
