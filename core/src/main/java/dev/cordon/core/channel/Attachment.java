package dev.cordon.core.channel;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
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

    /**
     * The platform could not hand a file over now: it answered 408, 429 or a 5xx. Trying again
     * later may work, unlike a 404 (the file is gone) or a 403 (the token is refused), which an
     * adapter reports as a plain {@link IOException}.
     */
    public static final class Unavailable extends IOException {
        private final Duration retryAfter;

        /** @param retryAfter how long the platform asked to wait ({@code Retry-After}), or null */
        public Unavailable(String message, Duration retryAfter) {
            super(message);
            this.retryAfter = retryAfter;
        }

        /** The platform's requested wait, or null if it named none. */
        public Duration retryAfter() {
            return retryAfter;
        }

        /** Whether an HTTP status says "try again later" (408, 429, 5xx). */
        public static boolean isTransient(int status) {
            return status == 408 || status == 429 || status >= 500;
        }

        /** An {@link Unavailable} for a transient {@code status}, else a plain {@link IOException}. */
        public static IOException forStatus(int status, String message, Duration retryAfter) {
            return isTransient(status) ? new Unavailable(message, retryAfter) : new IOException(message);
        }
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
