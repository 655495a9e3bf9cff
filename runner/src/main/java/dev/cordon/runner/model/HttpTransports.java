package dev.cordon.runner.model;

import java.net.URI;
import java.util.Map;

/** Ready-made {@link HttpTransport}s. */
public final class HttpTransports {
    private HttpTransports() {}

    /**
     * A transport over the JDK's {@link java.net.http.HttpClient}, speaking HTTP/1.1 to {@code
     * baseUrl} (paths are appended to it, so an OpenAI base URL ends in {@code /v1}). {@code
     * extraHeaders} go on every request; this is how a test or the host adds {@code x-api-key} or
     * {@code Authorization}. Connecting times out after 10 s and a response head after 10 minutes
     * (the SDKs' default); a body that stalls is the client's {@link RetryPolicy#idleTimeout()} to
     * catch. Closing a body stream from another thread makes a blocked read on it fail. Thread-safe;
     * it holds an {@code HttpClient}, whose threads end when the transport is garbage.
     */
    public static HttpTransport jdk(URI baseUrl, Map<String, String> extraHeaders) {
        return new JdkHttpTransport(baseUrl, extraHeaders);
    }
}
