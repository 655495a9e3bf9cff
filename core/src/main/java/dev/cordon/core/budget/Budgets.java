package dev.cordon.core.budget;

import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.session.ModelGateway;
import dev.cordon.protocol.Usage;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model spending: the ledger and the budgets (docs/budgets.md). Each model call is metered: before
 * the gateway forwards it, the most it could cost (its input estimated from the request's size,
 * plus its {@code max_tokens}) is reserved against every limit of the agent's budget, counting what
 * the ledger says was spent and what other calls in flight hold; a call that would not fit is
 * refused. After the answer the call is settled: its reported tokens priced and written to the
 * ledger, its reservation released. Crossing a limit's warning share, and the first refusal of a
 * period, are audited and told to the owner ({@link Listener}). Thread-safe.
 */
public final class Budgets {
    private static final Logger LOG = LoggerFactory.getLogger(Budgets.class);

    /** Who hears about budgets besides the audit log: the agent's owner. */
    public interface Listener {
        Listener NONE = (agent, message) -> {};

        /** A warning or an exhausted budget of {@code agent}, in words for its owner. */
        void notice(Agent agent, String message);
    }

    private final Ledger ledger;
    private final Prices prices;
    private final AuditLog audit;
    private final Clock clock;
    private final Listener listener;
    private final Map<AgentId, List<Held>> held = new ConcurrentHashMap<>();
    /** "agent rule period" of refusals the owner was already told about. */
    private final Set<String> told = ConcurrentHashMap.newKeySet();

    public Budgets(Ledger ledger, Prices prices, AuditLog audit, Clock clock, Listener listener) {
        this.ledger = ledger;
        this.prices = prices;
        this.audit = audit;
        this.clock = clock;
        this.listener = listener;
    }

    /** A meter for one call by {@code agent} in {@code chat}, under {@code budget}. */
    public Call meter(Agent agent, ChatId chat, SessionId session, String callId, Budget budget) {
        return new Call(agent, chat, session, callId, budget);
    }

    /** Micro-dollars and tokens a call in flight holds. */
    private record Held(LocalDate day, ChatId chat, long micros, long tokens) {}

    /** One call's meter; after the call, {@link #charge} is what it was charged. */
    public final class Call implements ModelGateway.Meter {
        private final Agent agent;
        private final ChatId chat;
        private final SessionId session;
        private final String callId;
        private final Budget budget;
        private Held reservation;
        private String model;
        private Optional<Price> price = Optional.empty();
        private long maxInput;
        private long maxOutput;
        private Ledger.Charge charge;

        private Call(Agent agent, ChatId chat, SessionId session, String callId, Budget budget) {
            this.agent = agent;
            this.chat = chat;
            this.session = session;
            this.callId = callId;
            this.budget = budget;
        }

        /** What the call was charged, once settled. */
        public Optional<Ledger.Charge> charge() {
            return Optional.ofNullable(charge);
        }

        @Override
        public ModelGateway.Refusal reserve(String model, long maxInputTokens, long maxOutputTokens) {
            if (reservation != null) {
                throw new IllegalStateException("call " + callId + " is already reserved");
            }
            this.model = model;
            this.price = prices.of(model);
            this.maxInput = maxInputTokens;
            this.maxOutput = maxOutputTokens;
            LocalDate day = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
            Usage most = new Usage(maxInputTokens, maxOutputTokens, 0, 0);
            long micros = price.map(p -> p.costMicros(most)).orElse(0L);
            long tokens = Ledger.Charge.tokens(most);
            if (budget.inDollars() && price.isEmpty()) {
                return refuse(
                        "budget.prices",
                        "agent " + agent.name() + " has a budget in dollars but no price is known for model '"
                                + model + "', so its calls cannot be counted; the operator can add it under"
                                + " prices in cordon.yaml",
                        day);
            }
            List<Held> mine = held.computeIfAbsent(agent.id(), k -> new ArrayList<>());
            synchronized (mine) {
                Ledger.Spend spent = ledger.spend(agent.id(), chat, day);
                long dayMicros = spent.agentDayMicros();
                long dayTokens = spent.agentDayTokens();
                long monthMicros = spent.agentMonthMicros();
                long chatMicros = spent.chatDayMicros();
                for (Held h : mine) {
                    if (h.day.equals(day)) {
                        dayMicros += h.micros;
                        dayTokens += h.tokens;
                        chatMicros += h.chat.equals(chat) ? h.micros : 0;
                    }
                    if (h.day.getMonth() == day.getMonth() && h.day.getYear() == day.getYear()) {
                        monthMicros += h.micros;
                    }
                }
                ModelGateway.Refusal refusal =
                        check("budget.daily_tokens", budget.dailyTokens(), dayTokens, tokens, day);
                if (refusal == null) {
                    refusal = check("budget.chat_daily_usd", budget.chatDailyMicros(), chatMicros, micros, day);
                }
                if (refusal == null) {
                    refusal = check("budget.daily_usd", budget.dailyMicros(), dayMicros, micros, day);
                }
                if (refusal == null) {
                    refusal = check("budget.monthly_usd", budget.monthlyMicros(), monthMicros, micros, day);
                }
                if (refusal != null) {
                    return refusal;
                }
                reservation = new Held(day, chat, micros, tokens);
                mine.add(reservation);
                return null;
            }
        }

