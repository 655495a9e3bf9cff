package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.approval.Approval;
import dev.cordon.core.approval.ApprovalRequest;
import dev.cordon.core.approval.ApprovalService;
import dev.cordon.core.approval.Ticket;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.store.Store;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * The dashboard's egress page (docs/dashboard.md, docs/egress.md): an agent's newest egress
 * decisions as the proxy audited them, with per-host counts over those decisions, and "propose rule": a denied request no rule covered becomes an {@code
 * egress.connect} approval for its host and port, the very question the proxy itself asks, so an
 * {@code always} answer is a grant the proxy honours and {@code policy explain} lists. For the
 * agent's admins (members 403). Thread-safe.
 */
final class WebEgress {
    /** The approval kind the egress proxy asks with (Daemon.askEgress); a proposal must match it. */
    static final String KIND = "egress.connect";

    private final WebRoles roles;
    private final Store store;
    private final AuditLog audit;
    private final ApprovalService approvals;
    private final Clock clock;

    WebEgress(WebRoles roles, Store store, AuditLog audit, ApprovalService approvals, Clock clock) {
        this.roles = roles;
        this.store = store;
        this.audit = audit;
        this.approvals = approvals;
        this.clock = clock;
    }

    List<WebApi.Route> routes() {
        return List.of(
                new WebApi.Route("GET", WebApi.PREFIX + "/agents/{agent}/egress", this::list),
                new WebApi.Route("POST", WebApi.PREFIX + "/agents/{agent}/egress/proposals", this::propose));
    }

    private static boolean egress(AuditEntry e) {
        String action = e.event().action();
        return action.equals(AuditActions.EGRESS_ALLOW) || action.equals(AuditActions.EGRESS_DENY);
    }

    /** Whether a person's grant can let this request through: only a denial that no rule made. */
    private static boolean proposable(AuditEvent e) {
        return e.action().equals(AuditActions.EGRESS_DENY)
                && e.rule() == null
                && e.session() != null
                && e.details().get("host") instanceof String
                && e.details().get("port") instanceof Number;
    }

    private void list(Context ctx, WebAuth.Caller caller) {
        Agent agent = roles.administered(ctx, caller.user());
        int limit = WebRoles.query(ctx, "limit", 200, 1, 1_000);
        List<AuditEntry> newest = AuditScan.newest(
                audit,
                AuditScan.head(audit),
                0,
                e -> egress(e) && agent.name().equals(e.event().agent()),
                limit);
        Map<String, Map<String, Object>> hosts = new LinkedHashMap<>();
        newest.reversed().forEach(e -> tally(hosts, e.event()));
        List<Map<String, Object>> rows = newest.stream().map(WebEgress::row).toList();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("agent", agent.name().value());
        body.put("decisions", rows);
        body.put("hosts", List.copyOf(hosts.values()));
        body.put("grants", grants(agent.name()));
        WebApi.json(ctx, 200, body);
    }

    private static Map<String, Object> row(AuditEntry entry) {
        AuditEvent e = entry.event();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seq", entry.seq());
        m.put("time", e.time().toString());
        m.put("session", e.session() == null ? null : e.session().value());
        m.put("decision", e.decision().label());
        m.put("host", e.details().get("host"));
        m.put("port", e.details().get("port"));
        m.put("method", e.details().get("method"));
        m.put("path", e.details().get("path"));
        m.put("rule", e.rule());
        m.put("reason", e.reason());
        m.put("proposable", proposable(e));
        return m;
    }

