package dev.cordon.egress;

import dev.cordon.core.Domain.Agent;
import dev.cordon.core.session.ModelGateway;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.RunnerMessage.ModelRequest;
import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The host's model gateway (invariant 4: no secret enters a sandbox). A runner's model call
 * arrives here without a credential; the gateway checks the API, path and model against what the
 * agent is allowed, forwards only a fixed set of harmless headers, adds the provider key, and
 * streams the provider's answer back byte for byte. Refusals are answered in the provider's own
 * error format so the runner's client reports them like any API error. Thread-safe.
 */
final class HostModelGateway implements ModelGateway {
    private static final Set<String> REQUEST_HEADERS =
            Set.of("anthropic-version", "anthropic-beta", "accept", "content-type");
    private static final Set<String> RESPONSE_HEADERS =
            Set.of("content-type", "retry-after", "retry-after-ms", "x-should-retry", "request-id", "x-request-id");
    private static final int CHUNK = 16 * 1024;
    /** What a call that names no output limit is assumed to use at most, for its reservation. */
    static final long DEFAULT_MAX_OUTPUT = 32_768;

    private final Map<ModelApi, Provider> providers;
    private final HttpClient http;

    HostModelGateway(Map<ModelApi, Provider> providers, HttpClient http) {
        this.providers = Map.copyOf(providers);
        this.http = http;
    }

    @Override
    public void call(Agent agent, Allowed allowed, ModelRequest request, Meter meter, ResponseSink sink) {
        Provider provider = providers.get(request.api());
        if (provider == null || request.api() != allowed.api()) {
            refuse(
                    sink,
                    "model_gateway.api",
                    request.api(),
                    403,
                    "permission_error",
                    "the " + request.api().name().toLowerCase(Locale.ROOT) + " API is not configured for agent "
                            + agent.name());
            return;
        }
        String path = switch (request.api()) {
            case ANTHROPIC -> "/v1/messages";
            case OPENAI -> "/chat/completions";
        };
        if (!path.equals(request.path())) {
            refuse(
                    sink,
                    "model_gateway.path",
                    request.api(),
                    404,
                    "not_found_error",
                    "the model gateway forwards only POST " + path + ", not " + request.path());
            return;
        }
        JsonNode root = json(request.body());
        String model = root != null && root.get("model") instanceof JsonNode m && m.isString()
                ? m.asString()
                : root == null ? "(unreadable request body)" : "(none)";
        if (!allowed.models().contains(model)) {
            refuse(
                    sink,
                    allowed.rule(),
                    request.api(),
                    403,
                    "permission_error",
                    "model '" + model + "' is not allowed for agent " + agent.name() + " by " + allowed.rule()
                            + " (allowed: " + String.join(", ", new java.util.TreeSet<>(allowed.models()))
                            + "); the operator can change the agent's policy.yaml models list");
            return;
        }
        byte[] body = request.body();
        if (request.api() == ModelApi.OPENAI
                && root instanceof ObjectNode object
                && root.path("stream").asBoolean(false)) {
            // The ledger needs the final usage chunk; without this an OpenAI stream reports none.
            object.putObject("stream_options").put("include_usage", true);
            body = Wire.encode(object);
        }
        ModelGateway.Refusal over;
        try {
            over = meter.reserve(model, body.length / 3 + 1, maxTokens(root));
        } catch (RuntimeException e) {
            // Fail closed: a call whose cost cannot be counted is not made (the store may be back soon).
            refuse(
                    sink,
                    null,
                    request.api(),
                    503,
                    "api_error",
                    "the model gateway could not check agent " + agent.name() + "'s budget: " + e.getMessage());
            return;
        }
        if (over != null) {
            refuse(
                    sink,
                    over.rule(),
                    request.api(),
                    429,
                    request.api() == ModelApi.ANTHROPIC ? "rate_limit_error" : "insufficient_quota",
                    over.message());
            return;
        }
        Usage usage = null;
        try {
            usage = forward(provider, path, request, body, sink);
        } finally {
            meter.settle(usage);
        }
    }

