package dev.cordon.egress.proxy;

import dev.cordon.core.dlp.DlpAction;
import dev.cordon.core.dlp.SecretScanner;
import dev.cordon.egress.vault.Vault;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;

/**
 * What happens to a request the proxy can read before it leaves: the data-loss guard looks for
 * secret values and credential formats anywhere in it, and secret placeholders are replaced by
 * their values, only where the secret is bound (host, path prefix, header or query parameter) and
 * only for an agent whose policy lists the secret. Anything else is refused.
 */
final class Inspection {
    private Inspection() {}

    sealed interface Outcome {}

    /**
     * The request as it may leave, and the secrets it now carries (then only over TLS).
     *
     * @param body the body to send: the client's, or with what looked like secrets redacted
     * @param redacted the kinds of what the data-loss guard redacted (empty: nothing)
     */
    record Prepared(
            List<HttpHead.Header> headers, String query, List<String> secrets, byte[] body, List<String> redacted)
            implements Outcome {}

    record Refused(String rule, String reason) implements Outcome {}

    /**
     * Checks a readable request: the data-loss guard first ({@code dlp}: refuse it, or redact what
     * looks like a secret in its headers and body; a secret in the URL is refused either way), then
     * the placeholders, which are swapped for real values only where they are bound.
     */
    static Outcome inspect(
            HttpHead head,
            Target target,
            byte[] body,
            Set<String> allowedSecrets,
            Vault vault,
            SecretScanner scanner,
            DlpAction dlp) {
        SecretScanner guard = scanner.snapshot();
        List<String> redacted = new ArrayList<>();
        if (dlp == DlpAction.REDACT) {
            List<HttpHead.Header> clean = new ArrayList<>();
            for (HttpHead.Header h : head.headers()) {
                String value = redact(guard, h.value(), redacted);
                if (value.chars().anyMatch(c -> c == '\r' || c == '\n')) {
                    return new Refused("dlp", "header " + h.name() + " cannot be redacted");
                }
                clean.add(new HttpHead.Header(h.name(), value));
            }
            head = new HttpHead(head.method(), head.target(), head.version(), clean);
            body = redact(guard, new String(body, StandardCharsets.ISO_8859_1), redacted)
                    .getBytes(StandardCharsets.ISO_8859_1);
        }
        Optional<Refused> leak = dlp(head, target, body, guard);
        if (leak.isPresent()) {
            return leak.get();
        }
        if (Vault.PLACEHOLDER.matcher(target.path()).find()) {
            return new Refused(
                    "secrets",
                    "a secret placeholder in the URL path is never replaced; secrets go only in"
                            + " the header or query parameter they are bound to");
        }
        Matcher inBody = Vault.PLACEHOLDER.matcher(new String(body, StandardCharsets.ISO_8859_1));
        if (inBody.find()) {
            return new Refused(
                    "secrets",
                    "the placeholder of secret " + inBody.group(1) + " is in the request body,"
                            + " where it is never replaced; secrets go only in the header or query parameter they are bound to");
        }
        Set<String> used = new LinkedHashSet<>();
        List<HttpHead.Header> headers = new ArrayList<>();
        for (HttpHead.Header h : head.headers()) {
            Swap swap = swap(
                    h.value(),
                    target,
                    "header " + h.name(),
                    b -> b.header() != null && b.header().equalsIgnoreCase(h.name()),
                    allowedSecrets,
                    vault,
                    false);
            if (swap.refusal() != null) {
                return swap.refusal();
            }
            used.addAll(swap.used());
            headers.add(new HttpHead.Header(h.name(), swap.text()));
        }
        String query = target.query();
        if (query != null && Vault.PLACEHOLDER.matcher(query).find()) {
            StringBuilder rebuilt = new StringBuilder();
            for (String pair : query.split("&", -1)) {
                int eq = pair.indexOf('=');
                String name = eq < 0 ? pair : pair.substring(0, eq);
                String value = eq < 0 ? "" : pair.substring(eq + 1);
                if (Vault.PLACEHOLDER.matcher(name).find()) {
                    return new Refused("secrets", "a secret placeholder as a query parameter's name is never replaced");
                }
                Swap swap = swap(
                        value,
                        target,
                        "query parameter " + name,
                        b -> name.equals(b.query()),
                        allowedSecrets,
                        vault,
                        true);
                if (swap.refusal() != null) {
                    return swap.refusal();
                }
                used.addAll(swap.used());
                if (!rebuilt.isEmpty()) {
                    rebuilt.append('&');
                }
                rebuilt.append(name).append(eq < 0 ? "" : "=" + swap.text());
            }
            query = rebuilt.toString();
        }
        return new Prepared(List.copyOf(headers), query, List.copyOf(used), body, List.copyOf(redacted));
    }

