package dev.cordon.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Free TCP ports for servers that must be told their port before they listen (a config file, a
 * webhook URL, a child process's {@code PORT}).
 *
 * <p>The usual trick, binding port 0 and closing the socket, hands back a port from the kernel's
 * ephemeral range, and the kernel hands the same range to every other {@code bind(0)} and
 * {@code connect()}: a fake server or a client socket started in the gap takes the port and the
 * real server then fails with "address already in use". The ports here come from below that range
 * ({@code /proc/sys/net/ipv4/ip_local_port_range}), which the kernel never gives out by itself,
 * each one checked free on every address and never handed out twice by this JVM.
 */
public final class Ports {
    private static final int LOWEST = 10_000;
    private static final int EPHEMERAL_START = ephemeralStart();
    private static final AtomicInteger NEXT =
            new AtomicInteger(ThreadLocalRandom.current().nextInt(EPHEMERAL_START - LOWEST));

    private Ports() {}

    /** A port that nothing listens on and that the kernel will not give to anyone else by itself. */
    public static int free() {
        int span = EPHEMERAL_START - LOWEST;
        for (int tries = 0; tries < span; tries++) {
            int port = LOWEST + Math.floorMod(NEXT.getAndIncrement(), span);
            try (ServerSocket probe = new ServerSocket()) {
                probe.setReuseAddress(false);
                probe.bind(new InetSocketAddress(port)); // the wildcard address clashes with any listener
                return port;
            } catch (IOException taken) {
                // someone else's: try the next one
            }
        }
        throw new IllegalStateException("no free port between " + LOWEST + " and " + EPHEMERAL_START);
    }

    static int ephemeralStart() {
        // One read call: the kernel's integer sysctl files answer end-of-file to any read after the first,
        // and Files.readString first reads a single byte of a file whose size says zero.
        try (InputStream in = Files.newInputStream(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
            String range = new String(in.readNBytes(64), StandardCharsets.US_ASCII);
            int start = Integer.parseInt(range.strip().split("\\s+")[0]);
            return start > LOWEST + 1_000 ? start : 32_768;
        } catch (IOException | RuntimeException e) {
            return 32_768; // Linux's default
        }
    }
}
