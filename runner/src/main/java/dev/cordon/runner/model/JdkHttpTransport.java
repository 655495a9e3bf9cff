package dev.cordon.runner.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@link HttpTransport} over {@link HttpClient}; see {@link HttpTransports#jdk}. */
final class JdkHttpTransport implements HttpTransport {
    /** Headers HttpClient sets itself and refuses from callers. */
    private static final Set<String> RESTRICTED = Set.of("connection", "content-length", "expect", "host", "upgrade");

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration HEAD_TIMEOUT = Duration.ofMinutes(10);

    private final String baseUrl;
    private final Map<String, String> extraHeaders;
    private final HttpClient client;

    JdkHttpTransport(URI baseUrl, Map<String, String> extraHeaders) {
        String base = baseUrl.toString();
        this.baseUrl = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        this.extraHeaders = Map.copyOf(extraHeaders);
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    @Override
    public Response post(String path, Map<String, String> headers, byte[] body) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .timeout(HEAD_TIMEOUT)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach((name, value) -> header(request, name, value));
        extraHeaders.forEach((name, value) -> header(request, name, value));
        try {
            HttpResponse<InputStream> response =
                    client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            return new Response(response.statusCode(), response.headers().map(), response.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException interrupted = new InterruptedIOException("interrupted while waiting for " + path);
            interrupted.initCause(e);
            throw interrupted;
        }
    }

    private static void header(HttpRequest.Builder request, String name, String value) {
        if (!RESTRICTED.contains(name.toLowerCase(Locale.ROOT))) {
            request.setHeader(name, value);
        }
    }
}
