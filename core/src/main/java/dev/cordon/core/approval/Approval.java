package dev.cordon.core.approval;

import dev.cordon.core.AgentName;
import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One question put to a person, as stored: what was asked, by which agent in which session and chat,
 * and how it was answered. A granted approval is also a grant: it decides later requests with the
 * same agent, kind and subject (within its {@link Scope}) while it is {@link #usable}.
 *
 * @param subject what a grant is about: the payload in canonical form ({@link Subjects#of})
 * @param payload every argument the requester sent, in full, sorted by key; what the approver sees
 * @param expiresAt when a pending request is denied for want of an answer
 * @param decidedBy who answered ({@code terminal:owner}), or {@code cordon} for an expiry; null while pending
 * @param reason the approver's words, or why it expired; may be null
 * @param scope the reach of a grant; null unless granted
 * @param maxUses how many requests a grant may decide in all, counting the one it answered; 0 = no limit
 * @param uses how many requests it has decided so far
 * @param grantExpiresAt when a grant stops matching; null = never
 */
public record Approval(
        ApprovalId id,
        AgentId agent,
        AgentName agentName,
        SessionId session,
        ChatId chat,
        String kind,
        String subject,
        String summary,
        Map<String, String> payload,
        Instant requestedAt,
        Instant expiresAt,
        Status status,
        String decidedBy,
        Instant decidedAt,
        String reason,
        Scope scope,
        int maxUses,
        int uses,
        Instant grantExpiresAt) {

    public Approval {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(agent, "agent");
        Objects.requireNonNull(agentName, "agentName");
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(chat, "chat");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(summary, "summary");
        Objects.requireNonNull(requestedAt, "requestedAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(status, "status");
        payload = Collections.unmodifiableSortedMap(new TreeMap<>(payload));
    }

    /** Where an approval is in its life. Only {@code PENDING} ever changes, and only once. */
    public enum Status {
        PENDING,
        GRANTED,
        DENIED,
        /** Nobody answered before {@link Approval#expiresAt}: it counts as denied. */
        EXPIRED
    }

    /** How far a grant reaches beyond the request it answered. */
    public enum Scope {
        /** One use in the same session: the request it answered, or the next matching one. */
        ONCE,
        /** Matching requests of the same session. */
        SESSION,
        /** Matching requests of the same agent, in any session. */
        ALWAYS
    }

    /** A grant that may still decide a request at {@code now}: not used up, not expired. */
    public boolean usable(Instant now) {
        return status == Status.GRANTED
                && (maxUses == 0 || uses < maxUses)
                && (grantExpiresAt == null || now.isBefore(grantExpiresAt));
    }
}
