package dev.cordon.runner.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Reads Server-Sent Events from a byte stream, as the WHATWG spec says: lines end with CRLF, LF or
 * CR; {@code event:} and {@code data:} fields; several {@code data:} lines joined with {@code \n};
 * lines starting with {@code :} are comments; an event is dispatched on a blank line. Not
 * thread-safe; one reader per response body.
 *
 * <p>Lines are cut on bytes and decoded afterwards, so a multi-byte UTF-8 character split across
 * network reads arrives whole: CR and LF never occur inside a UTF-8 sequence.
 */
final class SseReader {
    /** One dispatched event; {@code event} is {@code "message"} when the stream named none. */
    record Event(String event, String data) {}

    private final InputStream in;
    private final byte[] buffer = new byte[8192];
    private int position;
    private int limit;
    private boolean afterCr;
    private boolean firstLine = true;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);

    SseReader(InputStream in) {
        this.in = in;
    }

    /**
     * Blocks until the next event is complete. Returns empty at a clean end of stream; an event not
     * yet terminated by a blank line at that point is discarded, as the spec says.
     *
     * @throws IOException if reading the underlying stream fails
     */
    Optional<Event> next() throws IOException {
        String eventType = "";
        StringBuilder data = null;
        String text;
        while ((text = readLine()) != null) {
            if (text.isEmpty()) {
                if (data != null) {
                    return Optional.of(new Event(eventType.isEmpty() ? "message" : eventType, data.toString()));
                }
                eventType = "";
                continue;
            }
            if (text.startsWith(":")) {
                continue;
            }
            int colon = text.indexOf(':');
            String field = colon < 0 ? text : text.substring(0, colon);
            String value = colon < 0 ? "" : text.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            switch (field) {
                case "event" -> eventType = value;
                case "data" -> {
                    if (data == null) {
                        data = new StringBuilder(value);
                    } else {
                        data.append('\n').append(value);
                    }
                }
                default -> {
                    // id and retry only matter to EventSource reconnection, which we do not use.
                }
            }
        }
        return Optional.empty();
    }

    /** The next line without its terminator, or null at end of stream (a trailing partial line is dropped). */
    private String readLine() throws IOException {
        line.reset();
        while (true) {
            if (position == limit) {
                // read(byte[]) returns what is available instead of waiting for a full buffer, which
                // is what lets a listener see text as soon as the frame carrying it arrives.
                limit = in.read(buffer);
                position = 0;
                if (limit < 0) {
                    limit = 0;
                    return null;
                }
            }
            byte b = buffer[position++];
            if (afterCr) {
                afterCr = false;
                if (b == '\n') {
                    continue;
                }
            }
            if (b == '\n' || b == '\r') {
                afterCr = b == '\r';
                return decode();
            }
            line.write(b);
        }
    }

    private String decode() {
        String text = line.toString(StandardCharsets.UTF_8);
        if (firstLine) {
            firstLine = false;
            if (text.startsWith("\uFEFF")) {
                return text.substring(1);
            }
        }
        return text;
    }
}
