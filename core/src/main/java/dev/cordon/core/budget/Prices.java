package dev.cordon.core.budget;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Model prices: a built-in list of the common Anthropic and OpenAI models (list prices, US dollars
 * per million tokens, as published in November 2026), with the operator's own from {@code
 * cordon.yaml} ({@code prices:}) on top. A dated model name ({@code claude-sonnet-4-5-20250929})
 * takes the price of its longest listed prefix that ends at a dash. Immutable.
 */
public final class Prices {
    private static final Map<String, Price> BUILT_IN = Map.ofEntries(
            Map.entry("claude-opus-4", new Price(15, 75, 1.50, 18.75)),
            Map.entry("claude-opus-4-1", new Price(15, 75, 1.50, 18.75)),
            Map.entry("claude-opus-4-5", new Price(5, 25, 0.50, 6.25)),
            Map.entry("claude-sonnet-4", new Price(3, 15, 0.30, 3.75)),
            Map.entry("claude-sonnet-4-5", new Price(3, 15, 0.30, 3.75)),
            Map.entry("claude-haiku-4-5", new Price(1, 5, 0.10, 1.25)),
            Map.entry("claude-3-5-haiku", new Price(0.80, 4, 0.08, 1)),
            Map.entry("gpt-5", new Price(1.25, 10, 0.125, 0)),
            Map.entry("gpt-5-mini", new Price(0.25, 2, 0.025, 0)),
            Map.entry("gpt-5-nano", new Price(0.05, 0.40, 0.005, 0)),
            Map.entry("gpt-4.1", new Price(2, 8, 0.50, 0)),
            Map.entry("gpt-4.1-mini", new Price(0.40, 1.60, 0.10, 0)),
            Map.entry("gpt-4.1-nano", new Price(0.10, 0.40, 0.025, 0)),
            Map.entry("gpt-4o", new Price(2.50, 10, 1.25, 0)),
            Map.entry("gpt-4o-mini", new Price(0.15, 0.60, 0.075, 0)),
            Map.entry("o3", new Price(2, 8, 0.50, 0)),
            Map.entry("o4-mini", new Price(1.10, 4.40, 0.275, 0)));

    private final Map<String, Price> prices;

    private Prices(Map<String, Price> prices) {
        this.prices = Map.copyOf(prices);
    }

    /** The built-in list with {@code overrides} (model name to price) on top. */
    public static Prices of(Map<String, Price> overrides) {
        Map<String, Price> all = new TreeMap<>(BUILT_IN);
        all.putAll(overrides);
        return new Prices(all);
    }

    /** The price of {@code model}, or empty when neither the list nor the operator names it. */
    public Optional<Price> of(String model) {
        Price exact = prices.get(model);
        if (exact != null) {
            return Optional.of(exact);
        }
        String best = null;
        for (String name : prices.keySet()) {
            if (model.startsWith(name + "-") && (best == null || name.length() > best.length())) {
                best = name;
            }
        }
        return Optional.ofNullable(best == null ? null : prices.get(best));
    }
}
