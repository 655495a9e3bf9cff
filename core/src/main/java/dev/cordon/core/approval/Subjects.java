package dev.cordon.core.approval;

import java.util.Map;
import java.util.TreeMap;

/**
 * What a grant is about. The subject of a request is its whole payload in canonical form: a JSON
 * object with keys sorted by UTF-16 code unit, no whitespace, strings escaped minimally and the same
 * way every time. For a bash tool call with payload {@code {command: "ls -la"}} it is {@code
 * {"command":"ls -la"}}: the exact command, nothing looser. Matching on the whole payload means a
 * grant never covers a request that differs in any argument the approver saw; and because the host
 * derives it from the payload itself, a requester cannot send a harmless subject beside a harmful
 * payload.
 */
public final class Subjects {
    private Subjects() {}

    /** The canonical subject of {@code payload}. Pure; thread-safe. */
    public static String of(Map<String, String> payload) {
        StringBuilder out = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, String> e : new TreeMap<>(payload).entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            quote(out, e.getKey());
            out.append(':');
            quote(out, e.getValue());
        }
        return out.append('}').toString();
    }

    private static void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
