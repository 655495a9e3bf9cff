package dev.cordon.core.access;

import java.util.Objects;

/**
 * A person as one channel knows them: {@code channel:platformUserId} ({@code slack:U123}, {@code
 * telegram:4711}). The same person on two channels is two users; roles are granted per user.
 *
 * @param channel the channel's name: lowercase letters, digits, '-' and '_', starting with a letter
 * @param platformUserId the platform's id for the sender: non-empty, no whitespace or control
 *     characters, at most 200 characters
 */
public record UserId(String channel, String platformUserId) {
    /** Whoever can open the control socket (mode 0600): always an owner, and cannot be revoked. */
    public static final UserId TERMINAL_OWNER = new UserId("terminal", "owner");

    public UserId {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(platformUserId, "platformUserId");
        if (!validChannel(channel)) {
            throw new IllegalArgumentException("invalid user '" + channel + ":" + platformUserId
                    + "': the channel must be lowercase letters, digits, '-' or '_', starting with a letter");
        }
        if (platformUserId.isEmpty() || platformUserId.length() > 200) {
            throw new IllegalArgumentException("invalid user '" + channel + ":" + platformUserId
                    + "': the platform user id must be 1-200 characters");
        }
        for (int i = 0; i < platformUserId.length(); i++) {
            char c = platformUserId.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c)) {
                throw new IllegalArgumentException("invalid user '" + channel + ":" + platformUserId
                        + "': the platform user id contains whitespace or a control character at index " + i);
            }
        }
    }

    /**
     * Parses {@code channel:platformUserId}; the id is everything after the first colon.
     *
     * @throws IllegalArgumentException naming the text and what is wrong with it
     */
    public static UserId parse(String text) {
        Objects.requireNonNull(text, "text");
        int colon = text.indexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("invalid user '" + text
                    + "': write it as CHANNEL:PLATFORM_USER_ID, like slack:U123 or terminal:owner");
        }
        return new UserId(text.substring(0, colon), text.substring(colon + 1));
    }

    /** {@code channel:platformUserId}, the form {@link #parse} reads and the audit log records. */
    @Override
    public String toString() {
        return channel + ":" + platformUserId;
    }

    static boolean validChannel(String channel) {
        if (channel.isEmpty() || channel.length() > 32 || channel.charAt(0) < 'a' || channel.charAt(0) > 'z') {
            return false;
        }
        for (int i = 1; i < channel.length(); i++) {
            char c = channel.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }
}
