package dev.cordon.channel.matrix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The last {@code next_batch} whose events the host has stored, kept in a file so that a restart
 * goes on from there. Written atomically (a new file renamed over the old): a crash leaves the old
 * token or the new one, never half of one. Not thread-safe: the sync loop owns it.
 */
final class SyncToken {
    private final Path file;

    SyncToken(Path file) {
        this.file = file;
    }

    /** The saved token, or null if there is none yet (the account's first start). */
    String read() {
        try {
            return Files.exists(file) ? Files.readString(file).strip() : null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the Matrix sync token " + file, e);
        }
    }

    /** Saves {@code token} durably (fsync'd before the rename). */
    void write(String token) {
        try {
            Files.createDirectories(file.getParent());
            Path next = file.resolveSibling(file.getFileName() + ".new");
            Files.writeString(next, token);
            try (var channel = java.nio.channels.FileChannel.open(next, java.nio.file.StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the Matrix sync token in " + file, e);
        }
    }
}
