package dev.cordon.core.access;

import dev.cordon.core.Ids.AgentId;
import java.time.Instant;
import java.util.Objects;

/**
 * One stored role of a user.
 *
 * @param agent the agent it is scoped to, or null for a global grant (an owner is always global)
 * @param grantedBy who granted it ({@code channel:id}, or {@code pairing} for a pairing code's admin)
 */
public record RoleGrant(UserId user, Role role, AgentId agent, String grantedBy, Instant grantedAt) {
    public RoleGrant {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(grantedBy, "grantedBy");
        Objects.requireNonNull(grantedAt, "grantedAt");
        if (role == Role.OWNER && agent != null) {
            throw new IllegalArgumentException("an owner is global: it cannot be scoped to an agent");
        }
    }
}
