package dev.cordon.core.access;

import java.time.Instant;

/** A message held for a pending {@link SenderRequest}, as the channel reported it. */
public record HeldMessage(
        long id, SenderRequest.Id request, String platformMessageId, String text, Instant receivedAt) {}
