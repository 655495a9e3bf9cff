package dev.cordon.core.channel;

import tools.jackson.databind.json.JsonMapper;

/**
 * The daemon's answer to one hook request. A 2xx tells the platform the event is taken care of
 * (stored, or deliberately ignored), so it must come only after the host decided on it
 * (invariant 6); a 4xx says what is wrong with the request, a 5xx asks the platform to try again.
 *
 * @param contentType e.g. {@code application/json}
 */
public record HookResponse(int status, String contentType, String body) {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** {@code {"key": value}} with {@code status}. */
    public static HookResponse json(int status, String key, Object value) {
        return new HookResponse(status, "application/json", JSON.writeValueAsString(java.util.Map.of(key, value)));
    }

    /** A refusal: {@code {"error": why}}; {@code why} says what is wrong and what to do. */
    public static HookResponse error(int status, String why) {
        return json(status, "error", why);
    }

    /** Plain text, as a verification handshake echoes a challenge. */
    public static HookResponse text(int status, String text) {
        return new HookResponse(status, "text/plain; charset=utf-8", text);
    }
}
