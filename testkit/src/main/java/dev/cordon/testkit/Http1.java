package dev.cordon.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Just enough HTTP/1.1 over a raw socket for the fake: the point of not using an HTTP server
 * library is control over every byte, so a test can split, stall and cut responses anywhere.
 */
final class Http1 {
    private static final int MAX_HEAD = 64 * 1024;
    private static final int MAX_BODY = 32 * 1024 * 1024;

    private Http1() {}

    /** A request; header names in lower case. The body array is read once and never compared. */
    @SuppressWarnings("ArrayRecordComponent")
    record Request(String method, String path, Map<String, List<String>> headers, byte[] body, long receivedNanos) {
        Optional<String> header(String name) {
            List<String> values = headers.get(name);
            return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
        }

        boolean keepAlive() {
            return !header("connection").orElse("").equalsIgnoreCase("close");
        }
    }

    /** Reads the next request; empty if the client closed the connection between requests. */
    static Optional<Request> read(InputStream in) throws IOException {
        int first = in.read();
        if (first < 0) {
            return Optional.empty();
        }
        long receivedNanos = System.nanoTime();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        head.write(first);
        int last4 = first;
        while (last4 != 0x0D0A0D0A) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed inside a request head");
            }
            head.write(b);
            if (head.size() > MAX_HEAD) {
                throw new IOException("request head larger than " + MAX_HEAD + " bytes");
            }
            last4 = (last4 << 8) | b;
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n", -1);
        String[] requestLine = lines[0].split(" ", 3);
        if (requestLine.length < 2) {
            throw new IOException("malformed request line: " + lines[0]);
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.computeIfAbsent(
                                lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                        .add(lines[i].substring(colon + 1).strip());
            }
        }
        String target = requestLine[1];
        int query = target.indexOf('?');
        String path = query < 0 ? target : target.substring(0, query);
        Request withoutBody = new Request(requestLine[0], path, headers, new byte[0], receivedNanos);
        byte[] body;
        if (withoutBody
                .header("transfer-encoding")
                .orElse("")
                .toLowerCase(Locale.ROOT)
                .contains("chunked")) {
            body = readChunked(in);
        } else {
            long length = Long.parseLong(
                    withoutBody.header("content-length").orElse("0").strip());
            if (length > MAX_BODY) {
                throw new IOException("request body larger than " + MAX_BODY + " bytes");
            }
            body = in.readNBytes((int) length);
            if (body.length < length) {
                throw new IOException("connection closed inside a request body");
            }
        }
        return Optional.of(new Request(requestLine[0], path, headers, body, receivedNanos));
    }

    private static byte[] readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = line(in);
            int semicolon = sizeLine.indexOf(';');
            int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).strip(), 16);
            if (size == 0) {
                while (!line(in).isEmpty()) {
                    // trailers are ignored
                }
                return body.toByteArray();
            }
            if (body.size() + size > MAX_BODY) {
                throw new IOException("request body larger than " + MAX_BODY + " bytes");
            }
            body.write(in.readNBytes(size));
            line(in);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new IOException("connection closed inside a chunked body");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    /** Writes a status line and headers, and flushes: the client sees the head at once. */
    static void writeHead(OutputStream out, int status, Map<String, String> headers) throws IOException {
        StringBuilder head = new StringBuilder("HTTP/1.1 ")
                .append(status)
                .append(' ')
                .append(reason(status))
                .append("\r\n");
        headers.forEach(
                (name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        head.append("\r\n");
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 408 -> "Request Timeout";
            case 409 -> "Conflict";
            case 413 -> "Payload Too Large";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "Status " + status;
        };
    }

    /**
     * A {@code transfer-encoding: chunked} body where every {@link #write} becomes chunks flushed at
     * once, so each piece leaves the process as it is written.
     */
    static final class ChunkedBody {
        private final OutputStream out;
        private final int pieceBytes;

        ChunkedBody(OutputStream out, int pieceBytes) {
            this.out = out;
            this.pieceBytes = pieceBytes;
        }

        /** Writes {@code bytes} as one chunk, or as many chunks of {@code pieceBytes} each flushed. */
        void write(byte[] bytes) throws IOException {
            int step = pieceBytes > 0 ? pieceBytes : Math.max(bytes.length, 1);
            for (int at = 0; at < bytes.length; at += step) {
                int length = Math.min(step, bytes.length - at);
                out.write((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(bytes, at, length);
                out.write(CRLF);
                out.flush();
            }
        }

        /** The last chunk: the body ends cleanly. */
        void finish() throws IOException {
            out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        private static final byte[] CRLF = {'\r', '\n'};
    }
}
