package dev.cordon.core.channel;

/**
 * A message for a channel to deliver.
 *
 * @param deliveryId opaque id the adapter uses to correlate the platform's confirmation
 * @param inReplyTo opaque id of the inbound message this answers, 0 if none
 * @param replyToPlatformMessageId the platform's id of the message this answers, or null
 * @param idempotencyKey stable across redeliveries: platforms that support it must not show the
 *     message twice
 * @param failed the text reports a failed turn
 */
public record OutgoingMessage(
        long deliveryId,
        String platformChatId,
        long inReplyTo,
        String replyToPlatformMessageId,
        String text,
        boolean failed,
        String idempotencyKey) {}
