package dev.cordon.core.budget;

/**
 * An agent's spending limits, from its policy ({@code budget:}); 0 means no limit. Days and months
 * are UTC.
 *
 * @param dailyMicros what the agent may spend per day, in micro-dollars
 * @param monthlyMicros what it may spend per calendar month
 * @param chatDailyMicros what it may spend per day on any one chat
 * @param dailyTokens tokens per day (input, output and cache tokens together)
 * @param warnPercent the share of a limit at which the owner is warned (1 to 100)
 */
public record Budget(long dailyMicros, long monthlyMicros, long chatDailyMicros, long dailyTokens, int warnPercent) {
    public static final int DEFAULT_WARN_PERCENT = 80;
    public static final Budget NONE = new Budget(0, 0, 0, 0, DEFAULT_WARN_PERCENT);

    public Budget {
        if (dailyMicros < 0 || monthlyMicros < 0 || chatDailyMicros < 0 || dailyTokens < 0) {
            throw new IllegalArgumentException("limits must not be negative");
        }
        if (warnPercent < 1 || warnPercent > 100) {
            throw new IllegalArgumentException("warnPercent must be from 1 to 100: " + warnPercent);
        }
    }

    /** Whether any limit in dollars is set (then every call needs a known price). */
    public boolean inDollars() {
        return dailyMicros > 0 || monthlyMicros > 0 || chatDailyMicros > 0;
    }

    /** Formats micro-dollars as {@code $1.23}, or {@code $0.0042} when that would hide part of a cent. */
    public static String dollars(long micros) {
        return String.format(java.util.Locale.ROOT, micros % 10_000 == 0 ? "$%.2f" : "$%.4f", micros / 1e6);
    }
}
