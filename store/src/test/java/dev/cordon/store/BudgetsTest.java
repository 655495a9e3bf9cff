package dev.cordon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditKeys;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.budget.Budget;
import dev.cordon.core.budget.Budgets;
import dev.cordon.core.budget.Ledger;
import dev.cordon.core.budget.Price;
import dev.cordon.core.budget.Prices;
import dev.cordon.core.session.ModelGateway;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.Usage;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Budgets and the ledger on a real SQLite store and a real audit log, with time moved by hand. The
 * model "answers" by the test settling each reserved call with the usage a provider would report.
 * Prices: model {@code m} costs $1 per million input and $10 per million output tokens, so 1,000
 * input tokens are $0.001 and 1,000 output tokens $0.01.
 */
class BudgetsTest {
    static final Instant START = Instant.parse("2030-01-31T22:00:00Z");
    static final Price PRICE = new Price(1, 10, 0.1, 1.25);

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(START);
    final List<String> notices = new CopyOnWriteArrayList<>();
    Store store;
    AuditLog audit;
    Budgets budgets;
    Agent ada;
    Chat chat;
    Chat other;
    Session session;
    Session otherSession;
    int calls;

    @BeforeEach
    void open() {
        store = Stores.sqlite(dir.resolve("cordon.db"), clock);
        audit = AuditLogs.open(
                store.audit(), AuditKeys.loadOrCreate(dir.resolve("audit-key")), AuditLogs.Settings.DEFAULTS, clock);
        budgets = new Budgets(
                store.ledger(),
                Prices.of(Map.of("m", PRICE)),
                audit,
                clock,
                (agent, message) -> notices.add(agent.name() + ": " + message));
        ada = store.ensureAgent(new AgentName("ada"));
        chat = store.ensureChat("terminal", "ada");
        other = store.ensureChat("slack", "C1");
        session = store.ensureSession(ada.id(), chat.id(), "");
        otherSession = store.ensureSession(ada.id(), other.id(), "");
    }

    @AfterEach
    void close() {
        audit.close();
        store.close();
    }

    Budgets.Call meter(Budget budget) {
        return budgets.meter(ada, chat.id(), session.id(), "call-" + ++calls, budget);
    }

    static Budget daily(double usd) {
        return new Budget(Math.round(usd * 1e6), 0, 0, 0, 80);
    }

    /** Reserves (1,000 in, 1,000 out at most: $0.011) and settles with {@code used}; returns the refusal or null. */
    ModelGateway.Refusal call(Budget budget, Usage used) {
        Budgets.Call meter = meter(budget);
        ModelGateway.Refusal refusal = meter.reserve("m", 1_000, 1_000);
        if (refusal == null) {
            meter.settle(used);
        }
        return refusal;
    }

    List<AuditEntry> audited(String action) {
        return store.audit().read(0, 10_000).stream()
                .filter(e -> e.event().action().equals(action))
                .toList();
    }

    @Test
    void aSettledCallIsWrittenToTheLedgerWithItsReportedTokensAndPrice() {
        Budgets.Call meter = meter(Budget.NONE);
        assertThat(meter.reserve("m", 5_000, 2_000)).isNull();
        meter.settle(new Usage(1_000, 500, 2_000, 400));

        Ledger.Charge charge = meter.charge().orElseThrow();
        // 1000*1 + 500*10 + 2000*0.1 + 400*1.25 = 6,700 micro-dollars
        assertThat(charge.costMicros()).isEqualTo(6_700);
        assertThat(charge.priced()).isTrue();
        assertThat(charge.reported()).isTrue();
        assertThat(charge.day()).isEqualTo(LocalDate.of(2030, 1, 31));
        assertThat(store.ledger().spend(ada.id(), chat.id(), charge.day()))
                .isEqualTo(new Ledger.Spend(6_700, 3_900, 6_700, 6_700));
        assertThat(store.ledger().totals(charge.day(), Ledger.Grouping.MODEL))
                .containsExactly(new Ledger.Total(charge.day(), "m", 1, new Usage(1_000, 500, 2_000, 400), 6_700, 0));
    }

