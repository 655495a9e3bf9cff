package dev.cordon.core.message;

import dev.cordon.core.Domain.Inbound;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How far a message has travelled between agents: a person's message is 0, a message one agent
 * sends another is one more than what its turn answered, and a reply is one more than the message it
 * answers. The count lives in the platform message id the host gives every message it hands an agent
 * ({@code a2a:o<outbound>:h<hops>}), so it survives restarts with the message. A message whose id a
 * person chose may claim any count: that only makes its own chain shorter.
 */
public final class Hops {
    /** The most hops a message may make: a loop of agents answering each other stops here. */
    public static final int MAX = 8;

    private static final Pattern ID = Pattern.compile("a2a:o(\\d{1,18}):h(\\d{1,4})");
    private static final Pattern KEY_HOPS = Pattern.compile(":h(\\d{1,4})$");

    private Hops() {}

    /** The platform message id of what outbound {@code outbound} becomes in its receiver's session. */
    static String messageId(long outbound, int hops) {
        return "a2a:o" + outbound + ":h" + hops;
    }

    /** The hops in a platform message id the host made, or 0 for any other id (a person's). */
    static int of(String platformMessageId) {
        Matcher m = platformMessageId == null ? null : ID.matcher(platformMessageId);
        return m != null && m.matches() ? Integer.parseInt(m.group(2)) : 0;
    }

    /** The outbound a host-made platform message id came from, if it is one. */
    static OptionalLong outbound(String platformMessageId) {
        Matcher m = platformMessageId == null ? null : ID.matcher(platformMessageId);
        return m != null && m.matches() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }

    /** The hops of a turn: the most of the messages it answers. */
    public static int of(List<Inbound> batch) {
        return batch.stream().mapToInt(m -> of(m.platformMessageId())).max().orElse(0);
    }

    /** An idempotency key that carries {@code hops}, for a message sent with {@code send_message}. */
    static String key(String base, int hops) {
        return base + ":h" + hops;
    }

    /** The hops an idempotency key made by {@link #key} carries, if it is one. */
    static OptionalLong ofKey(String idempotencyKey) {
        Matcher m = KEY_HOPS.matcher(idempotencyKey);
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }
}
