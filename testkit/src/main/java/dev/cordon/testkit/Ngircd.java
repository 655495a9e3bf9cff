package dev.cordon.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * A real IRC server for tests: the {@code ngircd} from apt (Debian package {@code ngircd}), started
 * in the foreground on a free loopback port with its own configuration in a temporary folder.
 * Started as root, ngircd drops to {@code nobody} by itself. {@link #close} stops it; {@link
 * #restart} stops it and starts it again on the same port (a server outage as a client sees it).
 * A client that sends {@code OPER} {@link #OPERATOR} {@link #OPERATOR_PASSWORD} may {@code KILL}
 * another client's connection (a dropped connection for that client alone).
 */
public final class Ngircd implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/sbin/ngircd");
    public static final String OPERATOR = "tester";
    public static final String OPERATOR_PASSWORD = "test-operator-password";
    private final Path config;
    private final Path log;
    private final int port;
    private Process process;

    private Ngircd(Path dir, int port, String password) throws IOException {
        this.port = port;
        this.config = dir.resolve("ngircd.conf");
        this.log = dir.resolve("ngircd.log");
        Files.writeString(config, """
                [Global]
                \tName = irc.cordon.test
                \tInfo = Cordon test server
                \tAdminInfo1 = Cordon tests
                \tAdminInfo2 = loopback
                \tAdminEMail = tests@cordon.invalid
                \tListen = 127.0.0.1
                \tPorts = %d
                \tMotdPhrase = "Cordon test server"
                \tPassword = %s
                [Limits]
                \tMaxConnectionsIP = 0
                \tMaxNickLength = 30
                \tPingTimeout = 120
                \tPongTimeout = 20
                [Options]
                \tDNS = no
                \tIdent = no
                \tPAM = no
                \tRequireAuthPing = no
                [Operator]
                \tName = %s
                \tPassword = %s
                """.formatted(port, password, OPERATOR, OPERATOR_PASSWORD));
    }

    /** Starts ngircd on a free loopback port, configured in {@code dir}; returns once it accepts connections. */
    public static Ngircd start(Path dir) throws IOException {
        return start(dir, "");
    }

    /**
     * As {@link #start(Path)}, for a server that admits only clients that send {@code PASS
     * password} first (empty: no password).
     */
    public static Ngircd start(Path dir, String password) throws IOException {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(BINARY + " is missing: apt-get install ngircd (.ci/run installs it)");
        }
        Ngircd server = new Ngircd(dir, Ports.free(), password);
        server.launch();
        return server;
    }

    public int port() {
        return port;
    }

    public String host() {
        return "127.0.0.1";
    }

    /** Stops the server (its clients see the connection drop) and starts it again on the same port. */
    public void restart() throws IOException {
        stop();
        launch();
    }

    /** Stops the server; {@link #restart} brings it back. */
    public void stop() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void launch() throws IOException {
        process = new ProcessBuilder(BINARY.toString(), "--nodaemon", "--passive", "--config", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        // The port may still be held by the last run's socket for a moment after a restart.
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host(), port), 500);
                return;
            } catch (IOException e) {
                if (!process.isAlive() || Instant.now().isAfter(deadline)) {
                    throw new IOException("ngircd did not start listening on port " + port + ": " + logText(), e);
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", ie);
                }
            }
        }
    }

    /** The server's own log so far, for failure messages. */
    public String logText() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        stop();
    }
}
