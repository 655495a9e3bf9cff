package dev.cordon.testkit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code multipart/form-data} body as the fake platforms read it (RFC 7578): strict about the
 * boundary, each part's {@code Content-Disposition} and the closing delimiter, so an adapter that
 * builds a malformed body fails its test the way it would fail against the platform.
 */
public final class MultipartForm {
    private static final Pattern BOUNDARY = Pattern.compile("boundary=\"?([^\";]{1,70})\"?");
    private static final Pattern NAME = Pattern.compile("(?:^|;)\\s*name=\"([^\"]*)\"");
    private static final Pattern FILENAME = Pattern.compile(";\\s*filename=\"([^\"]*)\"");

    /** One part: a field's text, or a file's name, media type and bytes. */
    public record Part(String name, String fileName, String mediaType, byte[] bytes) {
        public String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    private final List<Part> parts;

    private MultipartForm(List<Part> parts) {
        this.parts = List.copyOf(parts);
    }

    /**
     * Parses {@code body} sent with {@code contentType}.
     *
     * @throws IllegalArgumentException saying what is malformed (the fakes answer it as a 400)
     */
    public static MultipartForm parse(String contentType, byte[] body) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw new IllegalArgumentException("Content-Type is not multipart/form-data: " + contentType);
        }
        Matcher m = BOUNDARY.matcher(contentType);
        if (!m.find()) {
            throw new IllegalArgumentException("multipart/form-data without a boundary");
        }
        byte[] delimiter = ("--" + m.group(1)).getBytes(StandardCharsets.US_ASCII);
        List<Part> parts = new ArrayList<>();
        int at = indexOf(body, delimiter, 0);
        if (at != 0) {
            throw new IllegalArgumentException("the body does not start with the boundary");
        }
        while (true) {
            int after = at + delimiter.length;
            if (after + 2 <= body.length && body[after] == '-' && body[after + 1] == '-') {
                return new MultipartForm(parts);
            }
            if (after + 2 > body.length || body[after] != '\r' || body[after + 1] != '\n') {
                throw new IllegalArgumentException("a boundary is not followed by CRLF");
            }
            int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), after + 2);
            if (headersEnd < 0) {
                throw new IllegalArgumentException("a part has no end of headers");
            }
            Map<String, String> headers = new LinkedHashMap<>();
            for (String line :
                    new String(body, after + 2, headersEnd - after - 2, StandardCharsets.UTF_8).split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon < 1) {
                    throw new IllegalArgumentException("a part header has no name: " + line);
                }
                headers.put(
                        line.substring(0, colon).strip().toLowerCase(Locale.ROOT),
                        line.substring(colon + 1).strip());
            }
            String disposition = headers.get("content-disposition");
            if (disposition == null || !disposition.startsWith("form-data")) {
                throw new IllegalArgumentException("a part has no Content-Disposition: form-data");
            }
            Matcher name = NAME.matcher(disposition);
            if (!name.find()) {
                throw new IllegalArgumentException("a part has no name: " + disposition);
            }
            Matcher file = FILENAME.matcher(disposition);
            int next = indexOf(
                    body,
                    ("\r\n" + new String(delimiter, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII),
                    headersEnd + 4);
            if (next < 0) {
                throw new IllegalArgumentException("the body has no closing boundary");
            }
            parts.add(new Part(
                    name.group(1),
                    file.find() ? file.group(1) : null,
                    headers.getOrDefault("content-type", "text/plain"),
                    Arrays.copyOfRange(body, headersEnd + 4, next)));
            at = next + 2;
        }
    }

    /** The first part named {@code name}. */
    public Optional<Part> part(String name) {
        return parts.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** The text of field {@code name}, or null. */
    public String field(String name) {
        return part(name).map(Part::text).orElse(null);
    }

    public List<Part> parts() {
        return parts;
    }

    private static int indexOf(byte[] data, byte[] pattern, int from) {
        outer:
        for (int i = from; i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
