package dev.cordon.core.audit;

import dev.cordon.core.AgentName;
import dev.cordon.core.Ids.SessionId;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One security-relevant event, as a caller hands it to {@link AuditLog#append}: metadata only. The
 * log adds the sequence number and the hashes ({@link AuditEntry}).
 *
 * <p>Every value is checked on construction, so that whatever is appended can be stored and read
 * back unchanged and hashes the same on every store: strings must be well-formed Unicode (an
 * unpaired surrogate has no UTF-8 encoding and would be stored as something else); {@code time} is
 * cut to milliseconds (what the store keeps); details keys are lowercase ASCII and details values
 * are strings, whole numbers ({@code Integer} or {@code Long}, kept as {@code Long}) or booleans.
 * Sizes are capped (see the constants) because an audit entry is a record of a decision, not a
 * copy of a message: a caller that wants a body in the log must truncate it itself.
 *
 * @param time when it happened (UTC, millisecond precision)
 * @param actor who did or caused it
 * @param agent the agent it concerns, or null
 * @param session the session it concerns, or null
 * @param action what happened: lowercase words joined by dots ({@code sandbox.start}, {@code delivery}); see {@link AuditActions}
 * @param decision allow, deny, or info for events that are not decisions
 * @param rule the policy rule that decided, or null
 * @param reason why, for a human, or null
 * @param details a few more facts (token counts, a destination host, an exit code); never null,
 *     sorted by key, unmodifiable
 */
public record AuditEvent(
        Instant time,
        Actor actor,
        AgentName agent,
        SessionId session,
        String action,
        Decision decision,
        String rule,
        String reason,
        Map<String, Object> details) {

    /** Longest action name, in characters. */
    public static final int MAX_ACTION = 64;
    /** Longest actor id or rule, in characters. */
    public static final int MAX_SHORT_TEXT = 256;
    /** Longest reason or details string value, in characters. */
    public static final int MAX_TEXT = 4096;
    /** Most details entries. */
    public static final int MAX_DETAILS = 32;

    public AuditEvent {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(actor, "actor");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(decision, "decision");
        time = time.truncatedTo(ChronoUnit.MILLIS);
        if (action.length() > MAX_ACTION || !isAction(action)) {
            throw new IllegalArgumentException(
                    "audit action '" + action + "' is not lowercase words joined by dots like 'sandbox.start' (at most "
                            + MAX_ACTION + " characters)");
        }
        text("rule", rule, MAX_SHORT_TEXT);
        text("reason", reason, MAX_TEXT);
        details = details(details);
    }

    /**
     * {@code text} cut to {@link #MAX_TEXT} characters (marked with an ellipsis when cut, never
     * splitting a surrogate pair): for reasons that quote an error message of unknown length.
     */
    public static String clip(String text) {
        if (text == null || text.length() <= MAX_TEXT) {
            return text;
        }
        int end = MAX_TEXT - 1;
        if (Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(0, end) + "…";
    }

    /** An event with no agent, session, rule, reason or details; add them with the {@code with} methods. */
    public static AuditEvent of(Instant time, Actor actor, String action, Decision decision) {
        return new AuditEvent(time, actor, null, null, action, decision, null, null, Map.of());
    }

    public AuditEvent withAgent(AgentName agent) {
        return new AuditEvent(time, actor, agent, session, action, decision, rule, reason, details);
    }

    public AuditEvent withSession(SessionId session) {
        return new AuditEvent(time, actor, agent, session, action, decision, rule, reason, details);
    }

    public AuditEvent withRule(String rule) {
        return new AuditEvent(time, actor, agent, session, action, decision, rule, reason, details);
    }

    public AuditEvent withReason(String reason) {
        return new AuditEvent(time, actor, agent, session, action, decision, rule, reason, details);
    }

    public AuditEvent withDetails(Map<String, ?> details) {
        return new AuditEvent(time, actor, agent, session, action, decision, rule, reason, Map.copyOf(details));
    }

    /** What the log decided or observed. */
    public enum Decision {
        ALLOW,
        DENY,
        /** Not a decision: something happened (a sandbox started, a message was delivered). */
        INFO;

        private final String label = name().toLowerCase(Locale.ROOT);

        /** The lowercase name used in the canonical encoding, the store and the export. */
        public String label() {
            return label;
        }

        /** The decision whose {@link #label()} is {@code label}. */
        public static Decision ofLabel(String label) {
            return switch (label) {
                case "allow" -> ALLOW;
                case "deny" -> DENY;
                case "info" -> INFO;
                default -> throw new IllegalArgumentException("unknown audit decision '" + label + "'");
            };
        }
    }

    /**
     * Who did or caused an event.
     *
     * @param kind a person, an agent, or the host itself
     * @param id a user as {@code channel:platform-user-id} ({@code telegram:4711}, {@code
     *     terminal:root}), an agent's name, or the host component ({@code daemon}, {@code egress})
     */
    public record Actor(Kind kind, String id) {
        public Actor {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(id, "id");
            if (id.isEmpty()) {
                throw new IllegalArgumentException("audit actor id is empty");
            }
            text("actor id", id, MAX_SHORT_TEXT);
        }

        public static Actor user(String channelAndUserId) {
            return new Actor(Kind.USER, channelAndUserId);
        }

        public static Actor agent(AgentName agent) {
            return new Actor(Kind.AGENT, agent.value());
        }

        public static Actor system(String component) {
            return new Actor(Kind.SYSTEM, component);
        }

        public enum Kind {
            USER,
            AGENT,
            SYSTEM;

            private final String label = name().toLowerCase(Locale.ROOT);

            /** The lowercase name used in the canonical encoding, the store and the export. */
            public String label() {
                return label;
            }

            /** The kind whose {@link #label()} is {@code label}. */
            public static Kind ofLabel(String label) {
                return switch (label) {
                    case "user" -> USER;
                    case "agent" -> AGENT;
                    case "system" -> SYSTEM;
                    default -> throw new IllegalArgumentException("unknown audit actor kind '" + label + "'");
                };
            }
        }
    }

    private static Map<String, Object> details(Map<String, Object> given) {
        if (given == null || given.isEmpty()) {
            return Collections.emptySortedMap();
        }
        if (given.size() > MAX_DETAILS) {
            throw new IllegalArgumentException(
                    "audit details have " + given.size() + " entries; at most " + MAX_DETAILS + " are allowed");
        }
        TreeMap<String, Object> sorted = new TreeMap<>();
        for (Map.Entry<String, Object> e : given.entrySet()) {
            String key = e.getKey();
            if (key == null || !isDetailsKey(key)) {
                throw new IllegalArgumentException("audit details key '" + key
                        + "' must be 1-64 of a-z, 0-9, '_' and '.', starting with a letter");
            }
            Object value = e.getValue();
            switch (value) {
                case String s -> text("details value of '" + key + "'", s, MAX_TEXT);
                case Long l -> {}
                case Integer i -> value = i.longValue();
                case Boolean b -> {}
                case null -> throw new IllegalArgumentException("audit details value of '" + key + "' is null");
                default ->
                    throw new IllegalArgumentException("audit details value of '" + key + "' is a "
                            + value.getClass().getSimpleName() + "; use a String, Long, Integer or Boolean");
            }
            sorted.put(key, value);
        }
        return Collections.unmodifiableSortedMap(sorted);
    }

    // Hand-written rather than regular expressions: verify rebuilds every event of the log, and
    // these run a million times there.

    /** Lowercase words of a-z, 0-9 and '_', each starting with a letter, joined by single dots. */
    private static boolean isAction(String s) {
        boolean wordStart = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (wordStart) {
                if (c < 'a' || c > 'z') {
                    return false;
                }
                wordStart = false;
            } else if (c == '.') {
                wordStart = true;
            } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
                return false;
            }
        }
        return !wordStart;
    }

    /** 1-64 of a-z, 0-9, '_' and '.', starting with a letter. */
    private static boolean isDetailsKey(String s) {
        if (s.isEmpty() || s.length() > 64 || s.charAt(0) < 'a' || s.charAt(0) > 'z') {
            return false;
        }
        for (int i = 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    /** Checks an optional text field: null is fine, otherwise bounded and encodable as UTF-8. */
    static void text(String what, String value, int max) {
        if (value == null) {
            return;
        }
        if (value.length() > max) {
            throw new IllegalArgumentException(
                    "audit " + what + " is " + value.length() + " characters long; at most " + max + " are allowed");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c)
                    && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(
                        "audit " + what + " is not well-formed Unicode: unpaired surrogate at index " + i);
            }
        }
    }
}
