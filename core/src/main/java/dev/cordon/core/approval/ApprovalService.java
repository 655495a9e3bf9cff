package dev.cordon.core.approval;

import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.store.Store;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Durable human approvals: the one consent primitive everything that needs a person's yes goes
 * through (tool calls a policy marks {@code ask}, and later egress, credentials, new agents). See
 * docs/approvals.md.
 *
 * <p>A request is stored and audited, then waits for an answer; a timer denies it when nobody
 * answers in time. An answer counts only if {@link Approvers} says the approver may approve for
 * the agent; it is stored, then audited, then reported (invariant 6). A grant then decides later
 * requests with the same agent, kind and subject within its scope, without asking, until it is used
 * up or expires. Everything is in the store: after a restart, pending requests are listed,
 * answerable and timed out as before, and grants still apply.
 *
 * <p>Thread-safe. Methods block on the store and the audit log, never on a person. Store and audit
 * failures are thrown ({@link dev.cordon.core.store.StoreException}, {@link
 * dev.cordon.core.audit.AuditException}).
 */
public interface ApprovalService extends AutoCloseable {

    /**
     * Opens the service over {@code store} and re-arms the timeout of every pending request (one that
     * expired while the daemon was down is expired at once).
     *
     * @param defaultTimeout the timeout callers use when they have no better one ({@code
     *     approvals.timeout_seconds})
     * @param listener told of each new request and each decision, after they are audited; it runs on
     *     the caller's thread and must not block for long
     */
    static ApprovalService create(
            Store store,
            AuditLog audit,
            Approvers approvers,
            Scheduler scheduler,
            Clock clock,
            Duration defaultTimeout,
            Listener listener) {
        return DefaultApprovalService.open(store, audit, approvers, scheduler, clock, defaultTimeout, listener);
    }

    /** How long a request waits for an answer unless its caller says otherwise. */
    Duration defaultTimeout();

    /**
     * Asks, unless a usable grant already decides: then that grant's use is counted and audited
     * ({@code approval.use}) and the ticket's outcome is complete at once. If the same session already
     * waits on the same kind and subject (a turn retried after a restart), the request joins that one.
     * Otherwise a pending approval is stored and audited ({@code approval.request}) and the listener
     * hears of it. The ticket's outcome completes when the approval is decided or expires.
     *
     * @throws IllegalArgumentException if the session is not a session of the agent
     */
    Ticket request(ApprovalRequest request);

    /**
     * Answers pending approval {@code id} as {@code approver}. Only an authorised approver's answer
     * counts; any other is audited ({@code approval.ignored}) and changes nothing. A counted answer
     * is stored, audited ({@code approval.answer}), then reported to whoever waits on it; if nobody
     * waits any more (the daemon restarted since), a grant keeps its every use for the next matching
     * request.
     */
    AnswerResult answer(ApprovalId id, String approver, Answer answer);

    Optional<Approval> find(ApprovalId id);

    /** Every pending approval, oldest first. */
    List<Approval> pending();

    /** The {@code max} newest approvals in any state, oldest first. */
    List<Approval> recent(int max);

    /**
     * Arms the timeout of every pending approval that has no timer here: with several replicas on one
     * store, those a replica asked and then died with (docs/store.md, "Several replicas"). One that is
     * past its deadline expires at once. An approval is decided once, whichever replica's timer runs
     * first. Blocks on the store.
     */
    void adoptPending();

    /**
     * Cancels the timers and tells whoever still waits that the host is stopping (a denial; the
     * approval stays pending in the store). Idempotent.
     */
    @Override
    void close();

    /** Hears what the service did, after it is audited. Both methods default to doing nothing. */
    interface Listener {
        default void requested(Approval approval) {}

        default void decided(Approval approval) {}
    }
}
