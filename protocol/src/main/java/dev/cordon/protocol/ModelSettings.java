package dev.cordon.protocol;

import java.util.Objects;

/** Which model a turn uses. The API key is never here: the host's model gateway adds it. */
public record ModelSettings(ModelApi api, String model, int maxTokens) {
    public ModelSettings {
        Objects.requireNonNull(api, "api");
        Objects.requireNonNull(model, "model");
        if (maxTokens <= 0) {
            throw new IllegalArgumentException("maxTokens must be positive, was " + maxTokens);
        }
    }
}
