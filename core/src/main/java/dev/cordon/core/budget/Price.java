package dev.cordon.core.budget;

import dev.cordon.protocol.Usage;

/**
 * What a model charges, in US dollars per million tokens (which is the same number as micro-dollars
 * per token).
 *
 * @param input uncached input tokens
 * @param output output tokens
 * @param cacheRead input tokens read from the provider's prompt cache
 * @param cacheWrite input tokens written to the prompt cache
 */
public record Price(double input, double output, double cacheRead, double cacheWrite) {
    public Price {
        for (double p : new double[] {input, output, cacheRead, cacheWrite}) {
            if (!(p >= 0 && p < 1_000_000)) {
                throw new IllegalArgumentException("a price must be from 0 to 1000000 USD per million tokens: " + p);
            }
        }
    }

    /** What {@code usage} costs, in micro-dollars, rounded up. */
    public long costMicros(Usage usage) {
        double micros = usage.inputTokens() * input
                + usage.outputTokens() * output
                + usage.cacheReadTokens() * cacheRead
                + usage.cacheWriteTokens() * cacheWrite;
        return (long) Math.ceil(micros - 1e-9);
    }
}
