package dev.cordon.core.access;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.store.Store;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * Who may talk to an agent and who may change things (docs/access.md): roles, the sender policy of
 * each chat, held senders and pairing codes.
 *
 * <p>Thread-safe. Every method that changes something checks the caller with {@link
 * #requireAdmin}, stores the change (one store transaction), and audits it before it returns
 * (invariant 6). Expected refusals are values ({@link Outcome.Rejected}) whose reason says what was
 * refused, by which rule, and what to do instead; store and audit failures are thrown as the store's
 * and the log's exceptions.
 */
public interface Access {
    /** How long a pairing code is valid. */
    Duration PAIRING_CODE_LIFETIME = Duration.ofMinutes(10);

    /** Wrong pairing codes a chat may send within {@link #PAIRING_GUESS_WINDOW} before it is ignored. */
    int PAIRING_GUESSES = 5;

    Duration PAIRING_GUESS_WINDOW = Duration.ofMinutes(10);

    /** A chat nobody set a policy for has this one. */
    SenderPolicy DEFAULT_SENDER_POLICY = SenderPolicy.STRICT;

    /**
     * Creates the service.
     *
     * @param clock decides code expiry and guess windows
     * @param random draws pairing codes: a {@link java.security.SecureRandom} outside tests
     * @param wakeSession called after admitted messages are in a session's inbox
     * @param wakeDelivery called after a reply (a pairing confirmation) is in a chat's outbox
     */
    static Access create(
            Store store,
            AuditLog audit,
            Clock clock,
            RandomGenerator random,
            Consumer<SessionId> wakeSession,
            Consumer<ChatId> wakeDelivery) {
        return new AccessService(store, audit, clock, random, wakeSession, wakeDelivery);
    }

    // ---- questions

    /**
     * The strongest role {@code user} has for {@code agent}: an owner, a global grant, or a grant on
     * that agent. Empty if none (or there is no such agent and no global role).
     */
    Optional<Role> role(UserId user, AgentName agent);

    /** Owners, global admins and admins of {@code agent}. */
    boolean mayAdminister(UserId user, AgentName agent);

    /**
     * Whether {@code approver}'s answer to an approval for {@code agent} counts: owners and admins
     * of that agent (global or scoped). The shape of {@code core.approval.Approvers}.
     */
    boolean mayApprove(UserId approver, AgentName agent);

    /** As {@link #mayApprove(UserId, AgentName)} with the user as {@code channel:id}; false if unparsable. */
    boolean mayApprove(String approver, AgentName agent);

    /**
     * Whether {@code user} may change configuration of {@code agent}, or, with {@code agent} null,
     * global configuration (owners and global admins only).
     */
    Permission requireAdmin(UserId user, AgentName agent);

    /** The answer of {@link #requireAdmin}. */
    sealed interface Permission {
        record Allowed() implements Permission {}

        /** {@code reason} names the user, what they lack, and who can do it instead. */
        record Denied(String reason) implements Permission {}
    }

    /** The chat's sender policy; {@link #DEFAULT_SENDER_POLICY} if none was set. */
    SenderPolicy senderPolicy(ChatId chat);

    // ---- the router's questions

    /**
     * Applies {@code chat}'s sender policy to a message for {@code agent} (the agent the chat is
     * wired to). A held message is stored and audited ({@code access.request} for a new request,
     * {@code inbound.held}) before this returns; admitted and dropped ones are the router's to store
     * and audit.
     */
    Screening screen(Chat chat, Agent agent, NewInbound message);

    /** What the sender policy says about one message. */
    sealed interface Screening {
        /** Let it through. {@code rule} names the policy, {@code reason} why the sender passes. */
        record Admit(String rule, String reason) implements Screening {}

        /** Drop it; {@code reason} says why and what would let the sender in. */
        record Drop(String rule, String reason) implements Screening {}

        /** Stored and held under {@code request} until an admin decides. */
        record Held(SenderRequest request, boolean duplicate, String rule, String reason) implements Screening {}
    }

    /**
     * Treats a message from an unwired chat as a pairing code. Only text that looks like a code
     * (eight characters of the code alphabet, any case, surrounding blanks ignored) counts as an
     * attempt; wrong, used and expired codes count against the chat's guess limit. A valid code
     * wires the chat, makes the sender an admin of the code's agent, stores a confirmation in the
     * chat's outbox and audits all of it before this returns.
     */
    Claim claim(Chat chat, NewInbound message);

    /** What {@link #claim} did. */
    sealed interface Claim {
        /** The text is not shaped like a code: an ordinary message from an unwired chat. */
        record NotACode() implements Claim {}

        /** The chat is now wired to {@code agent}; {@code reply} is in its outbox. */
        record Paired(AgentName agent, String reply) implements Claim {}

        /** A wrong, used or expired code, or too many guesses. Nothing changed. */
        record Refused(String rule, String reason) implements Claim {}
    }

    // ---- configuration (admin-only, audited)

    /** Grants a role; {@code agent} null grants it globally (owner roles are always global). */
    Outcome grant(UserId by, UserId user, Role role, AgentName agent);

    /** Revokes a role with exactly this scope. The built-in {@link UserId#TERMINAL_OWNER} stays owner. */
    Outcome revoke(UserId by, UserId user, Role role, AgentName agent);

    /** Sets the sender policy of a chat, named {@code channel:platformChatId}. */
    Outcome setSenderPolicy(UserId by, String chat, SenderPolicy policy);

    /** Admits a held sender: their held messages reach the agent in order, and they become a member. */
    Outcome admit(UserId by, SenderRequest.Id request);

    /** Refuses a held sender: their held messages are dropped (audited), later ones too. */
    Outcome refuse(UserId by, SenderRequest.Id request);

    /** What a configuration change did. */
    sealed interface Outcome {
        /** Done and audited; {@code message} says what changed. */
        record Done(String message) implements Outcome {}

        /** Nothing changed; {@code reason} says why and what to do. */
        record Rejected(String reason) implements Outcome, PairingCode {}
    }

    /**
     * Issues a one-time pairing code for {@code agent} (admins of that agent only), valid for {@link
     * #PAIRING_CODE_LIFETIME}. Only its hash is stored; the code is in the result alone.
     */
    PairingCode pair(UserId by, AgentName agent);

    sealed interface PairingCode {
        record Issued(AgentName agent, String code, Instant expiresAt) implements PairingCode {}
    }
}
