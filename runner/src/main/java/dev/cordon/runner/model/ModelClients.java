package dev.cordon.runner.model;

/**
 * Builds {@link ModelClient}s: thin clients over an {@link HttpTransport} and Jackson, no vendor
 * SDK. Each call streams (SSE) and retries per the {@link RetryPolicy}.
 */
public final class ModelClients {
    private ModelClients() {}

    /**
     * A client for the Anthropic Messages API ({@code POST /v1/messages}, {@code anthropic-version:
     * 2023-06-01}). The system prompt and the tool list are marked for prompt caching. The transport's
     * base URL is the API root, e.g. {@code https://api.anthropic.com}.
     */
    public static ModelClient anthropic(HttpTransport transport, RetryPolicy policy) {
        return new StreamingModelClient(new AnthropicWire(), transport, policy);
    }

    /**
     * A client for OpenAI Chat Completions ({@code POST /chat/completions}), which Ollama, vLLM and
     * OpenRouter speak too. The transport's base URL includes the version, e.g. {@code
     * https://api.openai.com/v1} or {@code http://localhost:11434/v1}. {@link
     * dev.cordon.protocol.Usage#inputTokens()} excludes cached prompt tokens, which are reported as
     * cache reads, so usage means the same for both providers.
     */
    public static ModelClient openai(HttpTransport transport, RetryPolicy policy) {
        return new StreamingModelClient(new OpenAiWire(), transport, policy);
    }
}
