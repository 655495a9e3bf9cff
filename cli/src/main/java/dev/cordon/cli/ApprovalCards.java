package dev.cordon.cli;

import dev.cordon.protocol.control.ApprovalView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How an approval looks on a terminal: a card with every field and the whole payload, then the
 * commands that answer it.
 *
 * <p>Everything in a request came from a sandbox, which may be hostile: a summary or argument that
 * carries terminal escape sequences could repaint the screen, hide a line or fake an answer.
 * {@link #visible} shows every control character but the newline, and every invisible or
 * direction-changing format character, as a marker ({@code ⟨ESC⟩}, {@code ⟨U+202E⟩}); backslashes and
 * everything else are shown as they are, so what the approver reads is exactly what runs.
 */
final class ApprovalCards {
    private ApprovalCards() {}

    /** The full card: the header, every field, the payload in full, and how to answer if pending. */
    static List<String> card(ApprovalView a) {
        List<String> lines = new ArrayList<>();
        lines.add("┌ approval #" + a.id() + " · " + flat(a.agent()) + " asks: " + flat(a.kind()));
        lines.add("│ " + flat(a.summary()));
        field(lines, "status", status(a));
        field(lines, "agent", flat(a.agent()) + " (session " + a.session() + ", chat " + flat(a.chat()) + ")");
        field(lines, "requested", Instant.ofEpochMilli(a.requestedAt()).toString());
        field(
                lines,
                "expires",
                Instant.ofEpochMilli(a.expiresAt())
                        + ("pending".equals(a.status()) ? " (denied if nobody answers by then)" : ""));
        if (a.decidedAt() != 0) {
            field(lines, "decided", Instant.ofEpochMilli(a.decidedAt()) + " by " + flat(a.decidedBy()));
        }
        if (a.payload().isEmpty()) {
            field(lines, "payload", "(none)");
        } else {
            lines.add("│ payload (" + a.payload().size() + (a.payload().size() == 1 ? " field" : " fields")
                    + ", in full):");
            for (Map.Entry<String, String> e : a.payload().entrySet()) {
                String[] valueLines = visible(e.getValue()).split("\n", -1);
                // Continuation lines are indented under the key, so a value cannot pose as a field.
                lines.add("│   " + flat(e.getKey()) + ": " + valueLines[0]);
                for (int i = 1; i < valueLines.length; i++) {
                    lines.add("│   " + " ".repeat(flat(e.getKey()).length() + 2) + valueLines[i]);
                }
            }
        }
        field(lines, "subject", flat(a.subject()));
        if ("pending".equals(a.status())) {
            lines.add("│ approve: ./cordon approvals approve " + a.id() + " [--scope once|session|always] [--uses N]"
                    + " [--expires 1h]");
            lines.add("│ deny:    ./cordon approvals deny " + a.id() + " [--reason TEXT]");
        }
        lines.add("└");
        return lines;
    }

    /** One line for a listing. */
    static String line(ApprovalView a) {
        return String.format(
                "#%-5d %-9s %-12s %-16s %s",
                a.id(),
                a.status(),
                flat(a.agent()),
                flat(a.kind()),
                flat(a.summary()) + ("pending".equals(a.status()) ? "" : "  [" + status(a) + "]"));
    }

    static String status(ApprovalView a) {
        return switch (a.status()) {
            case "pending" -> "pending";
            case "granted" ->
                "granted by " + flat(a.decidedBy()) + ", scope " + a.scope() + ", "
                        + (a.maxUses() == 0 ? a.uses() + " uses" : a.uses() + " of " + a.maxUses() + " uses")
                        + (a.grantExpiresAt() == 0 ? "" : ", until " + Instant.ofEpochMilli(a.grantExpiresAt()))
                        + (a.usable() ? "" : " (no longer applies)")
                        + (a.reason() == null ? "" : ": " + flat(a.reason()));
            case "denied" -> "denied by " + flat(a.decidedBy()) + (a.reason() == null ? "" : ": " + flat(a.reason()));
            case "expired" -> a.reason() == null ? "expired" : flat(a.reason());
            default -> flat(a.status());
        };
    }

    private static void field(List<String> lines, String name, String value) {
        lines.add(String.format("│ %-9s %s", name, value));
    }

    /** {@link #visible}, and on one line: a newline is a marker too. */
    static String flat(String text) {
        return visible(text).replace("\n", "⟨U+000A⟩");
    }

    /**
     * {@code text} with nothing hidden: newlines kept, every other control character and every
     * format character (zero-width, bidi overrides) written as a {@code ⟨U+XXXX⟩} marker.
     */
    static String visible(String text) {
        if (text == null) {
            return "-";
        }
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if (cp == '\n') {
                out.append('\n');
            } else if (cp == 0x1b) {
                out.append("⟨ESC⟩");
            } else if (Character.isISOControl(cp)
                    || Character.getType(cp) == Character.FORMAT
                    || Character.getType(cp) == Character.LINE_SEPARATOR
                    || Character.getType(cp) == Character.PARAGRAPH_SEPARATOR) {
                out.append(String.format("⟨U+%04X⟩", cp));
            } else {
                out.appendCodePoint(cp);
            }
        });
        return out.toString();
    }
}