    @Test
    void aCallThatWouldNotFitInTheDailyBudgetIsRefusedBeforeItIsMadeAndTheOwnerIsToldOnce() {
        Budget budget = daily(0.05);
        // Four calls of $0.011 each fit ($0.044); the fifth could take it to $0.055.
        for (int i = 0; i < 4; i++) {
            assertThat(call(budget, new Usage(1_000, 1_000, 0, 0))).isNull();
        }
        ModelGateway.Refusal refusal = call(budget, new Usage(1_000, 1_000, 0, 0));

        assertThat(refusal).isNotNull();
        assertThat(refusal.rule()).isEqualTo("budget.daily_usd");
        assertThat(refusal.message())
                .contains("this call could use up to $0.0110")
                .contains("only $0.0060 of agent ada's daily budget of $0.05 is left")
                .contains("resets at 00:00 UTC");
        assertThat(call(budget, Usage.ZERO)).isNotNull();
        assertThat(audited(AuditActions.BUDGET_EXHAUSTED)).hasSize(1);
        assertThat(notices.stream().filter(n -> n.contains("being refused"))).hasSize(1);
        assertThat(store.ledger()
                        .spend(ada.id(), chat.id(), LocalDate.of(2030, 1, 31))
                        .agentDayMicros())
                .as("refused calls cost nothing")
                .isEqualTo(44_000);
    }

    @Test
    void spendingPastTheLimitSaysTheBudgetIsUsedUp() {
        // The provider may report more input than the request's size suggested.
        assertThat(call(daily(0.02), new Usage(30_000, 1_000, 0, 0))).isNull();

        ModelGateway.Refusal refusal = call(daily(0.02), Usage.ZERO);

        assertThat(refusal.message()).contains("agent ada has used up its daily budget: $0.04 of $0.02");
    }

    @Test
    void theOwnerIsWarnedOnceWhenACallCrossesTheWarningShare() {
        Budget budget = daily(0.10);
        call(budget, new Usage(0, 7_000, 0, 0)); // $0.07: 70 %
        assertThat(notices).isEmpty();

        call(budget, new Usage(0, 1_000, 0, 0)); // $0.08: 80 %
        call(budget, new Usage(0, 1_000, 0, 0)); // $0.09: still only the one warning

        assertThat(notices).singleElement().asString().contains("has used $0.08 of its $0.10 daily_usd budget (80%)");
        assertThat(audited(AuditActions.BUDGET_WARNING))
                .singleElement()
                .satisfies(e -> assertThat(e.event().rule()).isEqualTo("budget.daily_usd"));
    }

    @Test
    void callsInFlightHoldTheirReservationSoConcurrentCallsCannotOverspend() {
        Budget budget = daily(0.03);
        Budgets.Call first = meter(budget);
        Budgets.Call second = meter(budget);
        Budgets.Call third = meter(budget);

        assertThat(first.reserve("m", 1_000, 1_000)).isNull();
        assertThat(second.reserve("m", 1_000, 1_000)).isNull();
        assertThat(third.reserve("m", 1_000, 1_000))
                .as("$0.033 held would pass $0.03")
                .isNotNull();

        first.settle(new Usage(100, 100, 0, 0)); // cost $0.0011: the rest of its hold is released
        assertThat(meter(budget).reserve("m", 1_000, 1_000)).isNull();
    }

    @Test
    void anAnswerWithoutUsageIsChargedWhatWasReserved() {
        Budgets.Call meter = meter(Budget.NONE);
        meter.reserve("m", 2_000, 3_000);
        meter.settle(null);

        Ledger.Charge charge = meter.charge().orElseThrow();
        assertThat(charge.reported()).isFalse();
        assertThat(charge.usage()).isEqualTo(new Usage(2_000, 3_000, 0, 0));
        assertThat(charge.costMicros()).isEqualTo(32_000);
    }

