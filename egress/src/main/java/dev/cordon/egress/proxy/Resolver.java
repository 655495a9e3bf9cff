package dev.cordon.egress.proxy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/** Name resolution for the proxy; the system's by default, a fixed table in tests. */
@FunctionalInterface
public interface Resolver {
    /**
     * The addresses of {@code host}, in preference order. Called once per connection: the proxy
     * connects to an address from this answer and never asks again (no DNS rebinding).
     */
    List<InetAddress> resolve(String host) throws UnknownHostException;

    static Resolver system() {
        return host -> List.of(InetAddress.getAllByName(host));
    }
}
