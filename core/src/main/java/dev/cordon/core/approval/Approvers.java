package dev.cordon.core.approval;

import dev.cordon.core.AgentName;

/** Who may answer approval requests for which agent. Implementations are thread-safe. */
@FunctionalInterface
public interface Approvers {
    /** The owner at the terminal: whoever can open the daemon's 0600 control socket. */
    String OWNER = "terminal:owner";

    /**
     * Whether {@code approver} ({@code channel:user-id}, as audited) may answer for {@code agent}.
     * Must not block for long: it runs on every answer.
     */
    boolean mayApprove(String approver, AgentName agent);

    /** Only the {@link #OWNER} approves, for every agent: the default until roles exist. */
    static Approvers ownerOnly() {
        return (approver, agent) -> OWNER.equals(approver);
    }
}
