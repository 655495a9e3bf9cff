package dev.cordon.server;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** JSON for the HTTP API: the project's Jackson 3, not Javalin's mapper. Thread-safe. */
final class WebJson {
    static final JsonMapper MAPPER = JsonMapper.builder().build();

    private WebJson() {}

    static String write(Object value) {
        return MAPPER.writeValueAsString(value);
    }

    /** Parses a request body that must be a JSON object; {@link WebException} 400 otherwise. */
    static JsonNode object(String body) {
        try {
            JsonNode node = MAPPER.readTree(body == null || body.isBlank() ? "{}" : body);
            if (!node.isObject()) {
                throw new WebException(400, "the request body must be a JSON object");
            }
            return node;
        } catch (JacksonException e) {
            throw new WebException(400, "the request body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** A text field of a request body, or {@code fallback}; 400 if present but not a string. */
    static String text(JsonNode body, String field, String fallback) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isString()) {
            throw new WebException(400, "field '" + field + "' must be a string");
        }
        return n.asString();
    }

    /** One audit entry as the API shows it. */
    static Map<String, Object> entry(AuditEntry entry) {
        AuditEvent e = entry.event();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seq", entry.seq());
        m.put("time", e.time().toString());
        m.put("actor", e.actor().kind().label() + ":" + e.actor().id());
        m.put("agent", e.agent() == null ? null : e.agent().value());
        m.put("session", e.session() == null ? null : e.session().value());
        m.put("action", e.action());
        m.put("decision", e.decision().label());
        m.put("rule", e.rule());
        m.put("reason", e.reason());
        m.put("details", e.details());
        m.put("hash", entry.hash());
        return m;
    }
}
