package dev.cordon.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * The per-sandbox token that opens the runner's channel when it is TCP (a Kubernetes pod) rather
 * than a Unix socket only this sandbox can see. The host connects to the runner and first sends one
 * line, {@code cordon-token <64 hex digits>}; the runner accepts nothing else on that connection
 * until the line matches its own token (from {@link #ENV}, which a pod gets from a Secret), and
 * closes any connection that sends something else, sends too much or stays silent. It keeps the
 * first good connection and stops listening, like the Unix socket's listener: one channel per
 * sandbox (invariant 2).
 *
 * <p>Stateless and thread-safe.
 */
public final class ChannelToken {
    /** The runner's environment variable that holds the token. */
    public static final String ENV = "CORDON_CHANNEL_TOKEN";

    private static final String PREFIX = "cordon-token ";
    private static final int TOKEN_BYTES = 32;
    private static final int MAX_LINE = PREFIX.length() + 2 * TOKEN_BYTES + 1;

    private ChannelToken() {}

    /** A new random token: 256 bits from {@code random}, as hex. */
    public static String generate(SecureRandom random) {
        byte[] bytes = new byte[TOKEN_BYTES];
        random.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** Host side: sends {@code token} as the connection's first line. Blocks until written. */
    public static void present(OutputStream out, String token) throws IOException {
        out.write(line(token));
        out.flush();
    }

    /**
     * Runner side: accepts connections on {@code listener} until one presents {@code token}, and
     * returns it with no read timeout; every other connection is closed and reported to {@code
     * refused}. Closes the listener before returning. Blocks.
     *
     * @param patience how long each connection may take to send its token line
     * @throws IOException if the listener fails or is closed
     */
    public static Socket acceptOne(ServerSocket listener, String token, Duration patience, Consumer<String> refused)
            throws IOException {
        byte[] expected = line(token);
        try (listener) {
            while (true) {
                Socket socket = listener.accept();
                String why;
                try {
                    socket.setSoTimeout((int) patience.toMillis());
                    byte[] got = readLine(socket.getInputStream());
                    // Constant time: a mismatch says nothing about how much of the token was right.
                    if (MessageDigest.isEqual(expected, got)) {
                        socket.setSoTimeout(0);
                        return socket;
                    }
                    why = "wrong or missing token";
                } catch (SocketTimeoutException e) {
                    why = "no token within " + patience.toMillis() + " ms";
                } catch (IOException e) {
                    why = e.getMessage();
                }
                refused.accept("refused a connection from " + socket.getRemoteSocketAddress() + ": " + why);
                socket.close();
            }
        }
    }

    private static byte[] line(String token) {
        return (PREFIX + token + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** Up to and including the first newline, at most one token line long. */
    private static byte[] readLine(InputStream in) throws IOException {
        byte[] buffer = new byte[MAX_LINE];
        int n = 0;
        while (n < MAX_LINE) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            buffer[n++] = (byte) b;
            if (b == '\n') {
                break;
            }
        }
        return java.util.Arrays.copyOf(buffer, n);
    }
}
