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
import dev.cordon.core.access.HeldMessage;
import dev.cordon.core.access.Role;
import dev.cordon.core.access.RoleGrant;
import dev.cordon.core.access.SenderPolicy;
import dev.cordon.core.access.SenderRequest;
import dev.cordon.core.access.UserId;
import dev.cordon.core.approval.Approval;
import dev.cordon.core.approval.ApprovalId;
import dev.cordon.core.audit.AuditStorage;
import dev.cordon.core.budget.Ledger;
import dev.cordon.core.task.Tasks;
import dev.cordon.protocol.ChatMessage;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Everything the daemon knows that must survive a restart. Every method is one transaction:
 * atomic, durable when it returns (invariant 6: stored before acknowledged), and thread-safe.
 * Infrastructure failures throw {@link StoreException}; the transaction is then rolled back.
 */
public interface Store extends AutoCloseable {

    /** Returns the live agent with this name, creating it if it does not exist. */
    Agent ensureAgent(AgentName name);

    Optional<Agent> agent(AgentId id);

    Optional<Agent> agentByName(AgentName name);

    List<Agent> agents();

    /**
     * Deletes a live agent, keeping its history: its row stays (so sessions, messages, approvals and
     * audit entries that name its id still resolve through {@link #agent(AgentId)}) but is marked
     * deleted, so {@link #agentByName}, {@link #agents} and {@link #ensureAgent} no longer see it and
     * the name is free for a new agent with a new id. In the same transaction its chats are unwired
     * (a message there is routed like one in any unwired chat), its messages not yet handled are
     * closed unanswered, and its active tasks are cancelled. Empty if no live agent has this id.
     */
    Optional<AgentDeleted> deleteAgent(AgentId id);

    /** What {@link #deleteAgent} changed besides the agent's own row. */
    record AgentDeleted(int unwiredChats, int closedMessages, int cancelledTasks) {}

    /** Returns the chat for (channel, platformChatId), creating it if it does not exist. */
    Chat ensureChat(String channel, String platformChatId);

    Optional<Chat> chat(ChatId id);

    /** The chat for (channel, platformChatId) if a message ever came from it; never creates one. */
    Optional<Chat> findChat(String channel, String platformChatId);

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

    /**
     * As {@link #storeInbound(SessionId, ChatId, NewInbound)}, and records {@code files} (what became
     * of each file the message carried, in order) in the same transaction. A duplicate stores no
     * file rows: the first delivery's stay.
     */
    InboundStored storeInbound(SessionId session, ChatId chat, NewInbound message, List<ReceivedFile> files);

    record InboundStored(InboundId id, boolean duplicate) {}

    /**
     * A file a person sent with an inbound message, as the host received it: kept in the file vault
     * ({@code sha256} set, {@code size} the bytes kept), or not ({@code problem} says why for the
     * agent, {@code size} what the platform declared or -1). {@code name} is already sanitised.
     */
    record ReceivedFile(String name, String mediaType, long size, String sha256, String problem) {
        public ReceivedFile {
            java.util.Objects.requireNonNull(name, "name");
            java.util.Objects.requireNonNull(mediaType, "mediaType");
            if ((sha256 == null) == (problem == null)) {
                throw new IllegalArgumentException("a received file has either its sha256 or a problem");
            }
        }

        /** Whether the bytes are in the vault. */
        public boolean kept() {
            return sha256 != null;
        }
    }

    /**
     * Whether a message with {@code platformMessageId} is stored for {@code chat}: a redelivery,
     * whose files need no fetching again.
     */
    boolean hasInbound(ChatId chat, String platformMessageId);

    /** The files each of {@code messages} carried, in order; a message without files is absent. */
    Map<InboundId, List<ReceivedFile>> inboundFiles(List<InboundId> messages);

    Optional<Inbound> inbound(InboundId id);

    /** Marks up to {@code max} PENDING messages of a session CLAIMED, oldest first, and returns them. */
    List<Inbound> claimPending(SessionId session, int max);

    /**
     * Marks one message CLAIMED if it is PENDING, and returns it so; empty if it is not pending (or
     * does not exist). Concurrent callers never both receive it.
     */
    Optional<Inbound> claimInbound(InboundId id);

    /**
     * The newest message of {@code session} that a turn has taken and not finished (CLAIMED): the
     * message the running turn answers last, in whose thread the host posts what it says about the
     * turn (an approval card). Empty when no turn of the session runs.
     */
    Optional<Inbound> turnMessage(SessionId session);

