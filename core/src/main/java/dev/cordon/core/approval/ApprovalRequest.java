package dev.cordon.core.approval;

import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A question for a person: may this agent, in this session, do {@code kind} with these arguments?
 * What a grant is about (the subject) is derived from {@code payload} by the service ({@link
 * Subjects#of}), never given separately.
 *
 * <p>The fields often come from a sandbox, which is hostile: the constructor checks every one and
 * throws {@link IllegalArgumentException} saying which field is wrong and what is allowed.
 *
 * @param kind what is asked, lowercase words of {@code a-z} and {@code _} joined by dots ({@code
 *     tool.bash}, {@code egress.connect}); at most {@value #MAX_KIND} characters
 * @param summary one line for the approver, at most {@value #MAX_SUMMARY} characters, not blank
 * @param payload every argument, shown to the approver in full: at most {@value #MAX_ENTRIES}
 *     entries, keys of {@code A-Za-z0-9_.-} (at most 64), and at most {@value #MAX_PAYLOAD_CHARS}
 *     characters of keys and values together
 * @param timeout how long the request waits for an answer before it is denied; positive
 */
public record ApprovalRequest(
        AgentId agent,
        SessionId session,
        ChatId chat,
        String kind,
        String summary,
        Map<String, String> payload,
        Duration timeout) {

    public static final int MAX_KIND = 64;
    public static final int MAX_SUMMARY = 1000;
    public static final int MAX_ENTRIES = 64;
    public static final int MAX_PAYLOAD_CHARS = 64 * 1024;

    private static final Pattern KIND = Pattern.compile("[a-z_]+(\\.[a-z_]+)*");
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    public ApprovalRequest {
        Objects.requireNonNull(agent, "agent");
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(chat, "chat");
        Objects.requireNonNull(timeout, "timeout");
        if (kind == null || kind.length() > MAX_KIND || !KIND.matcher(kind).matches()) {
            throw new IllegalArgumentException("approval kind '" + shorten(kind)
                    + "' is not lowercase words of a-z and _ joined by dots like 'tool.bash' (at most "
                    + MAX_KIND + " characters)");
        }
        if (summary == null || summary.isBlank()) {
            throw new IllegalArgumentException("approval summary is empty: say in one line what is asked");
        }
        if (summary.length() > MAX_SUMMARY) {
            throw new IllegalArgumentException("approval summary is " + summary.length() + " characters long; at most "
                    + MAX_SUMMARY + " are allowed (put details in the payload)");
        }
        wellFormed("summary", summary);
        if (payload == null) {
            throw new IllegalArgumentException("approval payload is missing (send an empty map if there is none)");
        }
        if (payload.size() > MAX_ENTRIES) {
            throw new IllegalArgumentException(
                    "approval payload has " + payload.size() + " entries; at most " + MAX_ENTRIES + " are allowed");
        }
        long chars = 0;
        for (Map.Entry<String, String> e : payload.entrySet()) {
            if (e.getKey() == null || !KEY.matcher(e.getKey()).matches()) {
                throw new IllegalArgumentException("approval payload key '" + shorten(e.getKey())
                        + "' must be 1-64 of A-Z, a-z, 0-9, '_', '.' and '-'");
            }
            if (e.getValue() == null) {
                throw new IllegalArgumentException("approval payload value of '" + e.getKey() + "' is null");
            }
            wellFormed("payload value of '" + e.getKey() + "'", e.getValue());
            chars += e.getKey().length() + e.getValue().length();
        }
        if (chars > MAX_PAYLOAD_CHARS) {
            throw new IllegalArgumentException(
                    "approval payload is " + chars + " characters long; at most " + MAX_PAYLOAD_CHARS + " are allowed");
        }
        payload = Collections.unmodifiableSortedMap(new TreeMap<>(payload));
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("approval timeout must be positive, was " + timeout);
        }
    }

    /** Unpaired surrogates cannot be stored as UTF-8 or shown: refuse them rather than mangle them. */
    private static void wellFormed(String what, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c)
                    && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(
                        "approval " + what + " is not well-formed Unicode: unpaired surrogate at index " + i);
            }
        }
    }

    private static String shorten(String s) {
        return s == null ? "null" : s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
