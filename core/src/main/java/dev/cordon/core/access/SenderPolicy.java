package dev.cordon.core.access;

import java.util.Arrays;
import java.util.Locale;

/** Who may talk to the agent a chat is wired to (docs/access.md). */
public enum SenderPolicy {
    /** Only users with a role for the agent; everyone else is dropped. The default. */
    STRICT,
    /** Users without a role are held until an admin admits (delivered in order) or refuses (dropped). */
    APPROVAL,
    /** Anyone in the chat. */
    PUBLIC;

    private final String label = name().toLowerCase(Locale.ROOT);

    public String label() {
        return label;
    }

    /** @throws IllegalArgumentException naming the text and the policies there are */
    public static SenderPolicy ofLabel(String label) {
        for (SenderPolicy policy : values()) {
            if (policy.label.equals(label)) {
                return policy;
            }
        }
        throw new IllegalArgumentException("unknown sender policy '" + label + "': use one of "
                + Arrays.stream(values()).map(SenderPolicy::label).toList());
    }
}