    /** Sessions that have PENDING messages, for the start-up and safety-net sweep. */
    List<SessionId> sessionsWithPending();

    /**
     * Turns this store's replica's CLAIMED messages ({@link Replicas#self}), and those claimed before
     * claims named their replica, back into PENDING; called once at start-up. Another replica's
     * claims stay: they are released when it dies ({@link Replicas#reapExpired}). Returns how many.
     */
    int releaseClaims();

    /** Appends messages to a session's transcript. */
    void appendTranscript(SessionId session, List<ChatMessage> messages);

    /** The whole transcript, oldest first. */
    List<ChatMessage> transcript(SessionId session);

    /**
     * What a chat's reader is shown, read as one snapshot: every session's transcript (sessions
     * oldest first), the messages no finished turn has handled yet (oldest first), and the id of the
     * chat's newest outbound message (0 if none). A reply stored after the snapshot has a larger id,
     * so a reader that also follows live replies can tell which of them the snapshot already holds.
     */
    ChatHistory chatHistory(ChatId chat);

    /** See {@link #chatHistory}. */
    record ChatHistory(List<ChatMessage> transcript, List<Inbound> unfinished, long lastOutbound) {
        public ChatHistory {
            transcript = List.copyOf(transcript);
            unfinished = List.copyOf(unfinished);
        }
    }

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

    /**
     * {@code inReplyTo} may be null (a message the agent sent on its own); {@code options} are the
     * choices the reader picks one of (see {@link Outbound#options}).
     */
    record NewOutbound(
            ChatId chat,
            InboundId inReplyTo,
            String text,
            boolean failed,
            String idempotencyKey,
            List<String> options) {
        public NewOutbound {
            options = List.copyOf(options);
        }

        /** A reply without options. */
        public NewOutbound(ChatId chat, InboundId inReplyTo, String text, boolean failed, String idempotencyKey) {
            this(chat, inReplyTo, text, failed, idempotencyKey, List.of());
        }
    }

    /**
     * Stores a message that carries a file, like {@link #completeTurn} stores a reply (with no
     * handled messages and no transcript), and the file's description with it in the same
     * transaction. The file's bytes must be in the host's file vault already. If an outbound with
     * the message's idempotency key exists, nothing is written and its id is returned.
     */
    OutboundId storeFileMessage(SessionId session, NewOutbound message, OutboundFile file);

    /** A file an outbound message carries: its bytes are in the file vault under {@code sha256}. */
    record OutboundFile(String name, String mediaType, long size, String sha256) {}

    /** The file outbound message {@code id} carries, or empty. */
    Optional<OutboundFile> outboundFile(OutboundId id);

    /**
     * The digests of the vault's files that stored messages still need, given that nothing older than
     * {@code since} is wanted any more: files of outbound messages not yet delivered or given up, or
     * stored, delivered or given up at {@code since} or later; files of inbound messages not yet
     * handled, or received or handled at {@code since} or later. What the file vault's sweep keeps.
     */
    Set<String> filesInUse(Instant since);

    /** Outbound messages not yet delivered, oldest first. */
    List<Outbound> undelivered();

    /** Undelivered outbound messages of one chat, oldest first. */
    List<Outbound> undelivered(ChatId chat);

    Optional<Outbound> outbound(OutboundId id);

    /** Marks delivered with the platform's message id; a second call for the same id changes nothing. */
    void markDelivered(OutboundId id, String platformMessageId);

    /**
     * Gives up on a reply the platform refused for good: it is never marked delivered and stays in the
     * outbox with {@code reason}, but {@link #undelivered} no longer returns it, so the chat's later
     * replies go on. Returns false if it was already delivered or given up.
     */
    boolean giveUp(OutboundId id, String reason);

    /** Recent outbound messages of a chat, delivered or not, oldest first. */
    List<Outbound> recentOutbound(ChatId chat, int max);

    // ---- access: roles, sender policy, held senders, pairing codes (docs/access.md)

    /**
     * Stores a role. {@code agent} null is a global grant. Returns false, changing nothing, if the
     * user already has this role with this scope.
     *
     * @throws IllegalArgumentException if {@code role} is owner and {@code agent} is not null, or the
     *     agent does not exist
     */
    boolean grantRole(UserId user, Role role, AgentId agent, String grantedBy);

    /** Removes a role with exactly this scope; returns false if there was none. */
    boolean revokeRole(UserId user, Role role, AgentId agent);

    /** Every stored role, oldest grant first. */
    List<RoleGrant> roleGrants();

    /** The roles of one user, oldest first. */
    List<RoleGrant> roleGrants(UserId user);