    /** {@code text} with the findings replaced; their kinds are added to {@code kinds}. */
    private static String redact(SecretScanner guard, String text, List<String> kinds) {
        List<SecretScanner.Finding> found = guard.scan(text);
        if (found.isEmpty()) {
            return text;
        }
        found.stream()
                .map(SecretScanner.Finding::kind)
                .filter(k -> !kinds.contains(k))
                .forEach(kinds::add);
        return guard.redact(text);
    }

    private record Swap(String text, Set<String> used, Refused refusal) {}

    private static Swap swap(
            String text,
            Target target,
            String where,
            java.util.function.Predicate<Vault.Binding> place,
            Set<String> allowedSecrets,
            Vault vault,
            boolean urlEncode) {
        Matcher m = Vault.PLACEHOLDER.matcher(text);
        if (!m.find()) {
            return new Swap(text, Set.of(), null);
        }
        m.reset();
        StringBuilder out = new StringBuilder();
        Set<String> used = new LinkedHashSet<>();
        while (m.find()) {
            String name = m.group(1);
            if (!allowedSecrets.contains(name)) {
                return refused("the agent's policy does not list secret " + name + " (egress.secrets)");
            }
            Optional<Vault.Entry> entry = vault.entry(name);
            if (entry.isEmpty()) {
                return refused("secret " + name + " is not in the vault (cordon secret set " + name + ")");
            }
            boolean bound = entry.get().bindings().stream()
                    .anyMatch(b -> b.host().equals(target.host())
                            && target.path().startsWith(b.pathPrefix())
                            && place.test(b));
            if (entry.get().bindings().isEmpty()) {
                return refused("secret " + name + " is for the host only (no --bind): it is never sent anywhere");
            }
            if (!bound) {
                return refused("secret " + name + " may only be sent in "
                        + entry.get().bindings().stream()
                                .map(Vault.Binding::describe)
                                .toList() + ", not in " + where
                        + " to " + target.host() + target.path());
            }
            String value = new String(vault.reveal(name).orElseThrow(), StandardCharsets.ISO_8859_1);
            if (!urlEncode && value.chars().anyMatch(c -> c == '\r' || c == '\n')) {
                return refused("secret " + name + " contains a line break and cannot go in a header");
            }
            m.appendReplacement(
                    out,
                    Matcher.quoteReplacement(
                            urlEncode
                                    ? URLEncoder.encode(value, StandardCharsets.UTF_8)
                                            .replace("+", "%20")
                                    : value));
            used.add(name);
        }
        m.appendTail(out);
        return new Swap(out.toString(), used, null);
    }

    private static Swap refused(String reason) {
        return new Swap(null, Set.of(), new Refused("secrets", reason));
    }

    private static Optional<Refused> dlp(HttpHead head, Target target, byte[] body, SecretScanner scanner) {
        List<String[]> parts = new ArrayList<>();
        for (HttpHead.Header h : head.headers()) {
            parts.add(new String[] {"header " + h.name(), h.value()});
        }
        parts.add(new String[] {"the URL", target.path() + (target.query() == null ? "" : "?" + target.query())});
        parts.add(new String[] {"the body", new String(body, StandardCharsets.ISO_8859_1)});
        for (String[] part : parts) {
            List<SecretScanner.Finding> found = scanner.scan(part[1]);
            if (!found.isEmpty()) {
                return Optional.of(new Refused(
                        "dlp",
                        "the request carries " + found.getFirst().kind() + " in "
                                + part[0]
                                + "; secrets leave the host only as placeholders, replaced by the proxy at the"
                                + " endpoints they are bound to (docs/egress.md)"));
            }
        }
        return Optional.empty();
    }
}
