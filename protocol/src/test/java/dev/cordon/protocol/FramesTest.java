package dev.cordon.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
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

    @Test
    void aStreamDataFrameCarriesTheIdAndRawBytesBehindTheBinaryBit() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        Frames.writeStreamData(out, "e7", new byte[] {0, (byte) 0xff, 10});

        // header: top bit set, 7 bytes follow; tag 1; id length 2; "e7"; the bytes as they are
        assertThat(out.toByteArray()).containsExactly(0x80, 0, 0, 7, 1, 2, 'e', '7', 0, 0xff, 10);
    }

    @Test
    void streamDataRoundTripsWithEveryByteValueAndNoBytesAtAll() throws IOException {
        byte[] all = new byte[256];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Frames.writeStreamData(out, "e1", all);
        Frames.writeStreamData(out, "abcdefghijklmnopqrstuvwxyz-01234", new byte[0]);
        InputStream in = new ByteArrayInputStream(out.toByteArray());

        Frames.Frame.StreamData first = (Frames.Frame.StreamData) Frames.readFrame(in);
        assertThat(first.streamId()).isEqualTo("e1");
        assertThat(first.bytes()).isEqualTo(all);
        Frames.Frame.StreamData second = (Frames.Frame.StreamData) Frames.readFrame(in);
        assertThat(second.streamId()).isEqualTo("abcdefghijklmnopqrstuvwxyz-01234");
        assertThat(second.bytes()).isEmpty();
        assertThat(Frames.readFrame(in)).isNull();
    }

    @Test
    void binaryAndJsonFramesInterleaveAndArriveInOrder() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Frames.write(out, utf8("{\"a\":1}"));
        Frames.writeStreamData(out, "s1", utf8("raw"));
        Frames.write(out, utf8("{\"b\":2}"));
        Frames.writeStreamData(out, "s2", utf8("more"));
        InputStream in = new OneByteAtATime(out.toByteArray());

        assertThat(((Frames.Frame.Json) Frames.readFrame(in)).payload()).isEqualTo(utf8("{\"a\":1}"));
        assertThat(Frames.readFrame(in))
                .usingRecursiveComparison()
                .isEqualTo(new Frames.Frame.StreamData("s1", utf8("raw")));
        assertThat(((Frames.Frame.Json) Frames.readFrame(in)).payload()).isEqualTo(utf8("{\"b\":2}"));
        assertThat(Frames.readFrame(in))
                .usingRecursiveComparison()
                .isEqualTo(new Frames.Frame.StreamData("s2", utf8("more")));
        assertThat(Frames.readFrame(in)).isNull();
    }

    @Test
    void theJsonOnlyReaderRefusesABinaryFrame() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Frames.writeStreamData(out, "s1", utf8("raw"));

        assertThatThrownBy(() -> Frames.read(new ByteArrayInputStream(out.toByteArray())))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("frame length 2147483655 is outside 0..16777216");
    }

    @Test
    void aBinaryLengthOverTheLimitIsRefusedBeforeAnyPayloadIsRead() {
        InputStream in = new ByteArrayInputStream(header(Integer.MIN_VALUE | (Frames.MAX_FRAME + 1)));

        assertThatThrownBy(() -> Frames.readFrame(in))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("binary frame length 16777217 is outside 2..16777216");
        assertThatThrownBy(() -> Frames.readFrame(new ByteArrayInputStream(header(-1))))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("binary frame length 2147483647 is outside 2..16777216");
    }

    @Test
    void writingStreamDataOverTheLimitFailsAndWritesNothing() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        assertThatThrownBy(() -> Frames.writeStreamData(out, "s1", new byte[Frames.MAX_FRAME - 3]))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("stream data frame of 16777217 bytes exceeds the limit of 16777216");
        assertThatThrownBy(() -> Frames.writeStreamData(out, "not/an/id", new byte[1]))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("stream id must be 1-32 letters, digits or dashes");
        assertThat(out.size()).isZero();
    }

    @Test
    void aStreamDataFrameOfExactlyMaxFrameBytesIsAccepted() throws IOException {
        byte[] bytes = new byte[Frames.MAX_FRAME - 4];
        bytes[bytes.length - 1] = 7;
        ByteArrayOutputStream out = new ByteArrayOutputStream(Frames.MAX_FRAME + 4);

        Frames.writeStreamData(out, "s1", bytes);

        Frames.Frame.StreamData read =
                (Frames.Frame.StreamData) Frames.readFrame(new ByteArrayInputStream(out.toByteArray()));
        assertThat(read.bytes()).isEqualTo(bytes);
    }

    @Test
    void anUnknownBinaryTagIsRefusedByName() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header(Integer.MIN_VALUE | 5));
        out.writeBytes(new byte[] {0x07, 2, 's', '1', 0});

        assertThatThrownBy(() -> Frames.readFrame(new ByteArrayInputStream(out.toByteArray())))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("unknown binary frame tag 0x7 (only 0x01, stream data)");
    }

    @Test
    void aMalformedStreamIdInABinaryFrameIsRefused() {
        // an id longer than the frame, an empty id, and one with a character ids never have
        for (byte[] frame : List.of(
                new byte[] {(byte) 0x80, 0, 0, 4, 1, 9, 's', '1'},
                new byte[] {(byte) 0x80, 0, 0, 3, 1, 0, 'x'},
                new byte[] {(byte) 0x80, 0, 0, 40, 1, 33})) {
            assertThatThrownBy(() -> Frames.readFrame(new ByteArrayInputStream(frame)))
                    .isExactlyInstanceOf(ProtocolException.class)
                    .hasMessageContaining("names a stream id of")
                    .hasMessageEndingWith("bytes (1-32)");
        }
        byte[] slash = {(byte) 0x80, 0, 0, 5, 1, 2, 's', '/', 'x'};
        assertThatThrownBy(() -> Frames.readFrame(new ByteArrayInputStream(slash)))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("stream id in a stream data frame must be 1-32 letters, digits or dashes");
    }

    @Test
    void aBinaryFrameTooShortForItsTagIsRefused() {
        assertThatThrownBy(() -> Frames.readFrame(new ByteArrayInputStream(new byte[] {(byte) 0x80, 0, 0, 1, 1})))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("binary frame of 1 bytes has no room for its tag and id");
    }

    @Test
    void aStreamEndingInsideAStreamDataFrameIsCutShort() throws IOException {
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        Frames.writeStreamData(whole, "s1", utf8("twelve bytes"));
        byte[] bytes = whole.toByteArray();
        // cut inside the tag/id and inside the data
        for (int kept : List.of(5, 7, bytes.length - 1)) {
            byte[] partial = Arrays.copyOf(bytes, kept);

            assertThatThrownBy(() -> Frames.readFrame(new ByteArrayInputStream(partial)))
                    .as("cut after %d bytes", kept)
                    .isExactlyInstanceOf(ProtocolException.class)
                    .hasMessage("stream ended inside a frame of 16 bytes");
        }
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
