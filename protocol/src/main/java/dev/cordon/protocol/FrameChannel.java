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
 * <p>Stream data ({@link RunnerMessage.StreamData}, {@link HostMessage.StreamData}) travels as a
 * binary frame ({@link Frames}), everything else as JSON; {@link #receive} turns either back into
 * the message. A binary frame on a channel whose messages have no stream data (the control
 * socket) is a {@link ProtocolException}.
 *
 * <p>{@link #send} is thread-safe (writes are serialized); {@link #receive} must be called from one
 * reader thread. Closing closes both streams.
 */
public final class FrameChannel<I, O> implements Closeable {
    /**
     * Room for a JSON frame of up to a chunk with its header: one write per frame. Stream data of
     * {@link #UNBUFFERED_PAYLOAD} bytes or more skips the buffer (its head is flushed, then it).
     */
    private static final int OUT_BUFFER = StreamMux.CHUNK + 64;

    /**
     * From this many bytes a stream data payload is written from the caller's array as it is, after
     * its head, instead of copied into the buffer first: a second system call is cheaper than a
     * copy of this size, and a download pays that copy on every byte.
     */
    static final int UNBUFFERED_PAYLOAD = 64 * 1024;

    private final InputStream in;
    private final OutputStream out;
    private final OutputStream raw;
    private final Class<I> inType;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Closeable resource;

    public FrameChannel(InputStream in, OutputStream out, Class<I> inType, Closeable resource) {
        this.in = new BufferedInputStream(in, 64 * 1024);
        this.out = new BufferedOutputStream(out, OUT_BUFFER);
        this.raw = out;
        this.inType = inType;
        this.resource = resource;
    }

    /** Sends one message; blocks while the peer's buffer is full. */
    public void send(O message) throws IOException {
        switch (message) {
            case RunnerMessage.StreamData d -> sendData(d.streamId(), d.data());
            case HostMessage.StreamData d -> sendData(d.streamId(), d.data());
            default -> {
                byte[] payload = Wire.encode(message);
                writeLock.lock();
                try {
                    Frames.write(out, payload);
                } finally {
                    writeLock.unlock();
                }
            }
        }
    }

    private void sendData(String streamId, byte[] bytes) throws IOException {
        sendStreamData(streamId, bytes, 0, bytes.length);
    }

    /**
     * Sends {@code len} bytes of {@code bytes} from {@code off} as a stream data frame, as {@link
     * #send} does a {@code StreamData} message, without copying them first. The array is not kept:
     * the caller may reuse it once this returns. Thread-safe.
     */
    public void sendStreamData(String streamId, byte[] bytes, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, bytes.length);
        byte[] head = Frames.streamDataHead(streamId, len);
        writeLock.lock();
        try {
            out.write(head);
            if (len >= UNBUFFERED_PAYLOAD) {
                out.flush();
                raw.write(bytes, off, len);
                raw.flush();
            } else {
                out.write(bytes, off, len);
                out.flush();
            }
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
        return switch (Frames.readFrame(in)) {
            case null -> null;
            case Frames.Frame.Json j -> Wire.decode(j.payload(), inType);
            case Frames.Frame.StreamData d -> streamData(d);
        };
    }

    private I streamData(Frames.Frame.StreamData d) {
        Object message;
        if (inType == RunnerMessage.class) {
            message = new RunnerMessage.StreamData(d.streamId(), d.bytes());
        } else if (inType == HostMessage.class) {
            message = new HostMessage.StreamData(d.streamId(), d.bytes());
        } else {
            throw new ProtocolException("stream data frame on a " + inType.getSimpleName() + " channel");
        }
        return inType.cast(message);
    }

    @Override
    public void close() throws IOException {
        resource.close();
    }
}
