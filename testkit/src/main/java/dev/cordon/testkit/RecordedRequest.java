package dev.cordon.testkit;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * A request as the {@link FakeModelServer} received it.
 *
 * @param method the HTTP method
 * @param path the path without query, e.g. {@code /v1/messages}
 * @param headers header names in lower case
 * @param body the parsed JSON body; a missing node when the body was not JSON
 * @param receivedNanos {@link System#nanoTime()} when the request head arrived
 */
public record RecordedRequest(
        String method, String path, Map<String, List<String>> headers, JsonNode body, long receivedNanos) {
    public RecordedRequest {
        headers = Map.copyOf(headers);
    }

    /** First value of a header, matched case-insensitively. */
    public Optional<String> header(String name) {
        List<String> values = headers.get(name.toLowerCase(java.util.Locale.ROOT));
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
    }
}
