package dev.cordon.core.dlp;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The data-loss guard's eyes: finds the literal values of the host's secrets and common credential
 * formats in text leaving the host (a request the egress proxy can read, a chat message). It says
 * what kind of secret it saw and where, never the value. Thread-safe.
 */
public final class SecretScanner {
    /**
     * One thing found.
     *
     * @param kind in words, for the denial and the audit entry: {@code the vault secret GITHUB_TOKEN},
     *     {@code an AWS access key id}
     */
    public record Finding(String kind, int start, int end) {}

    private record Format(String kind, Pattern pattern) {}

    /** Shorter vault values are not looked for: they would match ordinary text. */
    static final int MIN_LITERAL = 8;

    private static final List<Format> FORMATS = List.of(
            new Format("an Anthropic API key", Pattern.compile("sk-ant-[A-Za-z0-9_-]{20,}")),
            new Format("an OpenAI API key", Pattern.compile("sk-(?:proj-)?[A-Za-z0-9_-]{32,}")),
            new Format("an AWS access key id", Pattern.compile("\\b(?:AKIA|ASIA)[0-9A-Z]{16}\\b")),
            new Format(
                    "a GitHub token",
                    Pattern.compile("\\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
            new Format("a Slack token", Pattern.compile("\\bxox[abprs]-[A-Za-z0-9-]{10,}")),
            new Format("a Google API key", Pattern.compile("\\bAIza[0-9A-Za-z_-]{35}")),
            new Format("a private key", Pattern.compile("-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
            new Format(
                    "a JSON Web Token",
                    Pattern.compile("\\beyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}")));

    private final Supplier<Map<String, byte[]>> vault;

    /** @param vault the host's secret values by name, asked at each scan (it may change) */
    public SecretScanner(Supplier<Map<String, byte[]>> vault) {
        this.vault = vault;
    }

    /**
     * A scanner over the vault's values as they are now, read once: for scanning several pieces of
     * one message (headers, URL, body) without reading and decrypting the vault for each.
     */
    public SecretScanner snapshot() {
        Map<String, byte[]> values = Map.copyOf(vault.get());
        return new SecretScanner(() -> values);
    }

    /**
     * How much of the end of {@code text} a stream must hold back because more text could turn it
     * into a finding: the last run of non-space characters (the credential formats have no spaces;
     * at most {@link #MAX_RUN}), an unfinished private-key header, and the longest end that begins a
     * vault value. What comes before can be redacted and shown now: no finding can reach back
     * into it.
     */
    public int holdBack(String text) {
        int from = text.length();
        int run = from;
        while (run > 0 && !Character.isWhitespace(text.charAt(run - 1)) && from - run < MAX_RUN) {
            run--;
        }
        from = run;
        int header = text.lastIndexOf("-----BEGIN");
        if (header >= 0 && header < from && text.indexOf("KEY-----", header) < 0 && text.length() - header < 128) {
            from = header;
        }
        for (byte[] value : vault.get().values()) {
            for (String form : forms(value)) {
                if (form.length() < MIN_LITERAL) {
                    continue;
                }
                for (int k = Math.min(form.length() - 1, text.length()); k > text.length() - from; k--) {
                    if (text.regionMatches(text.length() - k, form, 0, k)) {
                        from = text.length() - k;
                        break;
                    }
                }
            }
        }
        return text.length() - from;
    }

    /** The longest run of non-space characters {@link #holdBack} keeps back. */
    static final int MAX_RUN = 4096;

    /** Findings in {@code text}, in order of position. */
    public List<Finding> scan(String text) {
        List<Finding> found = new ArrayList<>();
        vault.get().forEach((name, value) -> {
            for (String form : forms(value)) {
                if (form.length() < MIN_LITERAL) {
                    continue;
                }
                for (int at = text.indexOf(form); at >= 0; at = text.indexOf(form, at + 1)) {
                    found.add(new Finding("the vault secret " + name, at, at + form.length()));
                }
            }
        });
        for (Format f : FORMATS) {
            Matcher m = f.pattern().matcher(text);
            while (m.find()) {
                int s = m.start();
                int e = m.end();
                if (found.stream().noneMatch(x -> x.start() < e && s < x.end())) {
                    found.add(new Finding(f.kind(), s, e));
                }
            }
        }
        found.sort(Comparator.comparingInt(Finding::start));
        return found;
    }

    /** {@code text} with every finding replaced by {@code [redacted: KIND]}. */
    public String redact(String text) {
        List<Finding> found = scan(text);
        if (found.isEmpty()) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int at = 0;
        for (Finding f : found) {
            if (f.start() < at) {
                continue; // overlaps one already redacted
            }
            out.append(text, at, f.start())
                    .append("[redacted: ")
                    .append(f.kind())
                    .append(']');
            at = f.end();
        }
        return out.append(text.substring(at)).toString();
    }

    /**
     * The value as text in the two ways bytes become text here: UTF-8 (chat messages) and
     * ISO-8859-1 (HTTP, one char per byte); they differ only for non-ASCII values.
     */
    private static List<String> forms(byte[] value) {
        String utf8 = new String(value, StandardCharsets.UTF_8);
        String latin1 = new String(value, StandardCharsets.ISO_8859_1);
        return utf8.equals(latin1) ? List.of(utf8) : List.of(utf8, latin1);
    }
}
