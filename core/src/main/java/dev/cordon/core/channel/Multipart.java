package dev.cordon.core.channel;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * A {@code multipart/form-data} body (RFC 7578) for the platforms that take uploads that way
 * (Telegram {@code sendDocument}, Discord {@code files[0]}, WhatsApp media): text fields and files,
 * built in memory (a file is at most the host's limit). Not thread-safe; one per request.
 */
public final class Multipart {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final String boundary;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();

    public Multipart() {
        byte[] random = new byte[16];
        RANDOM.nextBytes(random);
        boundary = "cordon-" + HexFormat.of().formatHex(random);
    }

    /** Adds a text field. */
    public Multipart field(String name, String value) {
        head(name, null, "text/plain; charset=utf-8");
        write(value.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    /** Adds a file field. */
    public Multipart file(String name, String fileName, String mediaType, byte[] bytes) {
        head(name, fileName, mediaType);
        write(bytes);
        return this;
    }

    /** The {@code Content-Type} header's value, with the boundary. */
    public String contentType() {
        return "multipart/form-data; boundary=" + boundary;
    }

    /** The whole body, closed by the final boundary. */
    public HttpRequest.BodyPublisher publisher() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(body.toByteArray());
        all.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        return HttpRequest.BodyPublishers.ofByteArray(all.toByteArray());
    }

    private void head(String name, String fileName, String mediaType) {
        StringBuilder head = new StringBuilder()
                .append("--")
                .append(boundary)
                .append("\r\nContent-Disposition: form-data; name=\"")
                .append(quoted(name))
                .append('"');
        if (fileName != null) {
            head.append("; filename=\"").append(quoted(fileName)).append('"');
        }
        head.append("\r\nContent-Type: ").append(mediaType).append("\r\n\r\n");
        body.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
    }

    private void write(byte[] bytes) {
        body.writeBytes(bytes);
        body.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * A name in a quoted header parameter: a double quote becomes a single one and a line break a
     * space (platforms differ in how they decode RFC 7578's percent-escapes; these read the same
     * everywhere).
     */
    private static String quoted(String s) {
        return s.replace('"', '\'').replace('\r', ' ').replace('\n', ' ');
    }
}
