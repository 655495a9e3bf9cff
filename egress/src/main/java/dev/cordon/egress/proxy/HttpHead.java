package dev.cordon.egress.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A request line and header section, read strictly. The proxy stands between an untrusted client
 * and origin servers, so anything two parsers could read differently (the root of request
 * smuggling) is refused rather than guessed: bare CR or LF, folded lines, spaces before the colon,
 * control characters, repeated or non-numeric Content-Length, Transfer-Encoding other than exactly
 * {@code chunked}, or both framings at once.
 */
record HttpHead(String method, String target, String version, List<Header> headers) {
    static final int MAX_LINE = 8 * 1024;
    static final int MAX_HEAD = 64 * 1024;
    static final int MAX_HEADERS = 100;

    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    record Header(String name, String value) {}

    /** How the body is framed. */
    sealed interface Framing {
        record None() implements Framing {}

        record Length(long bytes) implements Framing {}

        record Chunked() implements Framing {}
    }

    /**
     * Reads one head; empty if the stream ended before its first byte (the client went away).
     *
     * @throws ProxyException 400 for a malformed head, 431 when it is too large
     */
    static Optional<HttpHead> read(InputStream in) throws IOException, ProxyException {
        int[] budget = {MAX_HEAD};
        String requestLine = line(in, budget, true);
        if (requestLine == null) {
            return Optional.empty();
        }
        String[] parts = requestLine.split(" ", -1);
        if (parts.length != 3 || !TOKEN.matcher(parts[0]).matches() || parts[1].isEmpty()) {
            throw new ProxyException(400, "malformed request line (expected: METHOD TARGET HTTP/1.1)");
        }
        if (!parts[2].equals("HTTP/1.1") && !parts[2].equals("HTTP/1.0")) {
            throw new ProxyException(400, "unsupported protocol version '" + printable(parts[2]) + "'");
        }
        List<Header> headers = new ArrayList<>();
        while (true) {
            String line = line(in, budget, false);
            if (line == null) {
                throw new ProxyException(400, "the request ended inside its headers");
            }
            if (line.isEmpty()) {
                break;
            }
            if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                throw new ProxyException(400, "folded header lines are not accepted");
            }
            int colon = line.indexOf(':');
            if (colon <= 0 || !TOKEN.matcher(line.substring(0, colon)).matches()) {
                throw new ProxyException(400, "malformed header line '" + printable(line) + "'");
            }
            if (headers.size() == MAX_HEADERS) {
                throw new ProxyException(431, "more than " + MAX_HEADERS + " header fields");
            }
            headers.add(new Header(
                    line.substring(0, colon), line.substring(colon + 1).strip()));
        }
        return Optional.of(new HttpHead(parts[0], parts[1], parts[2], List.copyOf(headers)));
    }

    /** All values of a header, case-insensitively. */
    List<String> all(String name) {
        return headers.stream()
                .filter(h -> h.name().equalsIgnoreCase(name))
                .map(Header::value)
                .toList();
    }

    /**
     * The body's framing.
     *
     * @throws ProxyException 400 when the framing is ambiguous or malformed, 501 for a transfer
     *     coding other than chunked
     */
    Framing framing() throws ProxyException {
        List<String> te = all("Transfer-Encoding");
        List<String> cl = all("Content-Length");
        if (!te.isEmpty() && !cl.isEmpty()) {
            throw new ProxyException(400, "both Transfer-Encoding and Content-Length: ambiguous framing");
        }
        if (!te.isEmpty()) {
            if (te.size() != 1 || !te.getFirst().toLowerCase(Locale.ROOT).equals("chunked")) {
                throw new ProxyException(501, "only 'Transfer-Encoding: chunked' is supported");
            }
            if (version.equals("HTTP/1.0")) {
                throw new ProxyException(400, "Transfer-Encoding in an HTTP/1.0 request");
            }
            return new Framing.Chunked();
        }
        if (cl.size() > 1) {
            throw new ProxyException(400, "more than one Content-Length");
        }
        if (cl.size() == 1) {
            String v = cl.getFirst();
            if (v.isEmpty() || v.length() > 18 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new ProxyException(400, "Content-Length '" + printable(v) + "' is not a number");
            }
            long n = Long.parseLong(v);
            return n == 0 ? new Framing.None() : new Framing.Length(n);
        }
        return new Framing.None();
    }

    /**
     * One line ending in CRLF, without it; null at a clean end of stream before the first byte.
     * Counts against {@code budget} (the whole head's limit).
     */
    static String line(InputStream in, int[] budget, boolean firstLine) throws IOException, ProxyException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (firstLine && out.size() == 0) {
                    return null;
                }
                throw new ProxyException(400, "the request ended in the middle of a line");
            }
            if (--budget[0] < 0) {
                throw new ProxyException(431, "the request head is larger than " + MAX_HEAD / 1024 + " KiB");
            }
            if (b == '\r') {
                if (in.read() != '\n') {
                    throw new ProxyException(400, "a bare CR in the request head");
                }
                budget[0]--;
                return out.toString(StandardCharsets.ISO_8859_1);
            }
            if (b == '\n') {
                throw new ProxyException(400, "a bare LF in the request head (lines must end in CRLF)");
            }
            if ((b < 0x20 && b != '\t') || b == 0x7f) {
                throw new ProxyException(400, "a control character in the request head");
            }
            if (out.size() >= MAX_LINE) {
                throw new ProxyException(431, "a request line or header longer than " + MAX_LINE / 1024 + " KiB");
            }
            out.write(b);
        }
    }

    static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "…" : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
