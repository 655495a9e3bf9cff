package dev.cordon.egress.proxy;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Says which resolved addresses a sandbox must not reach by name: the host itself, its networks,
 * and the cloud's metadata service. Checked after DNS resolution (SSRF through a name that
 * resolves inward is the attack), on the exact address the proxy then connects to. Thread-safe.
 */
final class AddressGuard {
    private record Range(Cidr cidr, String what) {}

    private static final List<Range> SPECIAL = List.of(
            // Metadata first: it is also link-local, but "cloud metadata" is the better reason.
            range("169.254.169.254/32", "a cloud metadata address"),
            range("fd00:ec2::254/128", "a cloud metadata address"),
            range("0.0.0.0/8", "a 'this network' address"),
            range("127.0.0.0/8", "a loopback address"),
            range("10.0.0.0/8", "a private address (RFC 1918)"),
            range("172.16.0.0/12", "a private address (RFC 1918)"),
            range("192.168.0.0/16", "a private address (RFC 1918)"),
            range("100.64.0.0/10", "a carrier-grade NAT address (RFC 6598)"),
            range("169.254.0.0/16", "a link-local address"),
            range("192.0.0.0/24", "an IETF protocol address"),
            range("198.18.0.0/15", "a benchmarking address"),
            range("224.0.0.0/4", "a multicast address"),
            range("240.0.0.0/4", "a reserved address"),
            range("::/128", "the unspecified address"),
            range("::1/128", "a loopback address"),
            range("fe80::/10", "a link-local address"),
            range("fc00::/7", "a unique local address"),
            range("ff00::/8", "a multicast address"));

    private final Set<InetAddress> own;

    /** @param own the host's own addresses (its interfaces'); use {@link #ofThisHost()} */
    AddressGuard(Set<InetAddress> own) {
        this.own = Set.copyOf(own);
    }

    /** A guard that knows every address of this host's network interfaces, read now. */
    static AddressGuard ofThisHost() {
        Set<InetAddress> own = new HashSet<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                    own.add(withoutScope(a));
                }
            }
        } catch (SocketException e) {
            throw new IllegalStateException("cannot list this host's network interfaces: " + e.getMessage(), e);
        }
        return new AddressGuard(own);
    }

    /**
     * Why a sandbox may not reach {@code address} unless a rule names it, or empty if it is an
     * ordinary public address. IPv4-mapped and NAT64 IPv6 forms are judged by the IPv4 address inside.
     */
    Optional<String> special(InetAddress address) {
        InetAddress a = embeddedIpv4(withoutScope(address));
        if (own.contains(a) || own.contains(withoutScope(address))) {
            return Optional.of("an address of the Cordon host itself");
        }
        for (Range r : SPECIAL) {
            if (r.cidr().contains(a)) {
                return Optional.of(r.what());
            }
        }
        return Optional.empty();
    }

    /** ::ffff:a.b.c.d and 64:ff9b::a.b.c.d reach a.b.c.d: judge that one. */
    private static InetAddress embeddedIpv4(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address;
        }
        byte[] b = address.getAddress();
        boolean mapped = allZero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
        boolean nat64 = (b[0] & 0xff) == 0x00
                && (b[1] & 0xff) == 0x64
                && (b[2] & 0xff) == 0xff
                && (b[3] & 0xff) == 0x9b
                && allZero(b, 4, 12);
        if (!mapped && !nat64) {
            return address;
        }
        try {
            return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static boolean allZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static InetAddress withoutScope(InetAddress a) {
        if (a instanceof Inet6Address && ((Inet6Address) a).getScopeId() != 0) {
            try {
                return InetAddress.getByAddress(a.getAddress());
            } catch (UnknownHostException e) {
                throw new AssertionError(e);
            }
        }
        return a;
    }

    private static Range range(String cidr, String what) {
        return new Range(Cidr.parse(cidr).orElseThrow(), what);
    }
}
