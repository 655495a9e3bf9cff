package dev.cordon.core.channel;

import java.time.Duration;

/** What became of a delivery attempt. */
public sealed interface DeliveryResult {
    /** The platform confirmed the message. */
    record Delivered(String platformMessageId) implements DeliveryResult {}

    /** Nobody can receive it now (a terminal with nobody attached); keep it for later. */
    record NoRecipient() implements DeliveryResult {}

    /** A transient failure: try again after {@code after}. */
    record RetryLater(Duration after, String reason) implements DeliveryResult {}

    /** A permanent failure; the message will not be retried. */
    record Failed(String reason) implements DeliveryResult {}

    /**
     * The platform takes messages here, but not the file this one carries (a type or size it
     * refuses), and nothing was shown: the host sends the message again with the text a channel
     * without uploads gets in the file's place (a link, or where the file is). Returned for a message
     * without a file, it counts as {@link Failed}.
     */
    record FileRefused(String reason) implements DeliveryResult {}
}
