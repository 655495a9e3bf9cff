package dev.cordon.core.channel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Fits a reply to what its channel can show ({@link Capabilities}) and delivers it: options become
 * a numbered list where there are no buttons, and text longer than the channel's limit goes as
 * several messages, split at a line break or a space where one is near. Thread-safe.
 *
 * <p>A split reply is delivered part by part. When a part fails for now ({@link
 * DeliveryResult.RetryLater}), the parts already confirmed are remembered, so the retry sends only
 * the rest: nobody sees a part twice while the daemon runs.
 */
final class Fitting {
    /** Platform ids of parts confirmed while a later part of the same reply is still pending. */
    private final Map<String, String> confirmed = new ConcurrentHashMap<>();

    DeliveryResult deliver(ChannelAdapter adapter, OutgoingMessage message) {
        List<OutgoingMessage> parts = parts(message, adapter.capabilities());
        if (parts.size() == 1) {
            return adapter.deliver(parts.getFirst());
        }
        List<String> ids = new ArrayList<>();
        for (OutgoingMessage part : parts) {
            String id = confirmed.get(part.idempotencyKey());
            if (id == null) {
                DeliveryResult result = adapter.deliver(part);
                switch (result) {
                    case DeliveryResult.Delivered d -> {
                        id = d.platformMessageId();
                        confirmed.put(part.idempotencyKey(), id);
                    }
                    case DeliveryResult.RetryLater r -> {
                        return r;
                    }
                    case DeliveryResult.NoRecipient n -> {
                        return n;
                    }
                    // Only the first part carries a file: no part was shown yet.
                    case DeliveryResult.FileRefused r -> {
                        return r;
                    }
                    case DeliveryResult.Failed f -> {
                        parts.forEach(p -> confirmed.remove(p.idempotencyKey()));
                        return new DeliveryResult.Failed(
                                "part " + (ids.size() + 1) + " of " + parts.size() + ": " + f.reason());
                    }
                }
            }
            ids.add(id);
        }
        parts.forEach(p -> confirmed.remove(p.idempotencyKey()));
        return new DeliveryResult.Delivered(String.join(",", ids));
    }

    /**
     * The messages that carry {@code message} on a channel with {@code capabilities}: one, unless
     * the text is too long. Parts of a split message get idempotency keys {@code KEY#i/n}.
     */
    static List<OutgoingMessage> parts(OutgoingMessage message, Capabilities capabilities) {
        OutgoingMessage fitted = capabilities.buttons() ? message : message.numbered();
        String text = fitted.text();
        List<String> options = fitted.options();
        List<String> pieces = split(text, capabilities.maxMessageLength());
        if (pieces.size() == 1) {
            return List.of(message.withText(text, message.idempotencyKey(), options));
        }
        List<OutgoingMessage> parts = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i++) {
            boolean last = i == pieces.size() - 1;
            OutgoingMessage part = message.withText(
                    pieces.get(i),
                    message.idempotencyKey() + "#" + (i + 1) + "/" + pieces.size(),
                    last ? options : List.of());
            // A file goes once, with the first part.
            parts.add(i == 0 ? part : part.withFile(part.text(), null));
        }
        return parts;
    }

    /**
     * {@code text} in pieces of at most {@code max} characters (0: no limit), each ending at the
     * last line break, else the last space, in its second half; else cut at {@code max} (never
     * inside a surrogate pair). The break itself is dropped.
     */
    static List<String> split(String text, int max) {
        if (max == 0 || text.length() <= max) {
            return List.of(text);
        }
        List<String> pieces = new ArrayList<>();
        String rest = text;
        while (rest.length() > max) {
            int cut = rest.lastIndexOf('\n', max);
            if (cut < max / 2) {
                cut = rest.lastIndexOf(' ', max);
            }
            int skip = 1;
            if (cut < max / 2) {
                cut = Character.isHighSurrogate(rest.charAt(max - 1)) ? max - 1 : max;
                skip = 0;
            }
            pieces.add(rest.substring(0, cut));
            rest = rest.substring(cut + skip);
        }
        if (!rest.isEmpty()) {
            pieces.add(rest);
        }
        return pieces;
    }
}
