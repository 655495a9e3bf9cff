package dev.cordon.egress.proxy;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One allow or deny rule of an agent's egress policy.
 *
 * @param label where the rule comes from, used in decisions and audit entries ({@code egress.allow[2]})
 * @param host {@code api.github.com} (exactly that host), {@code *.github.com} (any host below it, not
 *     github.com itself), or an address or range ({@code 10.1.2.3}, {@code 10.0.0.0/8}); only an
 *     address or range rule lets a sandbox reach a private, loopback, link-local or metadata address
 * @param port the port, or {@link #WEB_PORTS} for 80 and 443, or {@link #ANY_PORT}
 * @param methods HTTP methods this rule covers (upper case); empty for all
 * @param paths path globs this rule covers ({@code *} within a segment, {@code **} across); empty for all
 */
public record EgressRule(String label, String host, int port, Set<String> methods, List<String> paths) {
    public static final int WEB_PORTS = 0;
    public static final int ANY_PORT = -1;

    private static final Pattern HOST =
            Pattern.compile("(\\*\\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");
    private static final Pattern METHOD = Pattern.compile("[A-Z]+");

    /**
     * @throws IllegalArgumentException naming the rule and what is wrong with it
     */
    public EgressRule {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(host, "host");
        String h = host.strip().toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        if (Cidr.parse(h).isEmpty() && !HOST.matcher(h).matches()) {
            throw new IllegalArgumentException(label + ".host: '" + host
                    + "' is not a host name, '*.' followed by a domain, an IP address or a CIDR range");
        }
        host = h;
        if (port < ANY_PORT || port > 65_535) {
            throw new IllegalArgumentException(label + ".port: " + port + " is not a port (1-65535)");
        }
        methods = methods.stream().map(m -> m.toUpperCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        for (String m : methods) {
            if (!METHOD.matcher(m).matches()) {
                throw new IllegalArgumentException(label + ".methods: '" + m + "' is not an HTTP method");
            }
        }
        paths = List.copyOf(paths);
        for (String p : paths) {
            if (!p.startsWith("/")) {
                throw new IllegalArgumentException(label + ".paths: '" + p + "' must start with /");
            }
        }
    }

    /** An address or range rule, if this is one. */
    Optional<Cidr> range() {
        return Cidr.parse(host);
    }

    /** Whether the rule limits methods or paths: it can then only judge requests the proxy can read. */
    boolean restricted() {
        return !methods.isEmpty() || !paths.isEmpty();
    }

    boolean matchesPort(int p) {
        return switch (port) {
            case ANY_PORT -> true;
            case WEB_PORTS -> p == 80 || p == 443;
            default -> p == port;
        };
    }

    /** Whether the rule's host part covers {@code requestHost} (a lower-case name or an address literal). */
    boolean matchesHost(String requestHost) {
        Optional<Cidr> range = range();
        if (range.isPresent()) {
            Optional<InetAddress> literal = Cidr.literal(unbracket(requestHost));
            return literal.isPresent() && range.get().contains(literal.get());
        }
        if (host.startsWith("*.")) {
            return requestHost.endsWith(host.substring(1)) && requestHost.length() > host.length() - 1;
        }
        return host.equals(requestHost);
    }

    /** Whether the method and path of a request the proxy can read are covered. */
    boolean matchesRequest(String method, String path) {
        if (!methods.isEmpty() && !methods.contains(method)) {
            return false;
        }
        return paths.isEmpty() || paths.stream().anyMatch(glob -> PathGlob.matches(glob, path));
    }

    static String unbracket(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** The rule as one line, for denials and {@code policy explain}. */
    public String describe() {
        StringBuilder s = new StringBuilder(label).append(" ").append(host);
        s.append(
                switch (port) {
                    case ANY_PORT -> ":*";
                    case WEB_PORTS -> "";
                    default -> ":" + port;
                });
        if (!methods.isEmpty()) {
            s.append(" ").append(methods.stream().sorted().collect(Collectors.joining(",")));
        }
        if (!paths.isEmpty()) {
            s.append(" ").append(String.join(",", paths));
        }
        return s.toString();
    }
}
