package dev.cordon.core.channel;

import java.time.Instant;
import java.util.List;

/**
 * A message for a channel to deliver.
 *
 * @param deliveryId opaque id the adapter uses to correlate the platform's confirmation
 * @param inReplyTo opaque id of the inbound message this answers, 0 if none
 * @param replyToPlatformMessageId the platform's id of the message this answers, or null
 * @param idempotencyKey stable across redeliveries: platforms that support it must not show the
 *     message twice
 * @param failed the text reports a failed turn
 * @param options choices the reader picks one of: buttons where the platform has them; the host
 *     turns them into numbered text for a channel without buttons ({@link Capabilities#buttons})
 * @param file a file to upload with the text as its caption, or null; only a channel with {@link
 *     Capabilities#files} is handed one (the host sends others a link instead)
 * @param storedAt when the host stored the message, or null (a host notice): no attempt to deliver
 *     it, in this process or an earlier one, began before. A platform without idempotency keys
 *     looks for the message among those it shows since then before sending it again (GitHub)
 */
public record OutgoingMessage(
        long deliveryId,
        String platformChatId,
        long inReplyTo,
        String replyToPlatformMessageId,
        String text,
        boolean failed,
        String idempotencyKey,
        List<String> options,
        Attachment file,
        Instant storedAt) {
    public OutgoingMessage {
        options = List.copyOf(options);
    }

    /** A message whose storing time is not known. */
    public OutgoingMessage(
            long deliveryId,
            String platformChatId,
            long inReplyTo,
            String replyToPlatformMessageId,
            String text,
            boolean failed,
            String idempotencyKey,
            List<String> options,
            Attachment file) {
        this(
                deliveryId,
                platformChatId,
                inReplyTo,
                replyToPlatformMessageId,
                text,
                failed,
                idempotencyKey,
                options,
                file,
                null);
    }

    /** A message with options, without a file. */
    public OutgoingMessage(
            long deliveryId,
            String platformChatId,
            long inReplyTo,
            String replyToPlatformMessageId,
            String text,
            boolean failed,
            String idempotencyKey,
            List<String> options) {
        this(
                deliveryId,
                platformChatId,
                inReplyTo,
                replyToPlatformMessageId,
                text,
                failed,
                idempotencyKey,
                options,
                null);
    }

    /** A message without options. */
    public OutgoingMessage(
            long deliveryId,
            String platformChatId,
            long inReplyTo,
            String replyToPlatformMessageId,
            String text,
            boolean failed,
            String idempotencyKey) {
        this(deliveryId, platformChatId, inReplyTo, replyToPlatformMessageId, text, failed, idempotencyKey, List.of());
    }

    /**
     * This message with its options written into the text as a numbered list and no options left:
     * what a channel without buttons shows, and what an adapter sends when its platform cannot show
     * these options as buttons (too many, or a label too long). The reader answers with a number or
     * the option's text, both of which the host understands.
     */
    public OutgoingMessage numbered() {
        if (options.isEmpty()) {
            return this;
        }
        StringBuilder text = new StringBuilder(this.text);
        for (int i = 0; i < options.size(); i++) {
            text.append(i == 0 ? "\n\n" : "\n").append(i + 1).append(". ").append(options.get(i));
        }
        text.append("\n(Answer with a number.)");
        return withText(text.toString(), idempotencyKey, List.of());
    }

    OutgoingMessage withText(String newText, String newKey, List<String> newOptions) {
        return new OutgoingMessage(
                deliveryId,
                platformChatId,
                inReplyTo,
                replyToPlatformMessageId,
                newText,
                failed,
                newKey,
                newOptions,
                file,
                storedAt);
    }

    /** This message carrying {@code newFile} (null: none) with {@code newText}. */
    OutgoingMessage withFile(String newText, Attachment newFile) {
        return new OutgoingMessage(
                deliveryId,
                platformChatId,
                inReplyTo,
                replyToPlatformMessageId,
                newText,
                failed,
                idempotencyKey,
                options,
                newFile,
                storedAt);
    }

    /** This message, stored by the host at {@code at}. */
    public OutgoingMessage withStoredAt(Instant at) {
        return new OutgoingMessage(
                deliveryId,
                platformChatId,
                inReplyTo,
                replyToPlatformMessageId,
                text,
                failed,
                idempotencyKey,
                options,
                file,
                at);
    }
}
