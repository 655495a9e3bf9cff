package dev.cordon.core.access;

import java.util.Arrays;
import java.util.Locale;

/**
 * What a user may do. Strongest first: a user with several grants has the strongest that applies
 * to the agent in question.
 */
public enum Role {
    /** Everything, on every agent. Always global. */
    OWNER,
    /** Configure and approve for every agent (global) or for the agents it is granted on. */
    ADMIN,
    /** Talk to the agent (global: to every agent) in the chats its sender policy lets in. */
    MEMBER;

    private final String label = name().toLowerCase(Locale.ROOT);

    /** {@code owner}, {@code admin} or {@code member}: the form the CLI, the store and the log use. */
    public String label() {
        return label;
    }

    /** @throws IllegalArgumentException naming the text and the roles there are */
    public static Role ofLabel(String label) {
        for (Role role : values()) {
            if (role.label.equals(label)) {
                return role;
            }
        }
        throw new IllegalArgumentException("unknown role '" + label + "': use one of "
                + Arrays.stream(values()).map(Role::label).toList());
    }
}