    @Test
    void theDayAndTheMonthAreUtcAndANewDayStartsAFreshDailyBudget() {
        Budget budget = new Budget(25_000, 30_000, 0, 0, 80);
        assertThat(call(budget, new Usage(0, 1_900, 0, 0))).isNull(); // $0.019 on 31 January
        assertThat(call(budget, Usage.ZERO))
                .extracting(ModelGateway.Refusal::rule)
                .isEqualTo("budget.daily_usd");

        clock.advance(Duration.ofHours(2)); // 00:00 UTC, 1 February: a new day and a new month
        assertThat(call(budget, new Usage(0, 1_900, 0, 0))).isNull();
        assertThat(call(budget, Usage.ZERO))
                .extracting(ModelGateway.Refusal::rule)
                .isEqualTo("budget.daily_usd");

        clock.advance(Duration.ofDays(1));
        assertThat(call(budget, new Usage(0, 1_000, 0, 0))).isNull(); // $0.029 this month
        ModelGateway.Refusal monthly = call(budget, Usage.ZERO);
        assertThat(monthly.rule()).isEqualTo("budget.monthly_usd");
        assertThat(monthly.message()).contains("it resets on 2030-03-01 at 00:00 UTC");
    }

    @Test
    void aChatBudgetCountsOnlyThatChat() {
        Budget budget = new Budget(0, 0, 15_000, 0, 80);
        assertThat(call(budget, new Usage(0, 1_000, 0, 0))).isNull(); // $0.01 in the terminal chat
        assertThat(call(budget, Usage.ZERO))
                .extracting(ModelGateway.Refusal::rule)
                .isEqualTo("budget.chat_daily_usd");

        Budgets.Call elsewhere = budgets.meter(ada, other.id(), otherSession.id(), "slack-1", budget);
        assertThat(elsewhere.reserve("m", 1_000, 1_000)).isNull();
    }

    @Test
    void aTokenBudgetNeedsNoPrices() {
        Budget budget = new Budget(0, 0, 0, 5_000, 80);
        Budgets.Call meter = meter(budget);
        assertThat(meter.reserve("unpriced-model", 1_000, 1_000)).isNull();
        meter.settle(new Usage(1_000, 1_000, 1_500, 0));

        ModelGateway.Refusal refusal = meter(budget).reserve("unpriced-model", 1_000, 1_000);

        assertThat(refusal.rule()).isEqualTo("budget.daily_tokens");
        assertThat(refusal.message())
                .contains("could use up to 2,000 tokens")
                .contains("only 1,500 tokens of agent ada's daily token budget of 5,000 tokens is left");
    }

    @Test
    void aDollarBudgetRefusesAModelWithoutAKnownPrice() {
        ModelGateway.Refusal refusal = meter(daily(1)).reserve("some-new-model", 10, 10);

        assertThat(refusal.rule()).isEqualTo("budget.prices");
        assertThat(refusal.message()).contains("no price is known for model 'some-new-model'");
        assertThat(meter(Budget.NONE).reserve("some-new-model", 10, 10))
                .as("without a dollar budget it is only recorded at $0")
                .isNull();
    }

    @Test
    void theLedgerIsAppendOnly() throws Exception {
        call(Budget.NONE, new Usage(1, 1, 0, 0));

        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cordon.db"));
                Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("UPDATE model_usage SET cost_micros = 0"))
                    .hasMessageContaining("append-only");
            assertThatThrownBy(() -> s.executeUpdate("DELETE FROM model_usage")).hasMessageContaining("append-only");
        }
    }

    @Test
    void builtInPricesMatchDatedModelNamesByTheirLongestPrefix() {
        Prices prices = Prices.of(Map.of());

        assertThat(prices.of("claude-sonnet-4-5-20250929")).contains(new Price(3, 15, 0.30, 3.75));
        assertThat(prices.of("gpt-4o-mini-2024-07-18")).contains(new Price(0.15, 0.60, 0.075, 0));
        assertThat(prices.of("gpt-4o-2024-08-06")).contains(new Price(2.50, 10, 1.25, 0));
        assertThat(prices.of("gpt-4omni")).isEmpty();
        assertThat(Prices.of(Map.of("gpt-4o", new Price(1, 1, 0, 0))).of("gpt-4o"))
                .contains(new Price(1, 1, 0, 0));
    }
}