        private ModelGateway.Refusal check(String rule, long limit, long used, long needed, LocalDate day) {
            if (limit == 0 || used + needed <= limit) {
                return null;
            }
            boolean tokens = rule.equals("budget.daily_tokens");
            String what = switch (rule) {
                case "budget.daily_tokens" -> "daily token budget";
                case "budget.chat_daily_usd" -> "daily budget for this chat";
                case "budget.daily_usd" -> "daily budget";
                default -> "monthly budget";
            };
            String resets = rule.equals("budget.monthly_usd")
                    ? "it resets on " + day.withDayOfMonth(1).plusMonths(1) + " at 00:00 UTC"
                    : "it resets at 00:00 UTC";
            String message = used >= limit
                    ? "agent " + agent.name() + " has used up its " + what + ": " + amount(used, tokens) + " of "
                            + amount(limit, tokens) + " (" + rule + " in its policy.yaml); " + resets
                            + ". The owner can raise the limit."
                    : "this call could use up to " + amount(needed, tokens) + " (" + maxInput
                            + " input tokens at most and max_tokens " + maxOutput + ") and only "
                            + amount(limit - used, tokens) + " of agent " + agent.name() + "'s " + what + " of "
                            + amount(limit, tokens) + " is left (" + rule + " in its policy.yaml); " + resets
                            + ". The owner can raise the limit, or lower the most a call may write"
                            + " (model.max_tokens in cordon.yaml).";
            return refuse(rule, message, day);
        }

        private ModelGateway.Refusal refuse(String rule, String message, LocalDate day) {
            String period = rule.equals("budget.monthly_usd") ? day.toString().substring(0, 7) : day.toString();
            if (told.add(agent.id().value() + " " + rule + " " + period)) {
                record(AuditActions.BUDGET_EXHAUSTED, Decision.DENY, rule, message);
                listener.notice(agent, "Model calls of agent " + agent.name() + " are being refused: " + message);
            }
            return new ModelGateway.Refusal(rule, message);
        }

        @Override
        public void settle(Usage reported) {
            if (reservation == null) {
                throw new IllegalStateException("call " + callId + " settled without a reservation");
            }
            Usage usage = reported == null ? new Usage(maxInput, maxOutput, 0, 0) : reported;
            long cost = price.map(p -> p.costMicros(usage)).orElse(0L);
            List<Held> mine = held.get(agent.id());
            Ledger.Spend after;
            synchronized (mine) {
                mine.remove(reservation);
                charge = new Ledger.Charge(
                        agent.id(),
                        chat,
                        session,
                        callId,
                        clock.instant(),
                        reservation.day,
                        model,
                        usage,
                        cost,
                        price.isPresent(),
                        reported != null);
                try {
                    ledger.record(charge);
                } catch (RuntimeException e) {
                    // The provider has already answered: losing the row must not fail the turn.
                    LOG.error(
                            "agent {}: could not write call {} to the ledger: {}", agent.name(), callId, e.toString());
                    return;
                }
                after = ledger.spend(agent.id(), chat, reservation.day);
            }
            warn("budget.daily_usd", budget.dailyMicros(), after.agentDayMicros(), cost, false);
            warn("budget.monthly_usd", budget.monthlyMicros(), after.agentMonthMicros(), cost, false);
            warn("budget.chat_daily_usd", budget.chatDailyMicros(), after.chatDayMicros(), cost, false);
            warn("budget.daily_tokens", budget.dailyTokens(), after.agentDayTokens(), charge.tokens(), true);
        }

        /** Warns once, on the call that takes spending across the warning share of a limit. */
        private void warn(String rule, long limit, long after, long added, boolean tokens) {
            if (limit == 0) {
                return;
            }
            long threshold = Math.ceilDiv(limit * budget.warnPercent(), 100);
            if (after - added < threshold && after >= threshold) {
                String message = "agent " + agent.name() + " has used " + amount(after, tokens) + " of its "
                        + amount(limit, tokens) + " " + rule.substring("budget.".length()) + " budget ("
                        + Math.min(999, after * 100 / limit) + "%); calls that do not fit are refused.";
                record(AuditActions.BUDGET_WARNING, Decision.INFO, rule, message);
                listener.notice(agent, message);
            }
        }

        private void record(String action, Decision decision, String rule, String reason) {
            try {
                audit.append(AuditEvent.of(clock.instant(), AuditEvent.Actor.system("budgets"), action, decision)
                        .withAgent(agent.name())
                        .withSession(session)
                        .withRule(rule)
                        .withReason(AuditEvent.clip(reason))
                        .withDetails(Map.of("model", model)));
            } catch (RuntimeException e) {
                LOG.error("agent {}: could not audit {}: {}", agent.name(), action, e.toString());
            }
        }
    }

    private static String amount(long value, boolean tokens) {
        return tokens ? String.format(java.util.Locale.ROOT, "%,d tokens", value) : Budget.dollars(value);
    }
}
