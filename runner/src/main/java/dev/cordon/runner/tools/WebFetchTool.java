package dev.cordon.runner.tools;

import dev.cordon.runner.model.ToolSpec;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProxySelector;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import tools.jackson.databind.JsonNode;

/**
 * {@code web_fetch}: GETs a web page through the sandbox's egress proxy (the only way out; the
 * host's egress policy decides) and returns it as text. HTML becomes readable text ({@link
 * HtmlText}); other text comes as it is; binary content is refused with a pointer to curl.
 * Thread-safe.
 */
final class WebFetchTool implements Tool {
    static final String NAME = "web_fetch";
    /** The most bytes of an answer read. */
    static final int MAX_BYTES = 5 << 20;

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static final InputSchema SCHEMA = InputSchema.builder(NAME)
            .requiredText("url", "The http:// or https:// address to fetch.")
            .optionalInteger("max_chars", 1_000, 200_000, "The most characters of text to return.")
            .build();

    private static final ToolSpec SPEC = new ToolSpec(
            NAME,
            "Fetches a web page (GET) through this sandbox's egress proxy and returns it as text: HTML as"
                    + " readable text with headings, list items and links kept, other text as it is. Only hosts"
                    + " your egress policy allows can be reached; a refusal says which rule refused it. For"
                    + " downloads or other methods use bash with curl.",
            SCHEMA.json());

    private final ProxySelector proxy;
    private final int limit;
    /** Built at the first call: most turns never fetch, and a client costs every runner start. */
    private volatile HttpClient client;

    WebFetchTool(ProxySelector proxy, int limit) {
        this.proxy = proxy;
        this.limit = limit;
    }

    private HttpClient client() {
        HttpClient c = client;
        if (c == null) {
            synchronized (this) {
                c = client;
                if (c == null) {
                    c = HttpClient.newBuilder()
                            .proxy(proxy)
                            .followRedirects(HttpClient.Redirect.NORMAL)
                            .connectTimeout(TIMEOUT)
                            .build();
                    client = c;
                }
            }
        }
        return c;
    }

    @Override
    public ToolSpec spec() {
        return SPEC;
    }

    @Override
    public ToolOutput run(JsonNode input) {
        URI url;
        int maxChars;
        try {
            InputSchema.Args args = SCHEMA.parse(input);
            url = url(args.string("url"));
            maxChars = (int) Math.min(limit, args.integer("max_chars", limit));
        } catch (InvalidInputException e) {
            return e.toOutput();
        }
        HttpRequest request = HttpRequest.newBuilder(url)
                .timeout(TIMEOUT)
                .header("User-Agent", "cordon-web-fetch/1")
                .header("Accept", "text/html, text/plain;q=0.9, application/json;q=0.9, */*;q=0.1")
                .GET()
                .build();
        HttpResponse<InputStream> response;
        byte[] body;
        try {
            response = client().send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = response.body()) {
                body = in.readNBytes(MAX_BYTES + 1);
            }
        } catch (HttpTimeoutException e) {
            return ToolOutput.error("No answer from " + url + " within " + TIMEOUT.toSeconds() + " s.");
        } catch (IOException e) {
            String why = Text.describe(e);
            if (why.contains("403")) {
                // An HTTPS tunnel the proxy refused: the JDK reports only the status.
                return ToolOutput.error("The egress proxy refused the connection to " + url.getHost()
                        + " (" + why + "). This agent's egress policy does not allow that host; the owner has been"
                        + " asked, and can allow it with an approval or a rule in the agent's policy.");
            }
            return ToolOutput.error("Cannot fetch " + url + ": " + why);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ToolOutput.error("Stopped before " + url + " answered.");
        }
        String type = response.headers().firstValue("content-type").orElse("").toLowerCase(Locale.ROOT);
        boolean deniedByProxy = response.headers().firstValue("x-cordon-egress").isPresent();
        String text;
        if (type.contains("html")) {
            text = HtmlText.render(
                    new String(body, 0, Math.min(body.length, MAX_BYTES), charset(type)),
                    response.uri().toString());
        } else if (type.isEmpty() || type.startsWith("text/") || type.contains("json") || type.contains("xml")) {
            text = new String(body, 0, Math.min(body.length, MAX_BYTES), charset(type));
        } else {
            return ToolOutput.error(url + " answered " + response.statusCode() + " with " + type + " ("
                    + (body.length > MAX_BYTES ? "over " + MAX_BYTES + " bytes" : Text.count(body.length, "byte"))
                    + "), which is not text. Download it with bash and curl instead.");
        }
        StringBuilder out = new StringBuilder()
                .append(deniedByProxy ? "The egress proxy answered for " : "GET ")
                .append(response.uri())
                .append(" → ")
                .append(response.statusCode())
                .append(type.isEmpty() ? "" : " (" + type + ")")
                .append("\n\n");
        if (text.length() > maxChars) {
            out.append(text, 0, maxChars)
                    .append("\n[cut at ")
                    .append(maxChars)
                    .append(" of ")
                    .append(text.length())
                    .append(" characters]");
        } else {
            out.append(text);
        }
        if (body.length > MAX_BYTES) {
            out.append("\n[the answer is over ").append(MAX_BYTES >> 20).append(" MiB; only the start was read]");
        }
        return response.statusCode() >= 400 ? ToolOutput.error(out.toString()) : ToolOutput.ok(out.toString());
    }

    private static URI url(String text) throws InvalidInputException {
        try {
            URI uri = new URI(text.strip());
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
                throw new InvalidInputException(
                        "Invalid argument 'url': must be an http:// or https:// address with a host, got '" + text
                                + "'.");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new InvalidInputException("Invalid argument 'url': not a valid address (" + e.getMessage() + ").");
        }
    }

    private static Charset charset(String contentType) {
        int at = contentType.indexOf("charset=");
        if (at < 0) {
            return StandardCharsets.UTF_8;
        }
        String name = contentType.substring(at + 8).split("[;\\s]")[0].replace("\"", "");
        try {
            return Charset.forName(name);
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
        }
    }
}
