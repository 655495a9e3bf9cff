package dev.cordon.store;

import static java.util.Objects.requireNonNull;

import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.budget.Ledger;
import dev.cordon.protocol.Usage;
import java.time.LocalDate;
import java.util.List;

/**
 * {@link Ledger} in the store's database: table {@code model_usage} (migration V5), append-only.
 * A write is one durable transaction on the store's writer; the sums a budget check needs are one
 * indexed read. Thread-safe.
 */
final class JdbcLedger implements Ledger {
    /** Before every model call: an agent's day and month, a chat's day, in one read of the agent's month. */
    static final String SPEND = """
            SELECT
              coalesce(sum(CASE WHEN day = :day THEN cost_micros END), 0) AS day_micros,
              coalesce(sum(CASE WHEN day = :day
                  THEN input_tokens + output_tokens + cache_read_tokens + cache_write_tokens END), 0) AS day_tokens,
              coalesce(sum(cost_micros), 0) AS month_micros,
              coalesce(sum(CASE WHEN day = :day AND chat_id = :chat THEN cost_micros END), 0) AS chat_micros
            FROM model_usage
            WHERE agent_id = :agent AND day >= :first AND day <= :last""";

    private final Database db;

    JdbcLedger(Database db) {
        this.db = db;
    }

    @Override
    public void record(Charge c) {
        requireNonNull(c, "charge");
        db.withWriteTransaction(
                "recordUsage",
                h -> h.createUpdate("""
                        INSERT INTO model_usage (agent_id, chat_id, session_id, call_id, at, day, model,
                            input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                            cost_micros, priced, reported)
                        VALUES (:agent, :chat, :session, :call, :at, :day, :model,
                            :input, :output, :cacheRead, :cacheWrite, :cost, :priced, :reported)""")
                        .bind("agent", c.agent().value())
                        .bind("chat", c.chat().value())
                        .bind("session", c.session().value())
                        .bind("call", c.callId())
                        .bind("at", c.at().toEpochMilli())
                        .bind("day", c.day().toString())
                        .bind("model", c.model())
                        .bind("input", c.usage().inputTokens())
                        .bind("output", c.usage().outputTokens())
                        .bind("cacheRead", c.usage().cacheReadTokens())
                        .bind("cacheWrite", c.usage().cacheWriteTokens())
                        .bind("cost", c.costMicros())
                        .bind("priced", c.priced() ? 1 : 0)
                        .bind("reported", c.reported() ? 1 : 0)
                        .execute());
    }

    @Override
    public Spend spend(AgentId agent, ChatId chat, LocalDate day) {
        requireNonNull(agent, "agent");
        String month = day.toString().substring(0, 7);
        return db.withReadTransaction(
                "spend",
                h -> h.createQuery(SPEND)
                        .bind("agent", agent.value())
                        .bind("chat", chat == null ? -1 : chat.value())
                        .bind("day", day.toString())
                        .bind("first", month + "-01")
                        .bind("last", month + "-31")
                        .map((rs, ctx) -> new Spend(
                                rs.getLong("day_micros"),
                                rs.getLong("day_tokens"),
                                rs.getLong("month_micros"),
                                rs.getLong("chat_micros")))
                        .one());
    }

    @Override
    public List<Total> totals(LocalDate from, Grouping by) {
        requireNonNull(from, "from");
        String key = switch (requireNonNull(by, "by")) {
            case AGENT -> "a.name";
            case CHAT -> "c.channel || ':' || c.platform_chat_id";
            case MODEL -> "u.model";
        };
        return db.withReadTransaction(
                "usageTotals",
                h -> h.createQuery("""
                        SELECT u.day, %s AS k, count(*) AS calls,
                          sum(u.input_tokens) AS input, sum(u.output_tokens) AS output,
                          sum(u.cache_read_tokens) AS cache_read, sum(u.cache_write_tokens) AS cache_write,
                          sum(u.cost_micros) AS cost, sum(1 - u.priced) AS unpriced
                        FROM model_usage u
                        JOIN agents a ON a.id = u.agent_id
                        JOIN chats c ON c.id = u.chat_id
                        WHERE u.day >= :from
                        GROUP BY u.day, k
                        ORDER BY u.day DESC, cost DESC, k""".formatted(key))
                        .bind("from", from.toString())
                        .map((rs, ctx) -> new Total(
                                LocalDate.parse(rs.getString("day")),
                                rs.getString("k"),
                                rs.getLong("calls"),
                                new Usage(
                                        rs.getLong("input"),
                                        rs.getLong("output"),
                                        rs.getLong("cache_read"),
                                        rs.getLong("cache_write")),
                                rs.getLong("cost"),
                                rs.getLong("unpriced")))
                        .list());
    }
}
