package dev.cordon.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The baseline for what SQLite waits on at every commit ({@code synchronous = FULL}): appending
 * 4 KiB to a file and {@code fsync}ing it, on the disk that holds the daemon's home.
 */
final class DiskProbe {
    private DiskProbe() {}

    /** {@code n} synced 4 KiB appends to a scratch file in {@code dir}, each one a sample. */
    static Stats fsyncs(Path dir, int n, String name) throws IOException {
        Stats stats = new Stats(name);
        Path file = dir.resolve("fsync-probe");
        ByteBuffer block = ByteBuffer.allocate(4096);
        try (FileChannel channel = FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            for (int i = 0; i < n; i++) {
                block.clear();
                long t0 = System.nanoTime();
                channel.write(block);
                channel.force(false);
                stats.add(System.nanoTime() - t0);
            }
        } finally {
            Files.deleteIfExists(file);
        }
        return stats;
    }
}
