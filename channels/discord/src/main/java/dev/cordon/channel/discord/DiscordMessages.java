package dev.cordon.channel.discord;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.InboundFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Discord's messages as the host sees them. A chat is a channel id: a guild text channel, or a
 * direct-message channel. A thread is a channel of its own on Discord; the host sees it as a thread
 * of its parent channel, so one wiring covers a channel and its threads: a message's platform id is
 * then {@code MESSAGE_ID@THREAD_ID}, which is how a reply to it finds its thread again after a
 * restart without asking Discord.
 */
final class DiscordMessages {
    /** Message types a person writes: DEFAULT and REPLY; the rest are joins, pins, boosts, thread notices. */
    private static final Set<Integer> SPOKEN = Set.of(0, 19);
    /** Channel types of threads: announcement, public and private threads. */
    private static final Set<Integer> THREADS = Set.of(10, 11, 12);

    /** Where a channel's messages belong: {@code chat}, and {@code thread} when the channel is a thread of it. */
    record Place(String chat, String thread) {}

    /** Tells where a guild channel's messages belong (a {@code GET /channels/{id}}, cached). */
    @FunctionalInterface
    interface Places {
        /** @throws IOException if Discord could not tell now: the event is handled again later */
        Place of(String channelId) throws IOException;
    }

    private DiscordMessages() {}

    /** The place of a channel of {@code type} with {@code parentId}: a thread belongs to its parent. */
    static Place place(String channelId, int type, String parentId) {
        return THREADS.contains(type) && parentId != null ? new Place(parentId, channelId) : new Place(channelId, null);
    }

    /**
     * The message in a {@code MESSAGE_CREATE} event's data, or null when it is not one a person
     * wrote to be read: another type, a bot's or a webhook's message (the bot's own included), or
     * neither text nor attachments.
     *
     * @param botId the bot's user id (from READY), to spot mentions and its own posts
     * @param attachments reads the files the message carries
     * @throws IOException if the place of a guild channel could not be learned now
     */
    static NewInbound inbound(JsonNode d, String botId, Places places, DiscordAttachments attachments)
            throws IOException {
        JsonNode author = d.path("author");
        String authorId = author.path("id").asString(null);
        String id = d.path("id").asString(null);
        String channel = d.path("channel_id").asString(null);
        if (!SPOKEN.contains(d.path("type").asInt(-1))
                || author.path("bot").asBoolean(false)
                || d.hasNonNull("webhook_id")
                || authorId == null
                || authorId.equals(botId)
                || id == null
                || channel == null) {
            return null;
        }
        String content = d.path("content").asString("");
        boolean direct = !d.hasNonNull("guild_id");
        boolean mentioned = direct
                || content.contains("<@" + botId + ">")
                || content.contains("<@!" + botId + ">")
                || mentions(d.path("mentions"), botId)
                || botId.equals(
                        d.path("referenced_message").path("author").path("id").asString(null));
        String text = content.replace("<@" + botId + ">", " ")
                .replace("<@!" + botId + ">", " ")
                .strip()
                .replaceAll("  +", " ");
        List<InboundFile> files = attachments.of(d.path("attachments"));
        if (text.isEmpty() && files.isEmpty()) {
            return null;
        }
        Place place = direct ? new Place(channel, null) : places.of(channel);
        String replyTo = d.path("message_reference").path("message_id").asString(null);
        return new NewInbound(
                Discord.NAME,
                place.chat(),
                place.thread() == null ? id : id + "@" + place.thread(),
                authorId,
                text,
                mentioned,
                place.thread(),
                replyTo,
                files);
    }

    private static boolean mentions(JsonNode mentions, String botId) {
        for (JsonNode m : mentions) {
            if (botId.equals(m.path("id").asString(null))) {
                return true;
            }
        }
        return false;
    }

    /** Whether snowflake {@code a} is later than {@code b} (ids grow with time). */
    static boolean newer(String a, String b) {
        return a.length() != b.length() ? a.length() > b.length() : a.compareTo(b) > 0;
    }

    /** The message id in a platform message id ({@code ID} or {@code ID@THREAD}). */
    static String messageOf(String platformMessageId) {
        int at = platformMessageId.indexOf('@');
        return at < 0 ? platformMessageId : platformMessageId.substring(0, at);
    }

    /** The thread a reply to {@code platformMessageId} goes in, or null for the chat's channel itself. */
    static String threadOf(String platformMessageId) {
        if (platformMessageId == null) {
            return null;
        }
        int at = platformMessageId.indexOf('@');
        return at < 0 ? null : platformMessageId.substring(at + 1);
    }

    /**
     * The {@code nonce} for a message with {@code idempotencyKey}: Discord takes at most 25
     * characters, so it is a digest of the key (SHA-256, base64url, cut to 25). With {@code
     * enforce_nonce} Discord answers a repeat within a few minutes with the message already created.
     */
    static String nonce(String idempotencyKey) {
        try {
            byte[] digest =
                    MessageDigest.getInstance("SHA-256").digest(idempotencyKey.getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder()
                    .withoutPadding()
                    .encodeToString(digest)
                    .substring(0, 25);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
