package dev.cordon.runner.model;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How a model client reaches its provider. Inside a sandbox this is the host channel (the host's
 * model gateway adds the key); in tests it can be plain HTTP to the fake model server.
 */
@FunctionalInterface
public interface HttpTransport {

    /**
     * POSTs {@code body} to {@code path} (relative to the provider's base URL) and returns once the
     * status line and headers are in. Blocks.
     *
     * @throws IOException if no response head arrives (connection refused, reset, timed out)
     */
    Response post(String path, Map<String, String> headers, byte[] body) throws IOException;

    /**
     * A response whose body streams. Reading {@code body} throws {@link IOException} if the stream
     * breaks before its end; the caller must close it.
     */
    record Response(int status, Map<String, List<String>> headers, InputStream body) {
        /** First value of a header, matched case-insensitively. */
        public Optional<String> header(String name) {
            return headers.entrySet().stream()
                    .filter(e ->
                            e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty())
                    .map(e -> e.getValue().getFirst())
                    .findFirst();
        }
    }
}
