package dev.cordon.core.channel;

import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * A file an outgoing message carries, kept on the host until the platform has it. An adapter whose
 * {@link Capabilities#files} is true uploads it; for any other the host sends a link or a note in
 * its place.
 *
 * @param name the file's name as the reader sees it (no folder)
 * @param mediaType e.g. {@code application/pdf}
 * @param size in bytes
 * @param sha256 lower-case hex of the bytes
 * @param bytes opens the bytes; each call a fresh stream the caller closes
 */
public record Attachment(String name, String mediaType, long size, String sha256, Source bytes) {
    /** Where an attachment's bytes are read from. */
    @FunctionalInterface
    public interface Source {
        InputStream open() throws IOException;
    }

    public Attachment {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(bytes, "bytes");
    }

    /** All the bytes (a file is at most the host's limit, 20 MiB by default). */
    public byte[] readAllBytes() throws IOException {
        try (InputStream in = bytes.open()) {
            return in.readAllBytes();
        }
    }
}
