package dev.cordon.protocol.control;

import java.util.Map;
import java.util.TreeMap;

/**
 * One approval as the daemon shows it: every stored field, the payload in full. Times are epoch
 * milliseconds; 0 means none.
 *
 * @param chat where the request came from, as {@code channel:platform-chat-id}
 * @param status pending, granted, denied or expired
 * @param scope once, session or always when granted; null otherwise
 * @param maxUses 0 = no limit
 * @param usable whether it is a grant that still decides matching requests
 */
public record ApprovalView(
        long id,
        String agent,
        long session,
        String chat,
        String kind,
        String subject,
        String summary,
        Map<String, String> payload,
        long requestedAt,
        long expiresAt,
        String status,
        String decidedBy,
        long decidedAt,
        String reason,
        String scope,
        int maxUses,
        int uses,
        long grantExpiresAt,
        boolean usable) {

    public ApprovalView {
        payload = payload == null ? Map.of() : new TreeMap<>(payload);
    }
}
