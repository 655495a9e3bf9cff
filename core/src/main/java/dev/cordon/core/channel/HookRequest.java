package dev.cordon.core.channel;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One HTTP request a platform made to the daemon's hook listener, already read whole and within
 * the listener's size limit.
 *
 * @param method {@code GET} or {@code POST}
 * @param path what follows {@code /hooks/CHANNEL} in the URL ({@code ""} or {@code /NAME})
 * @param headers names in lower case; each with its values in order
 * @param query the query parameters, each with its first value
 * @param body the raw bytes, exactly as signed: a signature is checked over these, never over a
 *     re-encoding
 */
public record HookRequest(
        String method, String path, Map<String, List<String>> headers, Map<String, String> query, byte[] body) {
    public HookRequest {
        TreeMap<String, List<String>> lower = new TreeMap<>();
        headers.forEach(
                (name, values) -> lower.computeIfAbsent(name.toLowerCase(Locale.ROOT), n -> new java.util.ArrayList<>())
                        .addAll(values));
        headers = java.util.Collections.unmodifiableMap(lower);
        query = Map.copyOf(query);
        body = body.clone();
    }

    /** The header's first value, or empty; {@code name} in any case. */
    public Optional<String> header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
    }

    @Override
    public byte[] body() {
        return body.clone();
    }
}
