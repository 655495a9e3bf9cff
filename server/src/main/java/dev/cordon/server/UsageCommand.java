package dev.cordon.server;

import dev.cordon.core.Domain.Agent;
import dev.cordon.core.budget.Budget;
import dev.cordon.core.budget.Ledger;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.store.Store;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code cordon usage}: model spending from the ledger per UTC day, by agent (or chat, or model),
 * and each agent's budgets with what today and this month have used. Reads the home's database
 * beside a running daemon; never writes.
 */
final class UsageCommand {
    static final String USAGE = """
            usage: cordon usage [--days N] [--by agent|chat|model]
              model calls, tokens and cost per UTC day (default: the last 7 days, by agent),
              then each agent's budgets (policy.yaml budget:) and how much of them is used""";

    private UsageCommand() {}

    static int run(
            Path homeDir, Map<String, String> env, List<String> args, Clock clock, PrintStream out, PrintStream err) {
        int days = 7;
        Ledger.Grouping by = Ledger.Grouping.AGENT;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String value = i + 1 < args.size() ? args.get(i + 1) : null;
            switch (arg) {
                case "--days" -> {
                    if (value == null || !value.matches("[0-9]{1,4}") || Integer.parseInt(value) < 1) {
                        err.println("cordon usage: --days needs a number of days from 1 to 9999");
                        return 2;
                    }
                    days = Integer.parseInt(value);
                    i++;
                }
                case "--by" -> {
                    if (value == null || !List.of("agent", "chat", "model").contains(value)) {
                        err.println("cordon usage: --by must be agent, chat or model");
                        return 2;
                    }
                    by = Ledger.Grouping.valueOf(value.toUpperCase(Locale.ROOT));
                    i++;
                }
                default -> {
                    err.println(USAGE);
                    return 2;
                }
            }
        }
        Home home = new Home(homeDir);
        Store opened = StoreChoice.openExisting(home, err);
        if (opened == null) {
            return 2;
        }
        LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        try (Store store = opened) {
            List<Ledger.Total> totals = store.ledger().totals(today.minusDays(days - 1L), by);
            out.printf(
                    "Model calls in the last %d day%s (UTC), by %s:%n%n",
                    days, days == 1 ? "" : "s", by.name().toLowerCase(Locale.ROOT));
            if (totals.isEmpty()) {
                out.println("  none");
            } else {
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"DAY", by.name(), "CALLS", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE", "COST"
                });
                long cost = 0;
                long unpriced = 0;
                for (Ledger.Total t : totals) {
                    rows.add(new String[] {
                        t.day().toString(),
                        t.key(),
                        number(t.calls()),
                        number(t.usage().inputTokens()),
                        number(t.usage().outputTokens()),
                        number(t.usage().cacheReadTokens()),
                        number(t.usage().cacheWriteTokens()),
                        Budget.dollars(t.costMicros()) + (t.unpriced() > 0 ? " *" : "")
                    });
                    cost += t.costMicros();
                    unpriced += t.unpriced();
                }
                table(rows, out);
                out.printf("%n  total %s%n", Budget.dollars(cost));
                if (unpriced > 0) {
                    out.printf(
                            "  * %d call(s) to models without a known price count as $0: add them under prices in"
                                    + " cordon.yaml%n",
                            unpriced);
                }
            }
            budgets(home, env, store, today, out);
        }
        return 0;
    }

    private static void budgets(Home home, Map<String, String> env, Store store, LocalDate today, PrintStream out) {
        out.printf("%nBudgets (today is %s UTC):%n", today);
        AgentPolicy.Defaults defaults;
        try {
            defaults = AgentPolicy.Defaults.of(Config.load(home.root(), env));
        } catch (ConfigException e) {
            out.println("  cannot read cordon.yaml: " + e.getMessage());
            return;
        }
        for (Agent agent : store.agents()) {
            Path file = home.agent(agent.name()).resolve("policy.yaml");
            Budget budget;
            try {
                budget = AgentPolicy.read(file, defaults).budget();
            } catch (SandboxException e) {
                out.printf("  %s: its policy is invalid, so it runs nothing: %s%n", agent.name(), e.getMessage());
                continue;
            }
            Ledger.Spend spent = store.ledger().spend(agent.id(), null, today);
            List<String> parts = new ArrayList<>();
            limit(parts, "daily_usd", spent.agentDayMicros(), budget.dailyMicros(), false);
            limit(parts, "monthly_usd", spent.agentMonthMicros(), budget.monthlyMicros(), false);
            limit(parts, "daily_tokens", spent.agentDayTokens(), budget.dailyTokens(), true);
            if (budget.chatDailyMicros() > 0) {
                parts.add("chat_daily_usd " + Budget.dollars(budget.chatDailyMicros()) + " per chat");
            }
            out.printf(
                    "  %s: %s%n",
                    agent.name(),
                    parts.isEmpty()
                            ? "no budget (today " + Budget.dollars(spent.agentDayMicros()) + ", this month "
                                    + Budget.dollars(spent.agentMonthMicros()) + ")"
                            : String.join("; ", parts));
        }
    }

    private static void limit(List<String> parts, String name, long used, long limit, boolean tokens) {
        if (limit == 0) {
            return;
        }
        String u = tokens ? number(used) : Budget.dollars(used);
        String l = tokens ? number(limit) : Budget.dollars(limit);
        parts.add(name + " " + u + " of " + l + " (" + used * 100 / limit + "%" + (used >= limit ? ", used up" : "")
                + ")");
    }

    private static String number(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** Left-aligns the first two columns, right-aligns the numbers. */
    private static void table(List<String[]> rows, PrintStream out) {
        int[] width = new int[rows.getFirst().length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder(" ");
            for (int i = 0; i < row.length; i++) {
                String cell = row[i];
                String pad = " ".repeat(width[i] - cell.length());
                line.append(' ').append(i < 2 ? cell + pad : pad + cell).append(' ');
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
