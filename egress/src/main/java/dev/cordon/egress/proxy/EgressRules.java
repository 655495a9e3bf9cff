package dev.cordon.egress.proxy;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * An agent's egress rules: deny wins, then allow, and what no rule allows is denied. Immutable and
 * thread-safe; evaluation never blocks (no DNS: names are matched as written).
 *
 * <p>Method and path parts of a rule judge only requests the proxy can read (plain HTTP). A tunnel
 * ({@code CONNECT}, used for HTTPS) shows only host and port: a rule limited to some methods or
 * paths neither allows nor denies it, so a tunnel needs a rule without such limits.
 */
public record EgressRules(List<EgressRule> allow, List<EgressRule> deny) {
    public static final EgressRules DENY_ALL = new EgressRules(List.of(), List.of());

    public EgressRules {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
    }

    /**
     * What a sandbox asked for.
     *
     * @param host lower-case host name or address literal (IPv6 in brackets or bare)
     * @param method the HTTP method, or null for a tunnel
     * @param path the path without the query, or null for a tunnel
     */
    public record Request(String host, int port, String method, String path) {
        boolean visible() {
            return method != null;
        }
    }

    /** The outcome and the rule that made it ({@code null} when no rule matched). */
    public record Verdict(boolean allowed, EgressRule rule, String reason) {
        public String ruleLabel() {
            return rule == null ? null : rule.label();
        }
    }

    /** Judges the request by name, before any DNS lookup. */
    public Verdict decide(Request r) {
        for (EgressRule rule : deny) {
            if (covers(rule, r)) {
                return new Verdict(false, rule, "denied by " + rule.describe());
            }
        }
        for (EgressRule rule : allow) {
            if (covers(rule, r)) {
                return new Verdict(true, rule, "allowed by " + rule.describe());
            }
        }
        String what = r.visible() ? r.method() + " " + r.host() + ":" + r.port() + r.path() : r.host() + ":" + r.port();
        boolean onlyRestricted = !r.visible()
                && allow.stream()
                        .anyMatch(
                                rule -> rule.restricted() && rule.matchesHost(r.host()) && rule.matchesPort(r.port()));
        return new Verdict(
                false,
                null,
                onlyRestricted
                        ? "no egress.allow rule matches " + what + ": the rules for this host are limited to some"
                                + " methods or paths, which the proxy cannot see inside an HTTPS tunnel"
                        : "no egress.allow rule matches " + what + " (egress is denied by default)");
    }

    /**
     * Judges the address a name resolved to. Deny rules naming the address or its range refuse it;
     * a special address ({@code why} says which kind) is allowed only by an allow rule that names the
     * address or its range — never by a host name rule, which is how SSRF through DNS is stopped.
     */
    Verdict decideAddress(InetAddress address, int port, Optional<String> why) {
        for (EgressRule rule : deny) {
            if (rule.range().isPresent() && rule.range().get().contains(address) && rule.matchesPort(port)) {
                return new Verdict(false, rule, "denied by " + rule.describe());
            }
        }
        if (why.isEmpty()) {
            return new Verdict(true, null, "a public address");
        }
        for (EgressRule rule : allow) {
            if (rule.range().isPresent() && rule.range().get().contains(address) && rule.matchesPort(port)) {
                return new Verdict(true, rule, "allowed by " + rule.describe());
            }
        }
        return new Verdict(
                false,
                null,
                address.getHostAddress() + " is " + why.get() + "; only an egress.allow rule naming that address"
                        + " or its range (for example " + address.getHostAddress() + ") lets a sandbox reach it");
    }

    private static boolean covers(EgressRule rule, Request r) {
        if (!rule.matchesHost(r.host()) || !rule.matchesPort(r.port())) {
            return false;
        }
        if (!rule.restricted()) {
            return true;
        }
        return r.visible() && rule.matchesRequest(r.method(), r.path());
    }
}
