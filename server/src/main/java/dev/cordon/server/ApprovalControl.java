package dev.cordon.server;

import dev.cordon.core.access.UserId;
import dev.cordon.core.approval.Answer;
import dev.cordon.core.approval.AnswerResult;
import dev.cordon.core.approval.Approval;
import dev.cordon.core.approval.ApprovalId;
import dev.cordon.core.approval.ApprovalService;
import dev.cordon.core.approval.Approvers;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.control.ApprovalView;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * The control socket's approval requests (list, show, approve, deny) and the cards pushed to attached
 * terminals. Whoever holds the control socket answers as {@link Approvers#OWNER}; the web API answers
 * as its logged-in user. Thread-safe.
 */
final class ApprovalControl implements ApprovalService.Listener {
    /** How much history {@code cordon approvals list --all} shows. */
    static final int HISTORY = 200;

    private final Store store;
    private final TerminalChannel terminal;
    private final Clock clock;
    private volatile ApprovalService service;

    ApprovalControl(Store store, TerminalChannel terminal, Clock clock) {
        this.store = store;
        this.terminal = terminal;
        this.clock = clock;
    }

    /** The service is built with this object as its listener, so it is handed over afterwards. */
    void serve(ApprovalService service) {
        this.service = service;
    }

    @Override
    public void requested(Approval approval) {
        terminal.broadcast(approval.agentName().value(), new ControlEvent.ApprovalRequested(view(approval)));
    }

    @Override
    public void decided(Approval approval) {
        terminal.broadcast(
                approval.agentName().value(), new ControlEvent.ApprovalDecided(view(approval), describe(approval)));
    }

    ControlEvent list(ControlRequest.ApprovalList request) {
        return new ControlEvent.ApprovalListing((request.all() ? service.recent(HISTORY) : service.pending())
                .stream().map(this::view).toList());
    }

    ControlEvent show(ControlRequest.ApprovalShow request) {
        return service.find(new ApprovalId(request.id()))
                .<ControlEvent>map(a -> new ControlEvent.ApprovalCard(view(a)))
                .orElseGet(() -> unknown(request.id()));
    }

    ControlEvent approve(ControlRequest.ApprovalApprove request) {
        return approve(request, UserId.TERMINAL_OWNER);
    }

    /**
     * Grants as {@code approver}; the service counts the answer only if they may approve for the
     * agent (and audits an ignored one), so the web's own check is not the only one.
     */
    ControlEvent approve(ControlRequest.ApprovalApprove request, UserId approver) {
        Approval.Scope scope;
        try {
            scope = Approval.Scope.valueOf(request.scope().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return new ControlEvent.ApprovalProblem(
                    request.id(), "invalid", "unknown scope '" + request.scope() + "': use once, session or always");
        }
        if (request.maxUses() < 0 || request.validForSeconds() < 0) {
            return new ControlEvent.ApprovalProblem(
                    request.id(), "invalid", "uses and lifetime must be positive (or 0 for no limit)");
        }
        if (scope == Approval.Scope.ONCE && request.maxUses() > 1) {
            return new ControlEvent.ApprovalProblem(
                    request.id(), "invalid", "scope once is one use; for more uses choose --scope session or always");
        }
        Duration validFor = request.validForSeconds() == 0 ? null : Duration.ofSeconds(request.validForSeconds());
        return answer(request.id(), approver, new Answer.Grant(scope, request.maxUses(), validFor, request.reason()));
    }

    ControlEvent deny(ControlRequest.ApprovalDeny request) {
        return deny(request, UserId.TERMINAL_OWNER);
    }

    ControlEvent deny(ControlRequest.ApprovalDeny request, UserId approver) {
        return answer(request.id(), approver, new Answer.Deny(request.reason()));
    }

    private ControlEvent answer(long id, UserId approver, Answer answer) {
        AnswerResult result = service.answer(new ApprovalId(id), approver.toString(), answer);
        return switch (result) {
            case AnswerResult.Decided d -> new ControlEvent.ApprovalDecided(view(d.approval()), describe(d.approval()));
            case AnswerResult.Unknown u -> unknown(id);
            case AnswerResult.AlreadyDecided a ->
                new ControlEvent.ApprovalProblem(
                        id, "already_decided", "approval #" + id + " was already " + describe(a.approval()) + ".");
            case AnswerResult.Expired e ->
                new ControlEvent.ApprovalProblem(
                        id,
                        "expired",
                        "approval #" + id + " " + e.approval().reason()
                                + "; the agent was told it is denied. If it asks again, answer the new request.");
            case AnswerResult.Ignored i ->
                new ControlEvent.ApprovalProblem(
                        id, "not_approver", i.why() + "; the answer was ignored (and recorded in the audit log).");
        };
    }

    private static ControlEvent unknown(long id) {
        return new ControlEvent.ApprovalProblem(
                id, "unknown", "there is no approval #" + id + "; ./cordon approvals list --all shows them all");
    }

    /** "granted by terminal:owner for this session", "denied by …: reason", "expired after 10 min …". */
    static String describe(Approval a) {
        return switch (a.status()) {
            case PENDING -> "pending";
            case GRANTED ->
                "granted by " + a.decidedBy() + " (" + a.scope().name().toLowerCase(Locale.ROOT) + ", "
                        + (a.maxUses() == 0 ? a.uses() + " uses so far" : a.uses() + " of " + a.maxUses() + " uses")
                        + (a.grantExpiresAt() == null ? "" : ", until " + a.grantExpiresAt()) + ")"
                        + (a.reason() == null ? "" : ": " + a.reason());
            case DENIED -> "denied by " + a.decidedBy() + (a.reason() == null ? "" : ": " + a.reason());
            case EXPIRED -> a.reason() == null ? "expired" : a.reason();
        };
    }

    ApprovalView view(Approval a) {
        String chat = store.chat(a.chat())
                .map(c -> c.channel() + ":" + c.platformChatId())
                .orElse("chat " + a.chat().value());
        return new ApprovalView(
                a.id().value(),
                a.agentName().value(),
                a.session().value(),
                chat,
                a.kind(),
                a.subject(),
                a.summary(),
                a.payload(),
                a.requestedAt().toEpochMilli(),
                a.expiresAt().toEpochMilli(),
                a.status().name().toLowerCase(Locale.ROOT),
                a.decidedBy(),
                millis(a.decidedAt()),
                a.reason(),
                a.scope() == null ? null : a.scope().name().toLowerCase(Locale.ROOT),
                a.maxUses(),
                a.uses(),
                millis(a.grantExpiresAt()),
                a.usable(clock.instant()));
    }

    private static long millis(Instant t) {
        return t == null ? 0 : t.toEpochMilli();
    }
}
