package dev.cordon.core.budget;

import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.protocol.Usage;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Objects;

/**
 * The token and cost ledger: one row per model call the gateway forwarded, never changed or
 * removed. The store implements it ({@code Store#ledger}).
 */
public interface Ledger {
    /** Appends a settled call. */
    void record(Charge charge);

    /**
     * What an agent and one of its chats have spent on {@code day} (UTC), and the agent in its month;
     * {@code chat} may be null (then the chat's share is 0).
     */
    Spend spend(AgentId agent, ChatId chat, LocalDate day);

    /** Totals per day and {@code by}, from {@code from} (UTC, inclusive), newest day first. */
    List<Total> totals(LocalDate from, Grouping by);

    /**
     * A forwarded call as it was charged.
     *
     * @param day the UTC day the call was reserved on, which it counts against
     * @param costMicros what it cost in micro-dollars (0 when the model has no known price)
     * @param priced whether the model's price was known
     * @param reported whether the provider reported the tokens; if not (the answer broke off), the
     *     call is charged what was reserved for it
     */
    record Charge(
            AgentId agent,
            ChatId chat,
            SessionId session,
            String callId,
            Instant at,
            LocalDate day,
            String model,
            Usage usage,
            long costMicros,
            boolean priced,
            boolean reported) {
        public Charge {
            Objects.requireNonNull(agent, "agent");
            Objects.requireNonNull(chat, "chat");
            Objects.requireNonNull(session, "session");
            Objects.requireNonNull(callId, "callId");
            Objects.requireNonNull(at, "at");
            Objects.requireNonNull(day, "day");
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(usage, "usage");
        }

        /** Input, output and cache tokens together: what a token budget counts. */
        public long tokens() {
            return tokens(usage);
        }

        static long tokens(Usage u) {
            return u.inputTokens() + u.outputTokens() + u.cacheReadTokens() + u.cacheWriteTokens();
        }
    }

    /** Sums from the ledger, in micro-dollars and tokens. */
    record Spend(long agentDayMicros, long agentDayTokens, long agentMonthMicros, long chatDayMicros) {
        public static final Spend ZERO = new Spend(0, 0, 0, 0);
    }

    /** How {@link #totals} groups a day's rows. */
    enum Grouping {
        AGENT,
        CHAT,
        MODEL
    }

    /**
     * One line of {@link #totals}.
     *
     * @param key the agent name, the chat ({@code channel:id}) or the model
     * @param unpriced calls whose model had no known price (their cost counts as 0)
     */
    record Total(LocalDate day, String key, long calls, Usage usage, long costMicros, long unpriced) {}
}
