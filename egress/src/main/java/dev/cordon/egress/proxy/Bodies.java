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
 */
final class Bodies {
    static final int BUFFER = 64 * 1024;
    static final int MAX_BODY = 16 * 1024 * 1024;
    private static final int MAX_CHUNK_LINE = 1024;

    private Bodies() {}

    static byte[] read(InputStream in, HttpHead.Framing framing) throws IOException, ProxyException {
        return switch (framing) {
            case HttpHead.Framing.None n -> new byte[0];
            case HttpHead.Framing.Length l -> readLength(in, l.bytes());
            case HttpHead.Framing.Chunked c -> readChunked(in);
        };
    }

    private static byte[] readLength(InputStream in, long length) throws IOException, ProxyException {
        if (length > MAX_BODY) {
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
        int[] budget = {HttpHead.MAX_HEAD};
        while (true) {
            long size = chunkSize(in);
            if (size == 0) {
                break;
            }
            if (body.size() + size > MAX_BODY) {
                throw tooLarge();
            }
            byte[] chunk = in.readNBytes((int) size);
            if (chunk.length < size) {
                throw new ProxyException(400, "the body ended inside a chunk");
            }
            body.write(chunk);
            if (in.read() != '\r' || in.read() != '\n') {
                throw new ProxyException(400, "a chunk is not followed by CRLF");
            }
        }
        while (true) {
            String line = HttpHead.line(in, budget, false);
            if (line == null || line.isEmpty()) {
                break;
            }
        }
        return body.toByteArray();
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

    private static ProxyException tooLarge() {
        return new ProxyException(
                413,
                "the proxy reads plain-HTTP request bodies up to " + MAX_BODY / (1024 * 1024)
                        + " MiB before they leave; send larger uploads over HTTPS");
    }
}
