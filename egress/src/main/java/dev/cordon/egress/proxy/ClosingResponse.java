package dev.cordon.egress.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Passes an origin's response head on with its {@code Connection} and {@code Keep-Alive} fields
 * replaced by {@code Connection: close}. The proxy serves one request per client connection and
 * closes it after the response; an origin that answers {@code Connection: keep-alive} anyway (the
 * MCP Streamable HTTP servers do, on their SSE answers) would otherwise make the client pool a
 * connection that is already gone, and its next request would read nothing.
 */
final class ClosingResponse {
    /** A head longer than this is passed on as it is (the client will judge it). */
    static final int MAX_HEAD = 64 * 1024;

    private ClosingResponse() {}

    /**
     * Copies the response head from {@code in} to {@code out}, rewritten; the body is left in
     * {@code in}. Blocks until the head is read. On EOF before the head's end, or past {@link
     * #MAX_HEAD}, what was read is passed on unchanged.
     */
    static void head(InputStream in, OutputStream out) throws IOException {
        ByteArrayOutputStream read = new ByteArrayOutputStream(512);
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0 || read.size() >= MAX_HEAD) {
                read.writeTo(out);
                if (b >= 0) {
                    out.write(b);
                }
                return;
            }
            read.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1
                    : (b == '\r' ? 1 : 0);
        }
        String head = read.toString(StandardCharsets.ISO_8859_1);
        StringBuilder rewritten = new StringBuilder(head.length() + 20);
        String[] lines = head.substring(0, head.length() - 4).split("\r\n", -1);
        rewritten.append(lines[0]).append("\r\n");
        for (int i = 1; i < lines.length; i++) {
            String name = lines[i].contains(":")
                    ? lines[i].substring(0, lines[i].indexOf(':')).strip().toLowerCase(Locale.ROOT)
                    : "";
            if (!name.equals("connection") && !name.equals("keep-alive")) {
                rewritten.append(lines[i]).append("\r\n");
            }
        }
        rewritten.append("Connection: close\r\n\r\n");
        out.write(rewritten.toString().getBytes(StandardCharsets.ISO_8859_1));
    }
}