    /** Every chat, oldest first. */
    List<Chat> chats();

    /** The chat's sender policy, or empty when none was ever set (the caller's default applies). */
    Optional<SenderPolicy> senderPolicy(ChatId chat);

    /** Sets the chat's sender policy. @throws IllegalArgumentException if there is no such chat */
    void setSenderPolicy(ChatId chat, SenderPolicy policy, String setBy);

    /**
     * Holds a message of a sender without a role in a chat wired to {@code agent}, in one
     * transaction: if the sender (the message's channel and sender id) now has a role for the agent
     * (global or on the agent), nothing is stored and {@link Hold.HasRole} returns, so the caller
     * stores it as usual; if an admin refused them in this chat, nothing is stored and {@link
     * Hold.Refused} returns; otherwise the message is added to the sender's pending request for this
     * chat, creating the request if there is none. Deduplicates on (chat, platformMessageId) like
     * {@link #storeInbound}.
     */
    Hold holdInbound(ChatId chat, AgentId agent, NewInbound message);

    /** What {@link #holdInbound} did. */
    sealed interface Hold {
        /** Held under {@code request}; {@code newRequest} if this message opened it. */
        record Held(SenderRequest request, boolean newRequest, boolean duplicate) implements Hold {}

        /** An admin refused this sender in this chat. */
        record Refused(SenderRequest request) implements Hold {}

        /** The sender has a role for the agent (granted meanwhile): store the message as usual. */
        record HasRole() implements Hold {}
    }

    Optional<SenderRequest> senderRequest(SenderRequest.Id id);

    /** Every sender request, oldest first. */
    List<SenderRequest> senderRequests();

    /** The messages held for a request, oldest first. */
    List<HeldMessage> heldMessages(SenderRequest.Id id);

    /**
     * Admits a pending sender, in one transaction: the request becomes ADMITTED, the sender gets the
     * member role on the request's agent (unless they have it), and every held message moves into
     * {@code session}'s inbox as PENDING, oldest first, keeping its platform message id (so a
     * redelivery still deduplicates). A crash leaves either all of it or none.
     *
     * @throws IllegalArgumentException if there is no such request, it is not pending, or {@code
     *     session} is not the session of the request's agent and chat
     */
    Admitted admitSender(SenderRequest.Id id, SessionId session, String decidedBy);

    /** {@code delivered}: the held messages as stored in the inbox, oldest first. */
    record Admitted(SenderRequest request, List<InboundStored> delivered, boolean roleGranted) {}

    /**
     * Refuses a pending sender, in one transaction: the request becomes REFUSED and its held
     * messages are deleted; they are returned, oldest first, for the caller to audit.
     *
     * @throws IllegalArgumentException if there is no such request or it is not pending
     */
    List<HeldMessage> refuseSender(SenderRequest.Id id, String decidedBy);

    /**
     * Stores a one-time pairing code by its hash (the code itself is never stored).
     *
     * @throws IllegalArgumentException if the hash is not 32 bytes, or an equal hash exists
     */
    void addPairingCode(byte[] codeHash, AgentId agent, String createdBy, Instant expiresAt);

    /**
     * Uses a pairing code, in one transaction: if the hash names an unused code that has not expired
     * at {@code now}, the code is marked used by {@code claimant} with message {@code
     * platformMessageId} of {@code chat}, the chat is wired to the code's agent and the claimant gets
     * the admin role on that agent. Concurrent claims of one code: exactly one succeeds.
     */
    PairingClaim claimPairingCode(byte[] codeHash, ChatId chat, UserId claimant, String platformMessageId, Instant now);

    /** Whether message {@code platformMessageId} of {@code chat} used a pairing code (so a redelivery is not passed on). */
    boolean isPairingMessage(ChatId chat, String platformMessageId);

    /** What {@link #claimPairingCode} found. */
    sealed interface PairingClaim {
        record Claimed(AgentId agent, boolean roleGranted) implements PairingClaim {}

        record Unknown() implements PairingClaim {}

        record Used(Instant usedAt) implements PairingClaim {}

        record Expired(Instant expiredAt) implements PairingClaim {}
    }

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

    /** The model gateway's token and cost ledger (core/budget). Cheap; the same ledger every time. */
    Ledger ledger();

    /** The scheduled tasks and their run history (core/task). Cheap; the same every time. */
    Tasks tasks();

    /** Replicas on this database: heartbeats, leases, wake-ups. Cheap; the same every time. */
    Replicas replicas();

    @Override
    void close();
}
