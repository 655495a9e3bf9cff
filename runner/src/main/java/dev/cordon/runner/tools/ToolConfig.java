package dev.cordon.runner.tools;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings shared by the built-in tools.
 *
 * @param workspace the directory relative paths resolve against and {@code bash} runs in; stored
 *     absolute and normalized
 * @param defaultBashTimeout how long a {@code bash} call may run when the model gives no timeout
 * @param maxBashTimeout the largest timeout the model may ask for
 * @param outputLimitChars the most characters of output one call returns; more is cut with a note
 */
public record ToolConfig(Path workspace, Duration defaultBashTimeout, Duration maxBashTimeout, int outputLimitChars) {

    /**
     * @throws IllegalArgumentException if a timeout is not positive, the default exceeds the
     *     maximum, or the output limit is not positive
     */
    public ToolConfig {
        Objects.requireNonNull(workspace, "workspace");
        Objects.requireNonNull(defaultBashTimeout, "defaultBashTimeout");
        Objects.requireNonNull(maxBashTimeout, "maxBashTimeout");
        workspace = workspace.toAbsolutePath().normalize();
        if (defaultBashTimeout.toMillis() <= 0) {
            throw new IllegalArgumentException("defaultBashTimeout must be at least 1 ms: " + defaultBashTimeout);
        }
        if (maxBashTimeout.compareTo(defaultBashTimeout) < 0) {
            throw new IllegalArgumentException(
                    "maxBashTimeout " + maxBashTimeout + " is shorter than defaultBashTimeout " + defaultBashTimeout);
        }
        if (outputLimitChars <= 0) {
            throw new IllegalArgumentException("outputLimitChars must be positive: " + outputLimitChars);
        }
    }

    /** Two minutes by default, ten at most, 30,000 characters of output. */
    public static ToolConfig defaults(Path workspace) {
        return new ToolConfig(workspace, Duration.ofMinutes(2), Duration.ofMinutes(10), 30_000);
    }
}
