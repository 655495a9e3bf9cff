package dev.cordon.egress.proxy;

import dev.cordon.core.AgentName;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.dlp.DlpAction;
import dev.cordon.core.dlp.SecretScanner;
import dev.cordon.core.session.EgressGateway;
import dev.cordon.egress.vault.Vault;
import java.util.Objects;
import java.util.Set;
import javax.net.ssl.SSLSocketFactory;

/**
 * The host's egress proxy (invariant 5): the one way out of a sandbox. A sandbox's client speaks
 * plain HTTP proxy requests ({@code GET http://host/path}) or {@code CONNECT host:port} tunnels; the
 * proxy judges each against the calling agent's {@link EgressRules}, resolves the name once, refuses
 * private, loopback, link-local, metadata and host addresses unless a rule names them, connects to
 * exactly the address it checked, and records every decision in the audit log before acting on it.
 * A denial is answered {@code 403} with a JSON body saying which rule (or missing rule) denied it
 * and how to get it allowed.
 */
public interface EgressProxy {

    /** Who is asking, and the rules in force for them at this moment (a policy reload takes effect on the next connection). */
    record Caller(AgentName agent, SessionId session, EgressRules rules, Set<String> secrets, DlpAction dlp) {
        public Caller {
            Objects.requireNonNull(agent, "agent");
            Objects.requireNonNull(rules, "rules");
            secrets = Set.copyOf(secrets);
            Objects.requireNonNull(dlp, "dlp");
        }

        /** A caller whose policy lists these secrets and blocks requests that carry others. */
        public Caller(AgentName agent, SessionId session, EgressRules rules, Set<String> secrets) {
            this(agent, session, rules, secrets, DlpAction.REQUESTS_DEFAULT);
        }

        /** A caller whose policy lists no secret. */
        public Caller(AgentName agent, SessionId session, EgressRules rules) {
            this(agent, session, rules, Set.of());
        }
    }

    /**
     * Serves one client connection to its end: one plain HTTP request, or one tunnel, then closes
     * it. Blocks (run it on a virtual thread). Never throws for anything the client or the origin
     * does: malformed requests get a 4xx, unreachable origins a 502.
     */
    void serve(EgressGateway.Connection client, Caller caller);

    /**
     * @param audit where every decision is recorded before it takes effect
     * @param resolver name resolution ({@link Resolver#system()} outside tests)
     * @param vault the secrets whose placeholders the proxy replaces at their bound endpoints, and
     *     whose values the data-loss guard looks for
     * @param approvals asks a person about requests no rule covers
     */
    static EgressProxy create(AuditLog audit, Resolver resolver, Vault vault, EgressApprovals approvals) {
        return new HostEgressProxy(
                audit,
                resolver,
                AddressGuard.ofThisHost(),
                vault,
                new SecretScanner(vault::revealAll),
                (SSLSocketFactory) SSLSocketFactory.getDefault(),
                approvals,
                java.time.Clock.systemUTC());
    }
}
