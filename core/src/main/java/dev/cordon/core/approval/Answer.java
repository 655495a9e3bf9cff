package dev.cordon.core.approval;

import java.time.Duration;
import java.util.Objects;

/** A person's answer to a pending approval. */
public sealed interface Answer {

    /**
     * Yes, with a reach.
     *
     * @param maxUses how many requests the grant may decide in all, counting the one it answers; 0 =
     *     no limit. {@code ONCE} always means 1.
     * @param validFor how long the grant keeps matching later requests; null = until used up
     * @param reason optional words for the record
     */
    record Grant(Approval.Scope scope, int maxUses, Duration validFor, String reason) implements Answer {
        public Grant {
            Objects.requireNonNull(scope, "scope");
            if (maxUses < 0) {
                throw new IllegalArgumentException("maxUses must be 0 (no limit) or more, was " + maxUses);
            }
            if (scope == Approval.Scope.ONCE) {
                maxUses = 1;
            }
            if (validFor != null && (validFor.isNegative() || validFor.isZero())) {
                throw new IllegalArgumentException("a grant's lifetime must be positive, was " + validFor);
            }
        }
    }

    /** No; {@code reason} (optional) is passed on to the agent. */
    record Deny(String reason) implements Answer {}
}
