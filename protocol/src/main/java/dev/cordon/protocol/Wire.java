package dev.cordon.protocol;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** The one JSON mapper both sides of the wire use. Thread-safe. */
public final class Wire {
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private Wire() {}

    public static JsonMapper mapper() {
        return MAPPER;
    }

    public static byte[] encode(Object message) {
        return MAPPER.writeValueAsBytes(message);
    }

    /** Decodes a frame, turning any parse or type error into a {@link ProtocolException}. */
    public static <T> T decode(byte[] payload, Class<T> type) {
        try {
            T value = MAPPER.readValue(payload, type);
            if (value == null) {
                throw new ProtocolException("empty " + type.getSimpleName() + " frame");
            }
            return value;
        } catch (JacksonException e) {
            throw new ProtocolException("malformed " + type.getSimpleName() + " frame: " + e.getOriginalMessage(), e);
        }
    }
}
