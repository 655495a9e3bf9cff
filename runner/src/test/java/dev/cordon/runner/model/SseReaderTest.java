package dev.cordon.runner.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SseReaderTest {

    private static List<SseReader.Event> readAll(InputStream in) throws IOException {
        SseReader reader = new SseReader(in);
        List<SseReader.Event> events = new ArrayList<>();
        for (Optional<SseReader.Event> event = reader.next(); event.isPresent(); event = reader.next()) {
            events.add(event.get());
        }
        return events;
    }

    private static List<SseReader.Event> readAll(String text) throws IOException {
        return readAll(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** Hands out one byte per read, as the most unlucky network would. */
    private static InputStream oneByteAtATime(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1));
            }
        };
    }

    @Test
    void dispatchesNamedEventsOnBlankLines() throws IOException {
        assertThat(readAll("event: ping\ndata: {\"a\":1}\n\nevent: message_stop\ndata: {}\n\n"))
                .containsExactly(new SseReader.Event("ping", "{\"a\":1}"), new SseReader.Event("message_stop", "{}"));
    }

    @Test
    void unnamedEventsAreMessages() throws IOException {
        assertThat(readAll("data: [DONE]\n\n")).containsExactly(new SseReader.Event("message", "[DONE]"));
    }

    @Test
    void acceptsCrLfAndLoneCrLineEnds() throws IOException {
        assertThat(readAll("event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\r"))
                .containsExactly(new SseReader.Event("a", "1"), new SseReader.Event("b", "2"));
    }

    @Test
    void joinsMultiLineDataWithNewlines() throws IOException {
        assertThat(readAll("data: first\ndata:second\ndata\n\n"))
                .containsExactly(new SseReader.Event("message", "first\nsecond\n"));
    }

    @Test
    void ignoresCommentsAndUnknownFieldsAndEventsWithoutData() throws IOException {
        assertThat(readAll(": keep-alive\nid: 7\nretry: 100\n\nevent: lonely\n\ndata: x\n\n"))
                .containsExactly(new SseReader.Event("message", "x"));
    }

    @Test
    void dropsAnEventCutOffByTheEndOfTheStream() throws IOException {
        assertThat(readAll("data: whole\n\ndata: half")).containsExactly(new SseReader.Event("message", "whole"));
    }

    @Test
    void stripsAByteOrderMarkAtTheStart() throws IOException {
        assertThat(readAll("\uFEFFdata: x\n\n")).containsExactly(new SseReader.Event("message", "x"));
    }

    @Test
    void decodesMultiByteCharactersSplitAcrossReads() throws IOException {
        String text = "event: content_block_delta\r\ndata: héllo ✓ 🙂\r\n\r\n";
        assertThat(readAll(oneByteAtATime(text)))
                .containsExactly(new SseReader.Event("content_block_delta", "héllo ✓ 🙂"));
    }
}
