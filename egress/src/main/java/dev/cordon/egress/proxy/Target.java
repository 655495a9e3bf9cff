package dev.cordon.egress.proxy;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where a proxy request goes, parsed from the request target. Only what the rules can judge
 * unambiguously is accepted: no user info, no fragment, no dot segments, and percent-escapes of
 * unreserved characters decoded ({@code /%61dmin} is {@code /admin}), so a path rule sees the path
 * the origin will see.
 *
 * @param host lower case, no trailing dot; IPv6 in brackets
 * @param path normalised path, starting with {@code /}
 * @param query the query without {@code ?}, or null
 */
record Target(String host, int port, String path, String query) {
    private static final Pattern HOST = Pattern.compile("[a-z0-9.-]+|\\[[0-9a-f:.]+\\]");

    /** {@code CONNECT host:port}: the port is required. */
    static Target authority(String target) throws ProxyException {
        int colon = target.lastIndexOf(':');
        if (colon <= 0 || target.endsWith("]")) {
            throw new ProxyException(400, "CONNECT needs host:port, not '" + HttpHead.printable(target) + "'");
        }
        return new Target(host(target.substring(0, colon)), port(target.substring(colon + 1)), "/", null);
    }

    /** {@code GET http://host[:port]/path?query}: a proxy request must name its origin. */
    static Target absolute(String target) throws ProxyException {
        String lower = target.toLowerCase(Locale.ROOT);
        if (lower.startsWith("https://")) {
            throw new ProxyException(400, "send HTTPS through a CONNECT tunnel, not as a plain proxy request");
        }
        if (!lower.startsWith("http://")) {
            throw new ProxyException(
                    400,
                    "this is a proxy: the request target must be an absolute http:// URL, not '"
                            + HttpHead.printable(target) + "'");
        }
        String rest = target.substring("http://".length());
        if (rest.indexOf('#') >= 0) {
            throw new ProxyException(400, "a request target may not contain a fragment (#)");
        }
        int slash = rest.indexOf('/');
        int question = rest.indexOf('?');
        int end = slash < 0
                ? (question < 0 ? rest.length() : question)
                : (question < 0 ? slash : Math.min(slash, question));
        String authority = rest.substring(0, end);
        String pathAndQuery = rest.substring(end);
        if (authority.indexOf('@') >= 0) {
            throw new ProxyException(400, "user information in the URL is not accepted");
        }
        String host = authority;
        int port = 80;
        int colon = authority.lastIndexOf(':');
        if (colon >= 0 && !authority.endsWith("]")) {
            host = authority.substring(0, colon);
            port = port(authority.substring(colon + 1));
        }
        String rawPath = pathAndQuery;
        String query = null;
        int q = pathAndQuery.indexOf('?');
        if (q >= 0) {
            rawPath = pathAndQuery.substring(0, q);
            query = pathAndQuery.substring(q + 1);
        }
        return new Target(host(host), port, normalise(rawPath.isEmpty() ? "/" : rawPath), query);
    }

    String pathAndQuery() {
        return query == null ? path : path + "?" + query;
    }

    String hostHeader() {
        return port == 80 ? host : host + ":" + port;
    }

    private static String host(String raw) throws ProxyException {
        String h = raw.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        if (h.isEmpty() || h.length() > 253 || !HOST.matcher(h).matches()) {
            throw new ProxyException(400, "'" + HttpHead.printable(raw) + "' is not a host name or address");
        }
        return h;
    }

    private static int port(String raw) throws ProxyException {
        if (raw.isEmpty() || raw.length() > 5 || !raw.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new ProxyException(400, "'" + HttpHead.printable(raw) + "' is not a port");
        }
        int port = Integer.parseInt(raw);
        if (port < 1 || port > 65_535) {
            throw new ProxyException(400, port + " is not a port (1-65535)");
        }
        return port;
    }

    /** Decodes escaped unreserved characters and refuses dot segments and backslashes. */
    static String normalise(String raw) throws ProxyException {
        if (!raw.startsWith("/")) {
            throw new ProxyException(400, "the path must start with /");
        }
        StringBuilder out = new StringBuilder(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()
                        || Character.digit(raw.charAt(i + 1), 16) < 0
                        || Character.digit(raw.charAt(i + 2), 16) < 0) {
                    throw new ProxyException(400, "a malformed percent-escape in the path");
                }
                char decoded = (char) Integer.parseInt(raw.substring(i + 1, i + 3), 16);
                if (unreserved(decoded)) {
                    out.append(decoded);
                } else {
                    out.append('%').append(raw.substring(i + 1, i + 3).toUpperCase(Locale.ROOT));
                }
                i += 2;
            } else if (c == '\\') {
                throw new ProxyException(400, "a backslash in the path");
            } else {
                out.append(c);
            }
        }
        String path = out.toString();
        for (String segment : path.substring(1).split("/", -1)) {
            if (segment.equals(".") || segment.equals("..")) {
                throw new ProxyException(400, "dot segments (. or ..) in the path are not accepted");
            }
        }
        return path;
    }

    private static boolean unreserved(char c) {
        return (c >= 'a' && c <= 'z')
                || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9')
                || c == '-'
                || c == '.'
                || c == '_'
                || c == '~';
    }
}
