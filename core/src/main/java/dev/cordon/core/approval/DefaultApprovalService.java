package dev.cordon.core.approval;

import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.store.Store;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ApprovalService} over the store. One lock orders every change of state (ask, join, answer,
 * expire), so a request never joins an approval that is being decided and every waiter is told
 * exactly once; the store's conditional update is the second guard, against other processes.
 */
final class DefaultApprovalService implements ApprovalService {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultApprovalService.class);
    /** The actor of expiries, and {@code decided_by} of an expired approval. */
    static final String SYSTEM = "cordon";

    private final Store store;
    private final AuditLog audit;
    private final Approvers approvers;
    private final Scheduler scheduler;
    private final Clock clock;
    private final Duration defaultTimeout;
    private final Listener listener;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}: who waits on which pending approval, in this process. */
    private final Map<ApprovalId, List<CompletableFuture<Outcome>>> waiters = new HashMap<>();
    /** Guarded by {@link #lock}. */
    private final Map<ApprovalId, Scheduler.Cancel> timers = new HashMap<>();
    /** Guarded by {@link #lock}. */
    private boolean closed;
    /**
     * Guarded by {@link #lock}: what to tell waiters and the listener, run after the lock is released.
     * A waiter's callback writes to a sandbox's socket and the listener to terminals; either may block,
     * and must never hold up every other approval while it does.
     */
    private final List<Runnable> notices = new ArrayList<>();

    private DefaultApprovalService(
            Store store,
            AuditLog audit,
            Approvers approvers,
            Scheduler scheduler,
            Clock clock,
            Duration defaultTimeout,
            Listener listener) {
        this.store = Objects.requireNonNull(store, "store");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.approvers = Objects.requireNonNull(approvers, "approvers");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.defaultTimeout = Objects.requireNonNull(defaultTimeout, "defaultTimeout");
        this.listener = Objects.requireNonNull(listener, "listener");
        if (defaultTimeout.isNegative() || defaultTimeout.isZero()) {
            throw new IllegalArgumentException("approval timeout must be positive, was " + defaultTimeout);
        }
    }

    static DefaultApprovalService open(
            Store store,
            AuditLog audit,
            Approvers approvers,
            Scheduler scheduler,
            Clock clock,
            Duration defaultTimeout,
            Listener listener) {
        DefaultApprovalService service =
                new DefaultApprovalService(store, audit, approvers, scheduler, clock, defaultTimeout, listener);
        // Durable timeouts: what was pending when the daemon stopped still expires when it should.
        service.lock.lock();
        try {
            for (Approval pending : store.pendingApprovals()) {
                service.arm(pending);
            }
        } finally {
            service.lock.unlock();
        }
        return service;
    }

    @Override
    public Duration defaultTimeout() {
        return defaultTimeout;
    }

    @Override
    public Ticket request(ApprovalRequest request) {
        Objects.requireNonNull(request, "request");
        String subject = Subjects.of(request.payload());
        lock.lock();
        try {
            if (closed) {
                return new Ticket(
                        new ApprovalId(0),
                        false,
                        CompletableFuture.completedFuture(new Outcome(
                                new ApprovalId(0), false, "the host is stopping; ask again after it restarts")));
            }
            Instant now = clock.instant();
            Optional<Approval> grant = store.useGrant(request.agent(), request.session(), request.kind(), subject, now);
            if (grant.isPresent()) {
                Approval g = grant.get();
                audit.append(event(now, Actor.system("approvals"), g, AuditActions.APPROVAL_USE, Decision.ALLOW)
                        .withSession(request.session())
                        .withRule("approval.grant")
                        .withReason("decided by grant " + g.id() + " of " + g.decidedBy())
                        .withDetails(Map.of(
                                "grant", g.id().value(),
                                "kind", g.kind(),
                                "scope", label(g.scope()),
                                "uses", g.uses(),
                                "max_uses", g.maxUses())));
                String reason = "approved by " + g.decidedBy() + " " + reach(g.scope()) + " (grant " + g.id()
                        + (g.maxUses() == 0 ? "" : ", use " + g.uses() + " of " + g.maxUses()) + ")";
                return new Ticket(g.id(), false, CompletableFuture.completedFuture(new Outcome(g.id(), true, reason)));
            }
            CompletableFuture<Outcome> outcome = new CompletableFuture<>();
            Optional<Approval> same = store.pendingApproval(request.session(), request.kind(), subject);
            if (same.isPresent()) {
                Approval a = same.get();
                audit.append(event(now, Actor.system("approvals"), a, AuditActions.APPROVAL_REQUEST, Decision.INFO)
                        .withReason("the same request is already pending: joined " + a.id())
                        .withDetails(Map.of("approval", a.id().value(), "kind", a.kind(), "joined", true)));
                waiters.computeIfAbsent(a.id(), k -> new ArrayList<>()).add(outcome);
                return new Ticket(a.id(), true, outcome);
            }
            Approval stored = store.storeApproval(new Store.NewApproval(
                    request.agent(),
                    request.session(),
                    request.chat(),
                    request.kind(),
                    subject,
                    request.summary(),
                    request.payload(),
                    now,
                    now.plus(request.timeout())));
            audit.append(event(now, Actor.system("approvals"), stored, AuditActions.APPROVAL_REQUEST, Decision.INFO)
                    .withReason(AuditEvent.clip(stored.summary()))
                    .withDetails(Map.of(
                            "approval", stored.id().value(),
                            "kind", stored.kind(),
                            "chat", stored.chat().value(),
                            "expires_at", stored.expiresAt().toEpochMilli(),
                            // The full payload is in the approvals table; the log keeps a clipped copy.
                            "payload", AuditEvent.clip(subject))));
            waiters.computeIfAbsent(stored.id(), k -> new ArrayList<>()).add(outcome);
            arm(stored);
            notices.add(() -> listener.requested(stored));
            return new Ticket(stored.id(), true, outcome);
        } finally {
            unlockAndNotify();
        }
    }

    @Override
    public AnswerResult answer(ApprovalId id, String approver, Answer answer) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(approver, "approver");
        Objects.requireNonNull(answer, "answer");
        lock.lock();
        try {
            Optional<Approval> found = store.approval(id);
            if (found.isEmpty()) {
                return new AnswerResult.Unknown(id);
            }
            Approval a = found.get();
            Instant now = clock.instant();
            if (!approvers.mayApprove(approver, a.agentName())) {
                String why = approver + " may not approve requests of agent " + a.agentName();
                audit.append(event(now, Actor.user(approver), a, AuditActions.APPROVAL_IGNORED, Decision.DENY)
                        .withRule("approvers")
                        .withReason(why)
                        .withDetails(Map.of("approval", a.id().value(), "answer", describe(answer))));
                return new AnswerResult.Ignored(a, why);
            }
            if (a.status() == Approval.Status.PENDING && !now.isBefore(a.expiresAt())) {
                // The timer has not run yet, but the deadline has passed: too late is too late.
                expire(a.id());
                return new AnswerResult.Expired(store.approval(id).orElse(a));
            }
            switch (a.status()) {
                case PENDING -> {}
                case EXPIRED -> {
                    return new AnswerResult.Expired(a);
                }
                case GRANTED, DENIED -> {
                    return new AnswerResult.AlreadyDecided(a);
                }
            }
            List<CompletableFuture<Outcome>> waiting = waiters.getOrDefault(id, List.of());
            Store.ApprovalDecision decision = switch (answer) {
                case Answer.Grant g ->
                    new Store.ApprovalDecision(
                            Approval.Status.GRANTED,
                            approver,
                            now,
                            blankToNull(g.reason()),
                            g.scope(),
                            g.maxUses(),
                            waiting.isEmpty() ? 0 : 1,
                            g.validFor() == null ? null : now.plus(g.validFor()));
                case Answer.Deny d ->
                    new Store.ApprovalDecision(
                            Approval.Status.DENIED, approver, now, blankToNull(d.reason()), null, 0, 0, null);
            };
            Optional<Approval> decided = store.decideApproval(id, decision);
            if (decided.isEmpty()) {
                // Another process decided it between our read and our write.
                Approval now2 = store.approval(id).orElse(a);
                return now2.status() == Approval.Status.EXPIRED
                        ? new AnswerResult.Expired(now2)
                        : new AnswerResult.AlreadyDecided(now2);
            }
            Approval d = decided.get();
            cancelTimer(id);
            boolean granted = d.status() == Approval.Status.GRANTED;
            Map<String, Object> details = new HashMap<>();
            details.put("approval", d.id().value());
            details.put("kind", d.kind());
            details.put("waiting", waiting.size());
            if (granted) {
                details.put("scope", label(d.scope()));
                details.put("max_uses", d.maxUses());
                if (d.grantExpiresAt() != null) {
                    details.put("grant_expires_at", d.grantExpiresAt().toEpochMilli());
                }
            }
            try {
                audit.append(event(
                                now,
                                Actor.user(approver),
                                d,
                                AuditActions.APPROVAL_ANSWER,
                                granted ? Decision.ALLOW : Decision.DENY)
                        .withRule(granted ? "approval." + label(d.scope()) : null)
                        .withReason(AuditEvent.clip(d.reason()))
                        .withDetails(details));
            } catch (RuntimeException e) {
                // Not on record, so not reported as granted: the waiter hears a denial, which has no effect.
                settle(id, new Outcome(id, false, "the host could not record the decision: " + e.getMessage()));
                throw e;
            }
            String reason = granted
                    ? "approved by " + approver + " " + reach(d.scope()) + (d.reason() == null ? "" : ": " + d.reason())
                    : "denied by " + approver + (d.reason() == null ? "" : ": " + d.reason());
            settle(id, new Outcome(id, granted, reason));
            notices.add(() -> listener.decided(d));
            return new AnswerResult.Decided(d);
        } finally {
            unlockAndNotify();
        }
    }

    @Override
    public Optional<Approval> find(ApprovalId id) {
        return store.approval(Objects.requireNonNull(id, "id"));
    }

    @Override
    public List<Approval> pending() {
        return store.pendingApprovals();
    }

    @Override
    public void adoptPending() {
        List<Approval> pending = store.pendingApprovals();
        lock.lock();
        try {
            if (closed) {
                return;
            }
            for (Approval a : pending) {
                if (!timers.containsKey(a.id())) {
                    arm(a);
                }
            }
        } finally {
            unlockAndNotify();
        }
    }

    @Override
    public List<Approval> recent(int max) {
        return store.recentApprovals(max);
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            timers.values().forEach(Scheduler.Cancel::cancel);
            timers.clear();
            for (Map.Entry<ApprovalId, List<CompletableFuture<Outcome>>> e : waiters.entrySet()) {
                Outcome stopping = new Outcome(
                        e.getKey(),
                        false,
                        "the host is stopping before anyone answered; the request stays pending and an approval"
                                + " given after the restart applies when this is asked again");
                e.getValue().forEach(f -> notices.add(() -> f.complete(stopping)));
            }
            waiters.clear();
        } finally {
            unlockAndNotify();
        }
    }

    /** Guarded by {@link #lock}. */
    private void arm(Approval pending) {
        ApprovalId id = pending.id();
        timers.put(id, scheduler.at(pending.expiresAt(), () -> onTimeout(id)));
    }

    private void onTimeout(ApprovalId id) {
        lock.lock();
        try {
            timers.remove(id);
            if (!closed) {
                expire(id);
            }
        } catch (RuntimeException e) {
            LOG.error("could not expire approval {}", id, e);
        } finally {
            unlockAndNotify();
        }
    }

    /** Guarded by {@link #lock}. Expires {@code id} if it is still pending. */
    private void expire(ApprovalId id) {
        Approval a = store.approval(id).orElse(null);
        if (a == null || a.status() != Approval.Status.PENDING) {
            return;
        }
        Instant now = clock.instant();
        Duration waited = Duration.between(a.requestedAt(), a.expiresAt());
        String why = "expired after " + human(waited) + " without an answer";
        Optional<Approval> expired = store.decideApproval(
                id, new Store.ApprovalDecision(Approval.Status.EXPIRED, SYSTEM, now, why, null, 0, 0, null));
        if (expired.isEmpty()) {
            return;
        }
        cancelTimer(id);
        try {
            audit.append(event(now, Actor.system("approvals"), a, AuditActions.APPROVAL_EXPIRE, Decision.DENY)
                    .withRule("approvals.timeout_seconds")
                    .withReason(why)
                    .withDetails(Map.of("approval", id.value(), "kind", a.kind())));
        } finally {
            // A denial has no effect to put on record first: tell the waiter even if the log failed.
            settle(id, new Outcome(id, false, why));
        }
        notices.add(() -> listener.decided(expired.get()));
    }

    private void cancelTimer(ApprovalId id) {
        Scheduler.Cancel timer = timers.remove(id);
        if (timer != null) {
            timer.cancel();
        }
    }

    private void settle(ApprovalId id, Outcome outcome) {
        List<CompletableFuture<Outcome>> waiting = waiters.remove(id);
        if (waiting != null) {
            waiting.forEach(f -> notices.add(() -> f.complete(outcome)));
        }
    }

    /** Releases {@link #lock}, then runs the notices queued under it, in order. */
    private void unlockAndNotify() {
        List<Runnable> due = List.copyOf(notices);
        notices.clear();
        lock.unlock();
        due.forEach(DefaultApprovalService::notify);
    }

    private static void notify(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.warn("telling a waiter or listener about an approval failed", e);
        }
    }

    private static AuditEvent event(Instant now, Actor actor, Approval a, String action, Decision decision) {
        return AuditEvent.of(now, actor, action, decision)
                .withAgent(a.agentName())
                .withSession(a.session());
    }

    private static String describe(Answer answer) {
        return switch (answer) {
            case Answer.Grant g -> "grant " + label(g.scope());
            case Answer.Deny d -> "deny";
        };
    }

    static String label(Approval.Scope scope) {
        return scope.name().toLowerCase(Locale.ROOT);
    }

    private static String reach(Approval.Scope scope) {
        return switch (scope) {
            case ONCE -> "once";
            case SESSION -> "for this session";
            case ALWAYS -> "for every matching request of this agent";
        };
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }

    /** "10 min", "2 h", "45 s". */
    static String human(Duration d) {
        long s = d.toSeconds();
        if (s >= 3600 && s % 3600 == 0) {
            return s / 3600 + " h";
        }
        if (s >= 60 && s % 60 == 0) {
            return s / 60 + " min";
        }
        return s + " s";
    }
}
