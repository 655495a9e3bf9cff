package dev.cordon.core.audit;

import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * JSON forms of the audit log: the {@code details} map as stores keep it, and the one-line export
 * for SIEMs ({@code cordon audit export --format jsonl}) with OCSF-style field names. The mapping
 * is documented in {@code docs/audit.md}. Neither form is hashed: the chain is computed over the
 * canonical byte encoding, so a store may reformat the JSON freely. Thread-safe.
 */
public final class AuditJson {
    /** What {@code metadata.log_name} says, so a SIEM can tell these lines from others. */
    static final String LOG_NAME = "cordon-audit";

    private static final JsonMapper MAPPER = JsonMapper.builder()
            // {"a":1,"a":2} is not a map; reading it as one would hide an edit.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private AuditJson() {}

    /** The details map as a compact JSON object, keys in order. */
    public static String details(Map<String, Object> details) {
        if (details.isEmpty()) {
            return "{}";
        }
        // Written by hand: this runs for every append, and a Jackson generator per call costs more
        // than the rest of the append's CPU work. The values are few and simple (strings, longs,
        // booleans); parseDetails reads the result back with Jackson.
        StringBuilder json = new StringBuilder(32 + 16 * details.size()).append('{');
        for (Map.Entry<String, Object> d : details.entrySet()) {
            if (json.length() > 1) {
                json.append(',');
            }
            quote(json, d.getKey());
            json.append(':');
            switch (d.getValue()) {
                case String s -> quote(json, s);
                case Long l -> json.append(l.longValue());
                case Integer i -> json.append(i.intValue());
                case Boolean b -> json.append(b.booleanValue());
                default ->
                    throw new IllegalArgumentException("audit details value of '" + d.getKey() + "' is a "
                            + d.getValue().getClass().getSimpleName());
            }
        }
        return json.append('}').toString();
    }

    /** Appends {@code s} as a JSON string: quotes, backslashes and control characters escaped. */
    private static void quote(StringBuilder json, String s) {
        json.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\n' -> json.append("\\n");
                case '\r' -> json.append("\\r");
                case '\t' -> json.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        json.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        json.append(c);
                    }
                }
            }
        }
        json.append('"');
    }

    /**
     * Reads what {@link #details(Map)} wrote: an object whose values are strings, whole numbers
     * (as {@code Long}) or booleans.
     *
     * @throws IllegalArgumentException if {@code json} is not such an object
     */
    public static Map<String, Object> parseDetails(String json) {
        if ("{}".equals(json)) {
            return Collections.emptySortedMap(); // the common case, without a parser
        }
        // A streaming parse rather than a tree: verify reads every entry of the log.
        Map<String, Object> details = new TreeMap<>();
        try (JsonParser p = MAPPER.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("audit details are not a JSON object: " + json);
            }
            String key;
            while ((key = p.nextName()) != null) {
                JsonToken value = p.nextToken();
                switch (value) {
                    case VALUE_STRING -> details.put(key, p.getString());
                    case VALUE_TRUE -> details.put(key, Boolean.TRUE);
                    case VALUE_FALSE -> details.put(key, Boolean.FALSE);
                    case VALUE_NUMBER_INT -> {
                        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                            throw new IllegalArgumentException(
                                    "audit details value of '" + key + "' is too large for a long");
                        }
                        details.put(key, p.getLongValue());
                    }
                    default ->
                        throw new IllegalArgumentException("audit details value of '" + key
                                + "' is neither a string, a whole number nor a boolean: " + value);
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw new IllegalArgumentException("audit details have trailing content: " + json);
            }
        } catch (JacksonException e) {
            throw new IllegalArgumentException("audit details are not valid JSON: " + e.getOriginalMessage(), e);
        }
        return details;
    }

    /** One export line (without the newline): the entry with OCSF-style field names. */
    public static String jsonl(AuditEntry entry) {
        AuditEvent e = entry.event();
        ObjectNode line = MAPPER.createObjectNode();
        line.put("time", e.time().toEpochMilli());
        line.put("activity_name", e.action());
        switch (e.decision()) {
            case ALLOW -> {
                line.put("action", "Allowed");
                line.put("action_id", 1);
            }
            case DENY -> {
                line.put("action", "Denied");
                line.put("action_id", 2);
            }
            case INFO -> {}
        }
        ObjectNode user = line.putObject("actor").putObject("user");
        user.put("uid", e.actor().id());
        user.put("type", e.actor().kind().label());
        if (e.session() != null) {
            line.putObject("session").put("uid", Long.toString(e.session().value()));
        }
        if (e.rule() != null) {
            line.putObject("policy").put("name", e.rule());
        }
        if (e.reason() != null) {
            line.put("message", e.reason());
        }
        ObjectNode metadata = line.putObject("metadata");
        metadata.put("uid", entry.hash());
        metadata.put("sequence", entry.seq());
        metadata.put("log_name", LOG_NAME);
        metadata.putObject("product").put("name", "Cordon");
        ObjectNode unmapped = line.putObject("unmapped");
        if (e.agent() != null) {
            unmapped.put("agent", e.agent().value());
        }
        unmapped.set("details", detailsNode(e.details()));
        unmapped.put("decision", e.decision().label());
        unmapped.put("prev_hash", entry.prevHash());
        return MAPPER.writeValueAsString(line);
    }

    private static ObjectNode detailsNode(Map<String, Object> details) {
        ObjectNode node = MAPPER.createObjectNode();
        for (Map.Entry<String, Object> d : details.entrySet()) {
            switch (d.getValue()) {
                case String s -> node.put(d.getKey(), s);
                case Long l -> node.put(d.getKey(), l);
                case Integer i -> node.put(d.getKey(), i.longValue());
                case Boolean b -> node.put(d.getKey(), b);
                default ->
                    throw new IllegalArgumentException("audit details value of '" + d.getKey() + "' is a "
                            + d.getValue().getClass().getSimpleName());
            }
        }
        return node;
    }
}
