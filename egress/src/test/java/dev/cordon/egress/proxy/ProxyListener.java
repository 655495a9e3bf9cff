package dev.cordon.egress.proxy;

import dev.cordon.core.session.EgressGateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.function.Supplier;

/**
 * The proxy on a loopback port, as a test client sees it: each accepted socket is served on its
 * own virtual thread for the caller {@code who} names at that moment. In Cordon the connections
 * come over a sandbox's channel instead; the proxy cannot tell the difference.
 */
final class ProxyListener {
    private ProxyListener() {}

    static ServerSocket serve(EgressProxy proxy, Supplier<EgressProxy.Caller> who) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    client.setSoTimeout(10_000);
                    EgressProxy.Caller caller = who.get();
                    Thread.ofVirtual().start(() -> proxy.serve(EgressGateway.Connection.of(client), caller));
                } catch (IOException e) {
                    return;
                }
            }
        });
        return server;
    }
}
