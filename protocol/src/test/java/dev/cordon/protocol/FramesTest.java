package dev.cordon.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The length-prefixed framing both sides of every socket use, including what a hostile peer can send. */
class FramesTest {

    @Test
    void aFrameIsAFourByteBigEndianLengthThenThePayload() throws IOException {
        byte[] payload = new byte[300];
        Arrays.fill(payload, (byte) 'x');
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        Frames.write(out, payload);

        byte[] written = out.toByteArray();
        assertThat(Arrays.copyOf(written, 4)).containsExactly(0, 0, 1, 44);
        assertThat(Arrays.copyOfRange(written, 4, written.length)).isEqualTo(payload);
    }

    @Test
    void framesAreReadBackInOrderAndACleanEndBetweenFramesIsNull() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Frames.write(out, utf8("first"));
        Frames.write(out, new byte[0]);
        Frames.write(out, utf8("third"));
        InputStream in = new ByteArrayInputStream(out.toByteArray());

        assertThat(Frames.read(in)).isEqualTo(utf8("first"));
        assertThat(Frames.read(in)).as("an empty frame is not the end").isEmpty();
        assertThat(Frames.read(in)).isEqualTo(utf8("third"));
        assertThat(Frames.read(in)).isNull();
        assertThat(Frames.read(in)).isNull();
    }

    @Test
    void anEmptyStreamIsACleanEnd() throws IOException {
        assertThat(Frames.read(new ByteArrayInputStream(new byte[0]))).isNull();
    }

    @Test
    void aFrameArrivingOneByteAtATimeIsReassembled() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Frames.write(out, utf8("{\"type\":\"ready\"}"));
        InputStream trickle = new OneByteAtATime(out.toByteArray());

        assertThat(Frames.read(trickle)).isEqualTo(utf8("{\"type\":\"ready\"}"));
        assertThat(Frames.read(trickle)).isNull();
    }

    @Test
    void aFrameOfExactlyMaxFrameBytesIsAccepted() throws IOException {
        byte[] payload = new byte[Frames.MAX_FRAME];
        payload[payload.length - 1] = 7;
        ByteArrayOutputStream out = new ByteArrayOutputStream(Frames.MAX_FRAME + 4);

        Frames.write(out, payload);

        assertThat(Frames.read(new ByteArrayInputStream(out.toByteArray()))).isEqualTo(payload);
    }

    @Test
    void writingAFrameOverTheLimitFailsAndWritesNothing() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        assertThatThrownBy(() -> Frames.write(out, new byte[Frames.MAX_FRAME + 1]))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("frame of 16777217 bytes exceeds the limit of 16777216");
        assertThat(out.size()).isZero();
    }

    @Test
    void aLengthOverTheLimitIsRefusedBeforeAnyPayloadIsRead() {
        // Only the header is there: if the reader tried to read (or allocate) the payload first, it
        // would report a cut-short frame instead.
        InputStream in = new ByteArrayInputStream(header(Frames.MAX_FRAME + 1));

        assertThatThrownBy(() -> Frames.read(in))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("frame length 16777217 is outside 0..16777216");
    }

    @Test
    void aNegativeLengthIsRefused() {
        assertThatThrownBy(() -> Frames.read(new ByteArrayInputStream(header(-1))))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("frame length 4294967295 is outside 0..16777216");
        assertThatThrownBy(() -> Frames.read(new ByteArrayInputStream(header(Integer.MIN_VALUE))))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("frame length 2147483648 is outside 0..16777216");
    }

    @Test
    void aStreamEndingInsideTheHeaderIsCutShort() {
        for (int kept = 1; kept < 4; kept++) {
            byte[] partial = Arrays.copyOf(header(10), kept);

            assertThatThrownBy(() -> Frames.read(new ByteArrayInputStream(partial)))
                    .isExactlyInstanceOf(ProtocolException.class)
                    .hasMessage("stream ended inside a frame header");
        }
    }

    @Test
    void aStreamEndingInsideThePayloadIsCutShort() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header(10));
        out.writeBytes(utf8("four"));

        assertThatThrownBy(() -> Frames.read(new ByteArrayInputStream(out.toByteArray())))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("stream ended inside a frame of 10 bytes");
    }

    @Test
    void aSecondFrameCutShortFailsAfterTheFirstIsDelivered() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Frames.write(out, utf8("whole"));
        out.writeBytes(header(5));
        out.writeBytes(utf8("ha"));
        InputStream in = new ByteArrayInputStream(out.toByteArray());

        assertThat(Frames.read(in)).isEqualTo(utf8("whole"));
        assertThatThrownBy(() -> Frames.read(in))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("stream ended inside a frame of 5 bytes");
    }

    private static byte[] header(int length) {
        return new byte[] {(byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** A stream that hands out one byte per read, like a slow pipe. */
    private static final class OneByteAtATime extends InputStream {
        private final byte[] bytes;
        private int position;

        OneByteAtATime(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public int read() {
            return position < bytes.length ? bytes[position++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            int next = read();
            if (next < 0) {
                return -1;
            }
            b[off] = (byte) next;
            return 1;
        }
    }
}
