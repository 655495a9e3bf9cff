package dev.cordon.egress.proxy;

/**
 * Turns a request that no rule allows into a question for a person (docs/approvals.md): "let this
 * agent reach host:port once, for this session, or always". The proxy never waits for the answer:
 * the request that asked gets its 403 saying which approval to answer, and a later request finds
 * the grant. Implementations must not block for long.
 */
@FunctionalInterface
public interface EgressApprovals {

    /** What is known now about letting {@code caller} reach {@code host}:{@code port}. */
    Asked ask(EgressProxy.Caller caller, String host, int port);

    /** The answer so far. */
    sealed interface Asked {
        /** A grant allows it (that grant's use is counted). */
        record Granted(long approval, String reason) implements Asked {}

        /** A person is asked; approval {@code approval} waits for an answer. */
        record Waiting(long approval) implements Asked {}

        /** No approvals here (tests, or a caller the host cannot ask for). */
        record Unavailable() implements Asked {}
    }

    EgressApprovals NONE = (caller, host, port) -> new Asked.Unavailable();
}
