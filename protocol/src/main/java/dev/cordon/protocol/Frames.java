package dev.cordon.protocol;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Length-prefixed frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
 *
 * <p>The length is checked before any allocation so a hostile peer cannot make the host allocate
 * more than {@link #MAX_FRAME} bytes. Not thread-safe: callers serialize writes per stream.
 */
public final class Frames {
    /** Largest frame either side accepts (16 MiB). */
    public static final int MAX_FRAME = 16 * 1024 * 1024;

    private Frames() {}

    /** Writes one frame and flushes. */
    public static void write(OutputStream out, byte[] payload) throws IOException {
        if (payload.length > MAX_FRAME) {
            throw new ProtocolException("frame of " + payload.length + " bytes exceeds the limit of " + MAX_FRAME);
        }
        byte[] header = {
            (byte) (payload.length >>> 24),
            (byte) (payload.length >>> 16),
            (byte) (payload.length >>> 8),
            (byte) payload.length
        };
        out.write(header);
        out.write(payload);
        out.flush();
    }

    /**
     * Reads one frame; blocks until it is complete.
     *
     * @return the payload, or {@code null} on a clean end of stream before a frame starts
     * @throws ProtocolException if the length is negative or over the limit, or the stream ends mid-frame
     */
    public static byte[] read(InputStream in) throws IOException {
        DataInputStream data = in instanceof DataInputStream d ? d : new DataInputStream(in);
        int first = data.read();
        if (first < 0) {
            return null;
        }
        int length;
        try {
            length = (first << 24)
                    | (data.readUnsignedByte() << 16)
                    | (data.readUnsignedByte() << 8)
                    | data.readUnsignedByte();
        } catch (EOFException e) {
            throw new ProtocolException("stream ended inside a frame header", e);
        }
        if (length < 0 || length > MAX_FRAME) {
            throw new ProtocolException(
                    "frame length " + Integer.toUnsignedString(length) + " is outside 0.." + MAX_FRAME);
        }
        byte[] payload = new byte[length];
        try {
            data.readFully(payload);
        } catch (EOFException e) {
            throw new ProtocolException("stream ended inside a frame of " + length + " bytes", e);
        }
        return payload;
    }
}
