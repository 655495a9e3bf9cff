package dev.cordon.server;

import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * {@code /metrics} in Prometheus text format. Only what the daemon knows for certain: gauges read
 * live state when scraped (sessions by state, approvals pending), and counters count audit entries
 * appended since this daemon started (sandbox starts, turns, model tokens and cost, delivery
 * failures, egress decisions) and histograms their durations (sandbox start and turn latency, from
 * the {@code start_ms} and {@code duration_ms} the session manager records), so a number here always
 * has entries behind it. Thread-safe.
 */
final class WebMetrics implements Consumer<AuditEntry> {
    /** Sessions by state now; read at each scrape. */
    record SessionCounts(int busy, int idle, int queued) {}

    private static final Duration[] BUCKETS = Stream.of(
                    10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000)
            .map(Duration::ofMillis)
            .toArray(Duration[]::new);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    WebMetrics(Supplier<SessionCounts> sessions, Supplier<Integer> pendingApprovals) {
        Gauge.builder("cordon.sessions", () -> sessions.get().busy())
                .tag("state", "busy")
                .description("live sessions in a turn")
                .register(registry);
        Gauge.builder("cordon.sessions", () -> sessions.get().idle())
                .tag("state", "idle")
                .description("live sessions between turns")
                .register(registry);
        Gauge.builder("cordon.sessions", () -> sessions.get().queued())
                .tag("state", "queued")
                .description("sessions waiting for a sandbox slot")
                .register(registry);
        Gauge.builder("cordon.approvals.pending", pendingApprovals::get)
                .description("approval requests waiting for a person")
                .register(registry);
    }

    @Override
    public void accept(AuditEntry entry) {
        AuditEvent e = entry.event();
        String agent = e.agent() == null ? "" : e.agent().value();
        switch (e.action()) {
            case AuditActions.SANDBOX_START -> {
                Counter.builder("cordon.sandbox.starts")
                        .description("sandbox starts, by outcome")
                        .tag("agent", agent)
                        .tag("outcome", e.decision() == AuditEvent.Decision.DENY ? "failed" : "ok")
                        .register(registry)
                        .increment();
                latency(
                        "cordon.sandbox.start",
                        "time from launch to a ready runner",
                        agent,
                        e.details().get("start_ms"));
            }
            case AuditActions.TURN_END -> {
                Counter.builder("cordon.turns")
                        .description("turns ended, by outcome")
                        .tag("agent", agent)
                        .tag("outcome", e.decision() == AuditEvent.Decision.DENY ? "failed" : "ok")
                        .register(registry)
                        .increment();
                latency(
                        "cordon.turn.duration",
                        "time a turn ran in its runner",
                        agent,
                        e.details().get("duration_ms"));
            }
            case AuditActions.MODEL_CALL -> {
                tokens(agent, "input", e.details().get("input_tokens"));
                tokens(agent, "output", e.details().get("output_tokens"));
                if (e.details().get("cost_micros") instanceof Number micros) {
                    Counter.builder("cordon.model.cost.usd")
                            .description("model cost in US dollars, as priced by the budgets")
                            .tag("agent", agent)
                            .register(registry)
                            .increment(micros.doubleValue() / 1_000_000);
                }
            }
            case AuditActions.DELIVERY -> {
                if (e.decision() == AuditEvent.Decision.DENY) {
                    count("cordon.delivery.failures", "replies given up as undeliverable", agent);
                }
            }
            case AuditActions.EGRESS_ALLOW, AuditActions.EGRESS_DENY ->
                Counter.builder("cordon.egress.decisions")
                        .description("egress proxy decisions, by decision")
                        .tag("agent", agent)
                        .tag("decision", e.decision().label())
                        .register(registry)
                        .increment();
            default -> {}
        }
    }

    /** A latency histogram with fixed buckets from 10 ms to 5 min (a few series per agent, not dozens). */
    private void latency(String name, String description, String agent, Object millis) {
        if (millis instanceof Number ms) {
            Timer.builder(name)
                    .description(description)
                    .tag("agent", agent)
                    .serviceLevelObjectives(BUCKETS)
                    .register(registry)
                    .record(Duration.ofMillis(ms.longValue()));
        }
    }

    private void count(String name, String description, String agent) {
        Counter.builder(name)
                .description(description)
                .tag("agent", agent)
                .register(registry)
                .increment();
    }

    private void tokens(String agent, String kind, Object value) {
        if (value instanceof Number n) {
            Counter.builder("cordon.model.tokens")
                    .description("model tokens, by kind")
                    .tag("agent", agent)
                    .tag("kind", kind)
                    .register(registry)
                    .increment(n.doubleValue());
        }
    }

    String scrape() {
        return registry.scrape();
    }
}
