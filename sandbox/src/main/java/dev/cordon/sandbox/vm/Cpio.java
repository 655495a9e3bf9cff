package dev.cordon.sandbox.vm;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a cpio archive in the "newc" format, the one the Linux kernel unpacks as an initramfs:
 * per entry a 110-byte ASCII header, the name, the data, each padded to 4 bytes; then {@code
 * TRAILER!!!}. Entries are owned by root with a fixed time, so the same input gives the same bytes.
 *
 * <p>Not thread-safe; the caller closes the stream.
 */
final class Cpio {
    private static final int DIRECTORY = 0040000;
    private static final int FILE = 0100000;
    private static final int SYMLINK = 0120000;

    private final OutputStream out;
    private long written;
    private int inode = 1;

    Cpio(OutputStream out) {
        this.out = out;
    }

    void directory(String name, int mode) throws IOException {
        entry(name, DIRECTORY | mode, new byte[0]);
    }

    void file(String name, int mode, byte[] data) throws IOException {
        entry(name, FILE | mode, data);
    }

    void symlink(String name, String target) throws IOException {
        entry(name, SYMLINK | 0777, target.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes the trailer; nothing may be added after it. */
    void finish() throws IOException {
        entry("TRAILER!!!", 0, new byte[0]);
        out.flush();
    }

    private void entry(String name, int mode, byte[] data) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        StringBuilder header = new StringBuilder("070701");
        long[] fields = {
            inode++,
            mode,
            0,
            0,
            (mode & DIRECTORY) == DIRECTORY ? 2 : 1,
            0,
            data.length,
            0,
            0,
            0,
            0,
            nameBytes.length + 1,
            0
        };
        for (long field : fields) {
            header.append(String.format("%08x", field));
        }
        write(header.toString().getBytes(StandardCharsets.US_ASCII));
        write(nameBytes);
        write(new byte[] {0});
        pad();
        write(data);
        pad();
    }

    private void write(byte[] bytes) throws IOException {
        out.write(bytes);
        written += bytes.length;
    }

    private void pad() throws IOException {
        while (written % 4 != 0) {
            write(new byte[] {0});
        }
    }
}
