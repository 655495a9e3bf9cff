package dev.cordon.protocol;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Length-prefixed frames: a 4-byte big-endian header, then the payload. Two kinds:
 *
 * <ul>
 *   <li><b>JSON</b> (header's top bit clear): the header is the payload's length; the payload is the
 *       UTF-8 JSON of one message ({@link Wire}).
 *   <li><b>Binary</b> (top bit set): the low 31 bits are the payload's length; the payload is a tag
 *       byte, then what that tag defines. {@link #STREAM_DATA} (the only tag): one byte {@code n}
 *       (1..32), the stream id in {@code n} ASCII bytes, then the stream's raw bytes. Why: stream
 *       bytes are most of what crosses the channel, and as base64 inside JSON they cost an encode
 *       and a decode on each side (the runner has only C1) and a third more bytes.
 * </ul>
 *
 * <p>The length is checked before any allocation so a hostile peer cannot make the host allocate
 * more than {@link #MAX_FRAME} bytes; an unknown tag or a malformed stream id is a {@link
 * ProtocolException}. Not thread-safe: callers serialize writes per stream.
 */
public final class Frames {
    /** Largest frame either side accepts (16 MiB), not counting the header. */
    public static final int MAX_FRAME = 16 * 1024 * 1024;

    /** The binary frame tag for stream data. */
    static final int STREAM_DATA = 0x01;

    private static final int BINARY = 0x8000_0000;
    private static final int MAX_ID = 32;
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9-]{1,32}");

    private Frames() {}

    /** What one frame held: the JSON of a message, or bytes of a stream. */
    public sealed interface Frame {
        /** A JSON frame's payload, not yet decoded. */
        record Json(byte[] payload) implements Frame {}

        /** A binary stream-data frame. */
        record StreamData(String streamId, byte[] bytes) implements Frame {}
    }

    /** Writes one JSON frame and flushes. */
    public static void write(OutputStream out, byte[] payload) throws IOException {
        if (payload.length > MAX_FRAME) {
            throw new ProtocolException("frame of " + payload.length + " bytes exceeds the limit of " + MAX_FRAME);
        }
        out.write(header(payload.length));
        out.write(payload);
        out.flush();
    }

    /**
     * Writes one binary stream-data frame and flushes.
     *
     * @throws ProtocolException if the id is not 1-32 letters, digits or dashes, or the frame would
     *     exceed {@link #MAX_FRAME}; nothing is written then
     */
    public static void writeStreamData(OutputStream out, String streamId, byte[] bytes) throws IOException {
        out.write(streamDataHead(streamId, bytes.length));
        out.write(bytes);
        out.flush();
    }

    /**
     * The head of a stream data frame whose payload is {@code length} bytes: what {@link
     * #writeStreamData} writes before the bytes.
     *
     * @throws ProtocolException if the id is malformed or the frame would exceed {@link #MAX_FRAME}
     */
    static byte[] streamDataHead(String streamId, int length) {
        if (streamId == null || !ID.matcher(streamId).matches()) {
            throw new ProtocolException("stream id must be 1-32 letters, digits or dashes");
        }
        int frame = 2 + streamId.length() + length;
        if (length > MAX_FRAME - 2 - streamId.length()) {
            throw new ProtocolException("stream data frame of " + Integer.toUnsignedString(frame)
                    + " bytes exceeds the limit of " + MAX_FRAME);
        }
        byte[] id = streamId.getBytes(StandardCharsets.US_ASCII);
        byte[] head = new byte[6 + id.length];
        System.arraycopy(header(BINARY | frame), 0, head, 0, 4);
        head[4] = STREAM_DATA;
        head[5] = (byte) id.length;
        System.arraycopy(id, 0, head, 6, id.length);
        return head;
    }

    /**
     * Reads one JSON frame; blocks until it is complete. A binary frame here is refused: use {@link
     * #readFrame} where stream data may come.
     *
     * @return the payload, or {@code null} on a clean end of stream before a frame starts
     * @throws ProtocolException if the length is negative or over the limit, or the stream ends mid-frame
     */
    public static byte[] read(InputStream in) throws IOException {
        DataInputStream data = data(in);
        long read = header(data);
        if (read < 0) {
            return null;
        }
        int length = (int) read;
        if (length < 0 || length > MAX_FRAME) {
            throw new ProtocolException(
                    "frame length " + Integer.toUnsignedString(length) + " is outside 0.." + MAX_FRAME);
        }
        return payload(data, length);
    }

    /**
     * Reads one frame of either kind; blocks until it is complete.
     *
     * @return the frame, or {@code null} on a clean end of stream before a frame starts
     * @throws ProtocolException if the length is over the limit, the tag unknown, the stream id
     *     malformed, or the stream ends mid-frame
     */
    public static Frame readFrame(InputStream in) throws IOException {
        DataInputStream data = data(in);
        long read = header(data);
        if (read < 0) {
            return null;
        }
        int header = (int) read;
        if ((header & BINARY) == 0) {
            if (header > MAX_FRAME) {
                throw new ProtocolException("frame length " + header + " is outside 0.." + MAX_FRAME);
            }
            return new Frame.Json(payload(data, header));
        }
        int length = header & ~BINARY;
        if (length > MAX_FRAME) {
            throw new ProtocolException("binary frame length " + length + " is outside 2.." + MAX_FRAME);
        }
        if (length < 2) {
            throw new ProtocolException("binary frame of " + length + " bytes has no room for its tag and id");
        }
        try {
            int tag = data.readUnsignedByte();
            if (tag != STREAM_DATA) {
                throw new ProtocolException(
                        "unknown binary frame tag 0x" + Integer.toHexString(tag) + " (only 0x01, stream data)");
            }
            int idLength = data.readUnsignedByte();
            if (idLength < 1 || idLength > MAX_ID || idLength > length - 2) {
                throw new ProtocolException("stream data frame of " + length + " bytes names a stream id of " + idLength
                        + " bytes (1-" + MAX_ID + ")");
            }
            byte[] id = new byte[idLength];
            data.readFully(id);
            String streamId = new String(id, StandardCharsets.ISO_8859_1);
            if (!ID.matcher(streamId).matches()) {
                throw new ProtocolException("stream id in a stream data frame must be 1-32 letters, digits or dashes");
            }
            byte[] bytes = new byte[length - 2 - idLength];
            data.readFully(bytes);
            return new Frame.StreamData(streamId, bytes);
        } catch (EOFException e) {
            throw new ProtocolException("stream ended inside a frame of " + length + " bytes", e);
        }
    }

    private static DataInputStream data(InputStream in) {
        return in instanceof DataInputStream d ? d : new DataInputStream(in);
    }

    /** The header as an unsigned 32-bit value, or -1 on a clean end of stream before it. */
    private static long header(DataInputStream data) throws IOException {
        int first = data.read();
        if (first < 0) {
            return -1;
        }
        try {
            return Integer.toUnsignedLong((first << 24)
                    | (data.readUnsignedByte() << 16)
                    | (data.readUnsignedByte() << 8)
                    | data.readUnsignedByte());
        } catch (EOFException e) {
            throw new ProtocolException("stream ended inside a frame header", e);
        }
    }

    private static byte[] payload(DataInputStream data, int length) throws IOException {
        byte[] payload = new byte[length];
        try {
            data.readFully(payload);
        } catch (EOFException e) {
            throw new ProtocolException("stream ended inside a frame of " + length + " bytes", e);
        }
        return payload;
    }

    private static byte[] header(int value) {
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }
}
