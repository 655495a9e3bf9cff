package dev.cordon.channel.slack;

import dev.cordon.core.Domain.NewInbound;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Slack's events as the host sees them, and the host's text as Slack shows it. A message's platform
 * id is its {@code ts} (unique within its channel, and the host's dedup key with the chat), with
 * {@code @THREAD_TS} appended inside a thread, so that a reply to it can find its thread again
 * after a restart without asking Slack.
 */
final class SlackEvents {
    /** Message subtypes that are a person writing; the rest (joins, edits, deletions, bots) are not. */
    private static final Set<String> SPOKEN = Set.of("thread_broadcast", "file_share");

    private SlackEvents() {}

    /**
     * The message in {@code event} (a {@code message} or {@code app_mention} event), or null when it
     * is not one a person wrote: another subtype, a bot's message (ours included), or no text.
     *
     * @param botUserId the bot's own user id ({@code auth.test}), to spot mentions and its own posts
     * @param files reads the files the message carries
     */
    static NewInbound inbound(JsonNode event, String botUserId, SlackFiles files) {
        String type = event.path("type").asString("");
        if (!type.equals("message") && !type.equals("app_mention")) {
            return null;
        }
        String subtype = event.path("subtype").asString(null);
        if (subtype != null && !SPOKEN.contains(subtype)) {
            return null;
        }
        String user = event.path("user").asString(null);
        String channel = event.path("channel").asString(null);
        String ts = event.path("ts").asString(null);
        if (event.hasNonNull("bot_id") || user == null || user.equals(botUserId) || channel == null || ts == null) {
            return null;
        }
        String text = event.path("text").asString("");
        boolean direct = event.path("channel_type").asString("").equals("im");
        String mention = "<@" + botUserId + ">";
        boolean mentioned = direct || type.equals("app_mention") || text.contains(mention);
        text = unescape(text.replace(mention, " ").strip().replaceAll("  +", " "));
        String thread = event.path("thread_ts").asString(null);
        boolean inThread = thread != null && !thread.equals(ts);
        return new NewInbound(
                Slack.NAME,
                channel,
                inThread ? ts + "@" + thread : ts,
                user,
                text,
                mentioned,
                inThread ? thread : null,
                null,
                files.of(event));
    }

    /** The thread a reply to the message {@code platformMessageId} goes in, or null for the channel. */
    static String threadOf(String platformMessageId) {
        if (platformMessageId == null) {
            return null;
        }
        int at = platformMessageId.indexOf('@');
        return at < 0 ? null : platformMessageId.substring(at + 1);
    }

    /**
     * {@code text} as Slack shows it literally: {@code &}, {@code <} and {@code >} escaped, as Slack's
     * formatting rules ask. This is what keeps an agent's reply from pinging {@code <!channel>},
     * {@code <!here>} or a user ({@code <@U…>}), or from disguising a link ({@code <url|label>}).
     */
    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** What a person typed: Slack sends {@code &}, {@code <} and {@code >} escaped. */
    static String unescape(String text) {
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    }
}
