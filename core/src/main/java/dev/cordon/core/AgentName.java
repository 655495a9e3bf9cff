package dev.cordon.core;

import java.util.regex.Pattern;

/**
 * An agent's name: lowercase letters, digits and dashes, 1–32 characters, starting with a letter.
 * Names become directory names on the host, so the pattern is also the path-safety check.
 */
public record AgentName(String value) {
    private static final Pattern VALID = Pattern.compile("[a-z][a-z0-9-]{0,31}");

    public AgentName {
        if (value == null || !VALID.matcher(value).matches()) {
            throw new IllegalArgumentException("invalid agent name '" + value
                    + "': use 1-32 lowercase letters, digits or dashes, starting with a letter");
        }
    }

    @Override
    public String toString() {
        return value;
    }
}