    private static void tally(Map<String, Map<String, Object>> hosts, AuditEvent e) {
        String key = e.details().get("host") + ":" + e.details().get("port");
        Map<String, Object> h = hosts.computeIfAbsent(key, k -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("host", e.details().get("host"));
            m.put("port", e.details().get("port"));
            m.put("allowed", 0);
            m.put("denied", 0);
            return m;
        });
        String count = e.action().equals(AuditActions.EGRESS_ALLOW) ? "allowed" : "denied";
        h.put(count, (Integer) h.get(count) + 1);
        h.put("last", e.time().toString());
        h.put("lastDecision", e.decision().label());
    }

    /** The agent's usable {@code always} egress grants: rules a person made (what policy explain lists). */
    private List<Map<String, Object>> grants(AgentName agent) {
        Instant now = clock.instant();
        List<Map<String, Object>> out = new ArrayList<>();
        for (Approval a : approvals.recent(10_000)) {
            if (a.agentName().equals(agent)
                    && a.kind().equals(KIND)
                    && a.scope() == Approval.Scope.ALWAYS
                    && a.usable(now)) {
                out.add(Map.of(
                        "approval", a.id().value(),
                        "host", a.payload().getOrDefault("host", ""),
                        "port", a.payload().getOrDefault("port", ""),
                        "decidedBy", String.valueOf(a.decidedBy())));
            }
        }
        return out;
    }

    /**
     * Opens an approval for the host and port of denied request {@code seq} (body {@code {"seq": N}}),
     * in the session that made it; audited {@code egress.propose} by the caller. If that session
     * already waits on the same question, the proposal is that approval.
     */
    private void propose(Context ctx, WebAuth.Caller caller) {
        Agent agent = roles.administered(ctx, caller.user());
        JsonNode body = WebJson.object(ctx.body());
        JsonNode seqNode = body.get("seq");
        if (seqNode == null || !seqNode.isIntegralNumber() || seqNode.asLong() < 1) {
            throw new WebException(400, "field 'seq' must be the number of a denied egress entry (GET .../egress)");
        }
        long seq = seqNode.asLong();
        List<AuditEntry> found = audit.read(seq - 1, 1);
        AuditEntry entry = found.isEmpty() || found.getFirst().seq() != seq ? null : found.getFirst();
        if (entry == null
                || !egress(entry)
                || !agent.name().equals(entry.event().agent())) {
            throw new WebException(404, "audit entry #" + seq + " is not an egress decision of agent " + agent.name());
        }
        AuditEvent denied = entry.event();
        if (!proposable(denied)) {
            throw new WebException(
                    409,
                    "entry #" + seq + " cannot become a rule: "
                            + (denied.decision() != AuditEvent.Decision.DENY
                                    ? "it was allowed"
                                    : "rule " + denied.rule() + " refused it, and an approval never overrides a rule;"
                                            + " change agents/" + agent.name()
                                            + "/policy.yaml instead (docs/egress.md)"));
        }
        String host = (String) denied.details().get("host");
        if (host.length() > 253) {
            throw new WebException(409, "entry #" + seq + " names a host longer than a DNS name may be");
        }
        String port = String.valueOf(((Number) denied.details().get("port")).longValue());
        Session session = store.session(denied.session())
                .orElseThrow(() -> new WebException(409, "the session of entry #" + seq + " no longer exists"));
        Ticket ticket = approvals.request(new ApprovalRequest(
                agent.id(),
                session.id(),
                session.chatId(),
                KIND,
                ("allow " + agent.name() + " to connect to " + host + ":" + port + " (proposed by " + caller.user()
                        + " from denied request #" + seq + "; approve always to make it a rule)"),
                Map.of("host", host, "port", port),
                approvals.defaultTimeout()));
        audit.append(AuditEvent.of(
                        clock.instant(),
                        AuditEvent.Actor.user(caller.user().toString()),
                        AuditActions.EGRESS_PROPOSE,
                        AuditEvent.Decision.INFO)
                .withAgent(agent.name())
                .withSession(session.id())
                .withReason("proposed an egress rule from a denied request")
                .withDetails(Map.of(
                        "host",
                        host,
                        "port",
                        port,
                        "from",
                        seq,
                        "approval",
                        ticket.id().value())));
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("approval", ticket.id().value());
        answer.put("asked", ticket.asked());
        answer.put(
                "message",
                ticket.asked()
                        ? "Approval #" + ticket.id().value() + " asks to allow " + host + ":" + port
                                + "; approve it always (Approvals) to make it a rule."
                        : "Already allowed: grant #" + ticket.id().value() + " covers " + host + ":" + port + ".");
        WebApi.json(ctx, ticket.asked() ? 201 : 200, answer);
    }
}
