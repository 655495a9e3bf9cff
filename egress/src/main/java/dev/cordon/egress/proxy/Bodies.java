package dev.cordon.egress.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Request bodies of plain HTTP requests, read whole before anything is sent: the data-loss guard
 * must see a body before it leaves, and the proxy then sends it with a Content-Length it wrote
 * itself, never the client's framing, so the origin cannot read a different request boundary than
 * the proxy did. Bodies are capped at {@link #MAX_BODY}; larger uploads go through an HTTPS tunnel,
 * which the proxy does not read.
 *
 * <p>A request refused while its body is still coming (a denied host, a body over the cap) has up
 * to {@link #MAX_DISCARD} bytes of that body read and thrown away before the answer: most HTTP
 * clients (Python's, Java's) send the whole body before they read anything, and closing on them
 * mid-body gives them a broken pipe or a reset instead of the structured answer that says why.
 */
final class Bodies {
    static final int BUFFER = 64 * 1024;
    static final int MAX_BODY = 16 * 1024 * 1024;
    /** The most of a refused request's body read (and not kept) so that its client hears the answer. */
    static final long MAX_DISCARD = 64L * 1024 * 1024;

    private static final int MAX_CHUNK_LINE = 1024;

    private Bodies() {}

    static byte[] read(InputStream in, HttpHead.Framing framing) throws IOException, ProxyException {
        return switch (framing) {
            case HttpHead.Framing.None n -> new byte[0];
            case HttpHead.Framing.Length l -> readLength(in, l.bytes());
            case HttpHead.Framing.Chunked c -> readChunked(in);
        };
    }

    /**
     * Reads and throws away the body of a request that is being refused, up to {@link
     * #MAX_DISCARD}; a body declared larger, or framed so that its end cannot be found, is left
     * unread (the client then sees its connection close). Never throws for the body's content.
     */
    static void discard(InputStream in, HttpHead.Framing framing) throws IOException {
        switch (framing) {
            case HttpHead.Framing.None n -> {}
            case HttpHead.Framing.Length l -> {
                if (l.bytes() <= MAX_DISCARD) {
                    skip(in, l.bytes());
                }
            }
            case HttpHead.Framing.Chunked c -> {
                try {
                    discardChunks(in, MAX_DISCARD);
                } catch (ProxyException e) {
                    // malformed: its end cannot be found, and the answer goes out without it
                }
            }
        }
    }

    private static byte[] readLength(InputStream in, long length) throws IOException, ProxyException {
        if (length > MAX_BODY) {
            if (length <= MAX_DISCARD) {
                skip(in, length);
            }
            throw tooLarge();
        }
        byte[] body = in.readNBytes((int) length);
        if (body.length < length) {
            throw new ProxyException(
                    400, "the body ended " + (length - body.length) + " bytes before its Content-Length");
        }
        return body;
    }

    /** Decodes a chunked body; trailer fields are read and dropped. */
    private static byte[] readChunked(InputStream in) throws IOException, ProxyException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            long size = chunkSize(in);
            if (size == 0) {
                break;
            }
            if (body.size() + size > MAX_BODY) {
                if (size <= MAX_DISCARD - body.size() && skip(in, size) == size && crlf(in)) {
                    try {
                        discardChunks(in, MAX_DISCARD - body.size() - size);
                    } catch (ProxyException malformed) {
                        // the rest cannot be followed; the answer is still that it is too large
                    }
                }
                throw tooLarge();
            }
            byte[] chunk = in.readNBytes((int) size);
            if (chunk.length < size) {
                throw new ProxyException(400, "the body ended inside a chunk");
            }
            body.write(chunk);
            if (!crlf(in)) {
                throw new ProxyException(400, "a chunk is not followed by CRLF");
            }
        }
        trailer(in);
        return body.toByteArray();
    }

    /** Reads the rest of a chunked body, trailer included, keeping nothing; stops after {@code budget} bytes of data. */
    private static void discardChunks(InputStream in, long budget) throws IOException, ProxyException {
        long left = budget;
        while (true) {
            long size = chunkSize(in);
            if (size == 0) {
                trailer(in);
                return;
            }
            if (size > left || skip(in, size) < size || !crlf(in)) {
                return;
            }
            left -= size;
        }
    }

    private static void trailer(InputStream in) throws IOException, ProxyException {
        int[] budget = {HttpHead.MAX_HEAD};
        while (true) {
            String line = HttpHead.line(in, budget, false);
            if (line == null || line.isEmpty()) {
                return;
            }
        }
    }

    private static boolean crlf(InputStream in) throws IOException {
        return in.read() == '\r' && in.read() == '\n';
    }

    /** Reads and drops up to {@code n} bytes; returns how many there were before the stream ended. */
    private static long skip(InputStream in, long n) throws IOException {
        byte[] sink = new byte[BUFFER];
        long left = n;
        for (int r; left > 0 && (r = in.read(sink, 0, (int) Math.min(sink.length, left))) >= 0; ) {
            left -= r;
        }
        return n - left;
    }

    private static long chunkSize(InputStream in) throws IOException, ProxyException {
        int[] budget = {MAX_CHUNK_LINE};
        String line;
        try {
            line = HttpHead.line(in, budget, false);
        } catch (ProxyException e) {
            throw new ProxyException(400, "malformed chunk size line: " + e.getMessage());
        }
        int semicolon = line.indexOf(';');
        String hex = semicolon < 0 ? line : line.substring(0, semicolon).stripTrailing();
        if (hex.isEmpty() || hex.length() > 15 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new ProxyException(400, "chunk size '" + HttpHead.printable(hex) + "' is not a hex number");
        }
        return Long.parseLong(hex, 16);
    }

    static ProxyException tooLarge() {
        return new ProxyException(
                413,
                "the proxy reads plain-HTTP request bodies up to " + MAX_BODY / (1024 * 1024)
                        + " MiB before they leave; send larger uploads over HTTPS");
    }
}
