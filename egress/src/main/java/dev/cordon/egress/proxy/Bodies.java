package dev.cordon.egress.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Request bodies, passed on with framing the proxy wrote itself: a chunked body is decoded and
 * re-encoded, never forwarded as the client framed it, so the origin cannot read a different
 * request boundary than the proxy did.
 */
final class Bodies {
    static final int BUFFER = 64 * 1024;
    private static final int MAX_CHUNK_LINE = 1024;

    private Bodies() {}

    /** Copies exactly {@code length} bytes. */
    static void copyLength(InputStream in, OutputStream out, long length) throws IOException, ProxyException {
        byte[] buf = new byte[BUFFER];
        long left = length;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                throw new ProxyException(400, "the body ended " + left + " bytes before its Content-Length");
            }
            out.write(buf, 0, n);
            left -= n;
        }
    }

    /**
     * Decodes a chunked body from {@code in} and writes it chunked to {@code out}; trailers are
     * read and dropped.
     *
     * @throws ProxyException 400 for a malformed chunk size, missing CRLF or truncated body
     */
    static void copyChunked(InputStream in, OutputStream out) throws IOException, ProxyException {
        byte[] buf = new byte[BUFFER];
        int[] budget = {HttpHead.MAX_HEAD};
        while (true) {
            long size = chunkSize(in);
            if (size == 0) {
                break;
            }
            out.write((Long.toHexString(size) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            long left = size;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new ProxyException(400, "the body ended inside a chunk");
                }
                out.write(buf, 0, n);
                left -= n;
            }
            if (in.read() != '\r' || in.read() != '\n') {
                throw new ProxyException(400, "a chunk is not followed by CRLF");
            }
            out.write('\r');
            out.write('\n');
        }
        // Trailer fields end with an empty line; they are not forwarded.
        while (true) {
            String line = HttpHead.line(in, budget, false);
            if (line == null || line.isEmpty()) {
                break;
            }
        }
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
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
}
