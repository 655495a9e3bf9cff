package dev.cordon.core.store;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Outbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Domain.Wiring;
import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.OutboundId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.approval.Approval;
import dev.cordon.core.approval.ApprovalId;
import dev.cordon.core.audit.AuditStorage;
import dev.cordon.protocol.ChatMessage;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything the daemon knows that must survive a restart. Every method is one transaction:
 * atomic, durable when it returns (invariant 6: stored before acknowledged), and thread-safe.
 * Infrastructure failures throw {@link StoreException}; the transaction is then rolled back.
 */
public interface Store extends AutoCloseable {

    /** Returns the agent with this name, creating it if it does not exist. */
    Agent ensureAgent(AgentName name);

    Optional<Agent> agent(AgentId id);

    Optional<Agent> agentByName(AgentName name);

    List<Agent> agents();

    /** Returns the chat for (channel, platformChatId), creating it if it does not exist. */
    Chat ensureChat(String channel, String platformChatId);

    Optional<Chat> chat(ChatId id);

    /** Wires a chat to an agent, replacing an earlier wiring of that chat. */
    void wire(ChatId chat, AgentId agent);

    Optional<Wiring> wiring(ChatId chat);

    /** Returns the session for (agent, chat, threadKey), creating it if it does not exist. */
    Session ensureSession(AgentId agent, ChatId chat, String threadKey);

    Optional<Session> session(SessionId id);

    List<Session> sessions();

    /**
     * Stores an inbound message for {@code session} as PENDING. Deduplicates on (chat,
     * platformMessageId) — per chat, because platforms number messages per chat: storing the same
     * message again stores nothing and returns the existing id with {@code duplicate = true}.
     */
    InboundStored storeInbound(SessionId session, ChatId chat, NewInbound message);

    record InboundStored(InboundId id, boolean duplicate) {}

    Optional<Inbound> inbound(InboundId id);

    /** Marks up to {@code max} PENDING messages of a session CLAIMED, oldest first, and returns them. */
    List<Inbound> claimPending(SessionId session, int max);

    /** Sessions that have PENDING messages, for the start-up and safety-net sweep. */
    List<SessionId> sessionsWithPending();

    /** Turns every CLAIMED message back into PENDING; called once at start-up. Returns how many. */
    int releaseClaims();

    /** Appends messages to a session's transcript. */
    void appendTranscript(SessionId session, List<ChatMessage> messages);

    /** The whole transcript, oldest first. */
    List<ChatMessage> transcript(SessionId session);

    /**
     * Ends a turn atomically: {@code transcript} is appended to the session's transcript, the
     * claimed messages become DONE, and the reply (if not null) is stored as an undelivered outbound.
     * Returns the outbound id, or empty when there was no reply. If an outbound with the reply's
     * idempotency key exists, the turn was completed before: nothing is written and that id is
     * returned. A crash before this returns leaves the messages claimed and the transcript unchanged,
     * so the turn is redone whole after a restart.
     */
    Optional<OutboundId> completeTurn(
            SessionId session, List<InboundId> handled, List<ChatMessage> transcript, NewOutbound reply);

    /** {@code inReplyTo} may be null (a message the agent sent on its own). */
    record NewOutbound(ChatId chat, InboundId inReplyTo, String text, boolean failed, String idempotencyKey) {}

    /** Outbound messages not yet delivered, oldest first. */
    List<Outbound> undelivered();

    /** Undelivered outbound messages of one chat, oldest first. */
    List<Outbound> undelivered(ChatId chat);

    Optional<Outbound> outbound(OutboundId id);

    /** Marks delivered with the platform's message id; a second call for the same id changes nothing. */
    void markDelivered(OutboundId id, String platformMessageId);

    /** Recent outbound messages of a chat, delivered or not, oldest first. */
    List<Outbound> recentOutbound(ChatId chat, int max);

    // ---- approvals (docs/approvals.md). Rows are never deleted.

    /** Stores a PENDING approval request and returns it with its id. */
    Approval storeApproval(NewApproval request);

    /** {@code subject} must be {@code Subjects.of(payload)}; the service computes it. */
    record NewApproval(
            AgentId agent,
            SessionId session,
            ChatId chat,
            String kind,
            String subject,
            String summary,
            Map<String, String> payload,
            Instant requestedAt,
            Instant expiresAt) {}

    Optional<Approval> approval(ApprovalId id);

    /** Every PENDING approval, oldest first. */
    List<Approval> pendingApprovals();

    /** The {@code max} newest approvals in any state, oldest first. */
    List<Approval> recentApprovals(int max);

    /** The PENDING request of this session with this kind and subject, if there is one. */
    Optional<Approval> pendingApproval(SessionId session, String kind, String subject);

    /**
     * Moves a PENDING approval to {@code decision.status()} with the decision's fields. Returns the
     * decided approval, or empty (and changes nothing) if it is not PENDING: an approval is decided
     * exactly once, however many answers race.
     */
    Optional<Approval> decideApproval(ApprovalId id, ApprovalDecision decision);

    /**
     * How a pending approval was decided. {@code status} is GRANTED, DENIED or EXPIRED; {@code scope}
     * is set exactly when GRANTED; {@code maxUses} 0 = no limit; {@code uses} is 1 when the request
     * it answered is still waiting (that use is spent now), else 0; {@code grantExpiresAt} may be null.
     */
    record ApprovalDecision(
            Approval.Status status,
            String decidedBy,
            Instant decidedAt,
            String reason,
            Approval.Scope scope,
            int maxUses,
            int uses,
            Instant grantExpiresAt) {}

    /**
     * Finds a grant that decides a request of {@code session} (of agent {@code agent}) with this kind
     * and subject at {@code now} — {@link Approval#usable} and in scope: {@code ALWAYS} for any session
     * of the agent, {@code ONCE} and {@code SESSION} for this session only — counts one use on it and
     * returns it as counted. Atomic: a grant with one use left decides one request, however many race.
     * With several matching grants the oldest is used.
     */
    Optional<Approval> useGrant(AgentId agent, SessionId session, String kind, String subject, Instant now);

    /**
     * The audit log's storage, in the same database and transactions as everything else here. Open
     * the log itself over it with {@link dev.cordon.core.audit.AuditLogs#open}; close that log before
     * this store. Cheap; returns the same storage every time.
     */
    AuditStorage audit();

    @Override
    void close();
}
