package dev.cordon.core.access;

import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import java.time.Instant;

/**
 * A sender without a role who wrote to a chat with the {@link SenderPolicy#APPROVAL} policy: their
 * messages are held until an admin decides.
 *
 * @param held how many of their messages are held now (0 once decided)
 * @param decidedBy who admitted or refused, or null while pending
 * @param decidedAt when, or null while pending
 */
public record SenderRequest(
        Id id,
        ChatId chat,
        AgentId agent,
        UserId sender,
        State state,
        int held,
        Instant createdAt,
        String decidedBy,
        Instant decidedAt) {

    /** Row id of a sender request. */
    public record Id(long value) {}

    public enum State {
        PENDING,
        ADMITTED,
        REFUSED
    }
}
