package dev.cordon.protocol;

/** The model wire formats Cordon speaks. */
public enum ModelApi {
    /** Anthropic Messages API, streamed as SSE ({@code POST /v1/messages}). */
    ANTHROPIC,
    /** OpenAI-compatible Chat Completions, streamed as SSE ({@code POST /chat/completions}). */
    OPENAI
}
