package dev.cordon.channel.matrix;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.InboundFile;
import java.util.Locale;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * Reads one timeline event as an inbound message for the host. Chats are room ids, senders user
 * ids, message ids event ids (unique, the host's dedup key).
 *
 * <p>Only {@code m.room.message} events with {@code m.text} (or {@code m.emote}), or with a file
 * ({@link MatrixMedia}: its caption is the text), from someone else count: notices (what bots
 * send), edits and reactions do not start a turn. A message is addressed to the bot in a direct
 * room (two members), when {@code m.mentions} names it, or when its body or formatted body names
 * its user id; a leading {@code name:} addressing the bot is removed, and so is the quoted fallback
 * of a reply. In a thread ({@code rel_type: m.thread}) the thread id is the root event's id.
 */
final class MatrixEvent {
    private MatrixEvent() {}

    /**
     * @param me the bot's user id
     * @param direct whether the room is a direct chat (two members)
     * @param media reads the file of a media message
     */
    static Optional<NewInbound> read(String roomId, JsonNode event, String me, boolean direct, MatrixMedia media) {
        JsonNode content = event.path("content");
        String msgtype = content.path("msgtype").asString("");
        String sender = event.path("sender").asString("");
        JsonNode relates = content.path("m.relates_to");
        Optional<InboundFile> file = media.of(content);
        if (!"m.room.message".equals(event.path("type").asString())
                || !(msgtype.equals("m.text") || msgtype.equals("m.emote") || file.isPresent())
                || sender.isEmpty()
                || sender.equals(me)
                || !event.has("event_id")
                || "m.replace".equals(relates.path("rel_type").asString(""))) {
            return Optional.empty();
        }
        String body = file.isPresent()
                ? MatrixMedia.caption(content)
                : content.path("body").asString("");
        JsonNode inReplyTo = relates.path("m.in_reply_to").path("event_id");
        boolean thread = "m.thread".equals(relates.path("rel_type").asString(""));
        // In a thread, m.in_reply_to with is_falling_back only points at the thread's last event.
        String replyTo = inReplyTo.isString()
                        && !(thread && relates.path("is_falling_back").asBoolean(false))
                ? inReplyTo.asString()
                : null;
        if (inReplyTo.isString()) {
            body = withoutReplyFallback(body);
        }
        boolean mentioned = direct || mentions(content, me);
        String localpart = me.substring(1, me.contains(":") ? me.indexOf(':') : me.length());
        String lower = body.toLowerCase(Locale.ROOT);
        for (String name : new String[] {me.toLowerCase(Locale.ROOT), localpart.toLowerCase(Locale.ROOT)}) {
            if (lower.startsWith(name + ":") || lower.startsWith(name + ",")) {
                mentioned = true;
                body = body.substring(name.length() + 1).strip();
                break;
            }
        }
        return Optional.of(new NewInbound(
                Matrix.NAME,
                roomId,
                event.get("event_id").asString(),
                sender,
                body,
                mentioned,
                thread ? relates.path("event_id").asString(null) : null,
                replyTo,
                file.stream().toList()));
    }

    private static boolean mentions(JsonNode content, String me) {
        for (JsonNode id : content.path("m.mentions").path("user_ids")) {
            if (me.equals(id.asString(""))) {
                return true;
            }
        }
        String formatted = content.path("formatted_body").asString("");
        return content.path("body").asString("").contains(me)
                || formatted.contains("https://matrix.to/#/" + me)
                || formatted.contains("https://matrix.to/#/" + ClientApi.segment(me));
    }

    /** The body without the {@code > <@who> what they said} lines a reply quotes before a blank line. */
    static String withoutReplyFallback(String body) {
        if (!body.startsWith("> ")) {
            return body;
        }
        int end = body.indexOf("\n\n");
        if (end < 0) {
            return body;
        }
        for (String line : body.substring(0, end).split("\n", -1)) {
            if (!line.startsWith(">")) {
                return body;
            }
        }
        return body.substring(end + 2);
    }
}
