package dev.cordon.bench;

import com.sun.net.httpserver.HttpServer;
import dev.cordon.core.AgentName;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.session.EgressGateway;
import dev.cordon.core.store.Store;
import dev.cordon.egress.proxy.EgressApprovals;
import dev.cordon.egress.proxy.EgressProxy;
import dev.cordon.egress.proxy.EgressRule;
import dev.cordon.egress.proxy.EgressRules;
import dev.cordon.egress.proxy.Resolver;
import dev.cordon.egress.vault.Vault;
import dev.cordon.store.Stores;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Executors;

/**
 * The host's egress proxy alone, in one process: a client on loopback sends a plain HTTP request
 * through the proxy (rules, data-loss guard, the audit append on a real SQLite store with its
 * fsync, connect, forward) to an origin answering 100 bytes, and times it to the last byte. No
 * sandbox, relay or curl, so fewer threads and processes share the machine's noise than in
 * {@link EgressBench}; and after {@code --warmup} requests the code is compiled (C2), which the
 * 250 connections of {@code EgressBench} never reach.
 *
 * <pre>
 * java -cp 'bench/target/lib/*' dev.cordon.bench.EgressProxyBench [--warmup 2000] [--requests 3000]
 * </pre>
 */
public final class EgressProxyBench {
    private EgressProxyBench() {}

    public static void main(String[] args) throws Exception {
        int warmup = 2000;
        int requests = 3000;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
                case "--requests" -> requests = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--warmup, --requests)");
            }
        }
        Path dir = Files.createTempDirectory("cpb");
        byte[] small = "x".repeat(100).getBytes(StandardCharsets.US_ASCII);
        HttpServer origin = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        origin.createContext("/small", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, small.length);
            exchange.getResponseBody().write(small);
            exchange.close();
        });
        origin.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        origin.start();
        int port = origin.getAddress().getPort();
        try (Store store = Stores.sqlite(dir.resolve("cordon.db"));
                AuditLog audit = AuditLogs.open(store.audit(), dir.resolve("audit.key"));
                ServerSocket listener = new ServerSocket(0, 64, InetAddress.getLoopbackAddress())) {
            Vault vault = Vault.open(dir.resolve("vault.json"), dir.resolve("vault.key"));
            EgressProxy proxy = EgressProxy.create(audit, Resolver.system(), vault, EgressApprovals.NONE);
            EgressProxy.Caller caller = new EgressProxy.Caller(
                    new AgentName("main"),
                    new SessionId(1L),
                    new EgressRules(
                            List.of(new EgressRule("egress.allow[0]", "127.0.0.1", port, Set.of(), List.of())),
                            List.of()));
            Thread.ofVirtual().start(() -> {
                while (!listener.isClosed()) {
                    try {
                        Socket client = listener.accept();
                        Thread.ofVirtual().start(() -> proxy.serve(EgressGateway.Connection.of(client), caller));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            byte[] request = ("GET http://127.0.0.1:" + port + "/small HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            System.out.printf(
                    "EgressProxyBench: %d warm-up + %d requests; %s, %d CPUs; load %s%n",
                    warmup, requests, Runtime.version(), Runtime.getRuntime().availableProcessors(), load());
            for (int i = 0; i < warmup; i++) {
                once(listener.getLocalPort(), request);
            }
            long[] nanos = new long[requests];
            for (int i = 0; i < requests; i++) {
                nanos[i] = once(listener.getLocalPort(), request);
            }
            Arrays.sort(nanos);
            System.out.printf(
                    Locale.ROOT,
                    "client -> proxy -> origin, to the answer's last byte: median %.3f ms, p90 %.3f, p99 %.3f"
                            + " (n = %d); load %s%n",
                    nanos[requests / 2] / 1e6,
                    nanos[requests * 9 / 10] / 1e6,
                    nanos[requests * 99 / 100] / 1e6,
                    requests,
                    load());
        } finally {
            origin.stop(0);
        }
    }

    /** One request on a new connection; returns the time until the proxy closed it after the answer. */
    private static long once(int proxyPort, byte[] request) throws IOException {
        long start = System.nanoTime();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxyPort)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request);
            InputStream in = s.getInputStream();
            byte[] buffer = new byte[4096];
            int total = 0;
            int n;
            while ((n = in.read(buffer)) >= 0) {
                total += n;
            }
            if (total < 100) {
                throw new IllegalStateException("short answer: " + total + " bytes");
            }
        }
        return System.nanoTime() - start;
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
