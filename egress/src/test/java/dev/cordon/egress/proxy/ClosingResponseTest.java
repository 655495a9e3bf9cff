package dev.cordon.egress.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ClosingResponseTest {

    private static String[] pass(String response) throws IOException {
        ByteArrayInputStream in = new ByteArrayInputStream(response.getBytes(StandardCharsets.ISO_8859_1));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ClosingResponse.head(in, out);
        return new String[] {
            out.toString(StandardCharsets.ISO_8859_1), new String(in.readAllBytes(), StandardCharsets.ISO_8859_1)
        };
    }

    @Test
    void anOriginsKeepAliveBecomesCloseAndTheBodyIsLeftUntouched() throws IOException {
        String[] passed = pass("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: keep-alive\r\n"
                + "Keep-Alive: timeout=5\r\nmcp-session-id: s1\r\n\r\ndata: {\"connection\": \"keep-alive\"}\r\n\r\n");

        assertThat(passed[0])
                .isEqualTo("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nmcp-session-id: s1\r\n"
                        + "Connection: close\r\n\r\n");
        assertThat(passed[1]).isEqualTo("data: {\"connection\": \"keep-alive\"}\r\n\r\n");
    }

    @Test
    void aHeadCutShortIsPassedOnAsItIs() throws IOException {
        assertThat(pass("HTTP/1.1 200 OK\r\nconnection: keep-alive\r\n")[0])
                .isEqualTo("HTTP/1.1 200 OK\r\nconnection: keep-alive\r\n");
    }
}