    /**
     * Sends the call and streams the answer into {@code sink}.
     *
     * @return the tokens the provider reported; {@link Usage#ZERO} for an answer it does not bill (an
     *     error status, or no answer at all); null if a billed answer broke off before its count
     */
    private Usage forward(Provider provider, String path, ModelRequest request, byte[] requestBody, ResponseSink sink) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(provider.resolve(path))
                .POST(HttpRequest.BodyPublishers.ofByteArray(requestBody));
        request.headers().forEach((name, value) -> {
            if (REQUEST_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                builder.header(name, value);
            }
        });
        if (!provider.apiKey().isEmpty()) {
            switch (request.api()) {
                case ANTHROPIC -> builder.header("x-api-key", provider.apiKey());
                case OPENAI -> builder.header("Authorization", "Bearer " + provider.apiKey());
            }
        }
        HttpResponse<InputStream> response;
        try {
            response = http.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            refuse(
                    sink,
                    null,
                    request.api(),
                    502,
                    "api_error",
                    "the model gateway could not reach " + provider.baseUrl() + ": " + e);
            return Usage.ZERO;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            refuse(sink, null, request.api(), 499, "api_error", "the call was cancelled");
            return Usage.ZERO;
        }
        Map<String, List<String>> headers = new TreeMap<>();
        response.headers().map().forEach((name, values) -> {
            if (RESPONSE_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                headers.put(name.toLowerCase(Locale.ROOT), values);
            }
        });
        sink.head(response.statusCode(), headers);
        boolean billed = response.statusCode() >= 200 && response.statusCode() < 300;
        ProviderUsage usage = new ProviderUsage(
                request.api(), response.headers().firstValue("content-type").orElse(null));
        try (InputStream body = response.body()) {
            byte[] buffer = new byte[CHUNK];
            int n;
            while ((n = body.read(buffer)) >= 0) {
                if (Thread.currentThread().isInterrupted()) {
                    sink.end("cancelled");
                    return billed ? usage.result() : Usage.ZERO;
                }
                if (n > 0) {
                    byte[] chunk = Arrays.copyOf(buffer, n);
                    if (billed) {
                        usage.feed(chunk);
                    }
                    sink.chunk(chunk);
                }
            }
            sink.end(null);
        } catch (IOException e) {
            sink.end("the provider stream broke: " + e.getMessage());
        }
        return billed ? usage.result() : Usage.ZERO;
    }

    /** The request body as JSON, or null when it is not JSON (the provider will say so). */
    private static JsonNode json(byte[] body) {
        try {
            return Wire.mapper().readTree(body);
        } catch (JacksonException e) {
            return null;
        }
    }

    /**
     * The most output the call asks for: {@code max_tokens} (or OpenAI's {@code
     * max_completion_tokens}); {@link #DEFAULT_MAX_OUTPUT} when it names none.
     */
    private static long maxTokens(JsonNode root) {
        if (root != null) {
            for (String field : List.of("max_tokens", "max_completion_tokens")) {
                JsonNode n = root.get(field);
                if (n != null && n.isIntegralNumber() && n.canConvertToLong() && n.asLong() > 0) {
                    return n.asLong();
                }
            }
        }
        return DEFAULT_MAX_OUTPUT;
    }

    /** Answers in the provider's error format; {@code rule} is null for failures that are not refusals. */
    private static void refuse(ResponseSink sink, String rule, ModelApi api, int status, String type, String message) {
        if (rule != null) {
            sink.refused(rule, message);
        }
        ObjectNode error = Wire.mapper().createObjectNode();
        error.put("type", type);
        error.put("message", "Cordon model gateway: " + message);
        ObjectNode body = Wire.mapper().createObjectNode();
        if (api == ModelApi.ANTHROPIC) {
            body.put("type", "error");
        } else {
            // OpenAI's error object always carries these two, null when unused.
            error.putNull("param");
            error.putNull("code");
        }
        body.set("error", error);
        sink.head(
                status,
                Map.of(
                        "content-type",
                        List.of("application/json"),
                        "x-should-retry",
                        List.of(status >= 500 ? "true" : "false")));
        sink.chunk(Wire.encode(body));
        sink.end(null);
    }

    /** A provider endpoint and its key (empty for keyless local servers such as Ollama). */
    record Provider(ModelApi api, URI baseUrl, String apiKey) {
        URI resolve(String path) {
            String base = baseUrl.toString();
            if (base.endsWith("/")) {
                base = base.substring(0, base.length() - 1);
            }
            return URI.create(base + path);
        }

        @Override
        public String toString() {
            return "Provider[" + api + " " + baseUrl + "]"; // never the key
        }
    }
}
