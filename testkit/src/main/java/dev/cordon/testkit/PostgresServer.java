package dev.cordon.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server for tests: a fresh cluster in a temporary directory, started with the
 * binaries of the {@code postgresql} apt package, listening on a free loopback port (TCP, password
 * login) with its Unix socket in that directory. {@link #shared()} starts one per JVM and stops it
 * when the JVM exits; tests take a {@link #createDatabase() fresh database} each.
 *
 * <p>PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to, and the
 * server runs as, the {@code postgres} user the package creates ({@code setpriv}). Durability is
 * switched off ({@code fsync=off}): the tests check behaviour, not crash safety of the disk.
 *
 * <p>Thread-safe.
 */
public final class PostgresServer implements AutoCloseable {
    /** The superuser the tests log in as. */
    public static final String USER = "cordon";

    private static PostgresServer shared;

    private final Path dir;
    private final Path bin;
    private final boolean asPostgresUser;
    private final int port;
    private final String password;
    private final AtomicInteger databases = new AtomicInteger();
    private boolean stopped;

    private PostgresServer(Path dir, Path bin, boolean asPostgresUser, int port, String password) {
        this.dir = dir;
        this.bin = bin;
        this.asPostgresUser = asPostgresUser;
        this.port = port;
        this.password = password;
    }

    /**
     * The JVM's one server, started on first use (about 2 s) and stopped, its directory deleted, when
     * the JVM exits.
     *
     * @throws IllegalStateException if PostgreSQL is not installed or does not start; the message
     *     says what to install or where the server's log is
     */
    public static synchronized PostgresServer shared() {
        if (shared == null) {
            PostgresServer server = start();
            Runtime.getRuntime().addShutdownHook(new Thread(server::close, "postgres-stop"));
            shared = server;
        }
        return shared;
    }

    /** Starts a new server for tests (no fsync); the caller closes it. */
    public static PostgresServer start() {
        return start(false);
    }

    /**
     * Starts a new server; the caller closes it.
     *
     * @param durable commits are fsynced as in production (for benchmarks); false switches that off
     */
    public static PostgresServer start(boolean durable) {
        Path bin = binaries();
        boolean root = isRoot();
        String password = HexFormat.of().formatHex(random());
        Path dir;
        try {
            dir = Files.createTempDirectory("cordon-pg-");
            Files.writeString(dir.resolve("pwfile"), password + "\n");
            if (root) {
                UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
                Files.setOwner(dir, users.lookupPrincipalByName("postgres"));
                Files.setOwner(dir.resolve("pwfile"), users.lookupPrincipalByName("postgres"));
            }
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new IllegalStateException(
                    "cannot prepare a PostgreSQL directory (as root the 'postgres' user must exist: apt-get install"
                            + " postgresql): " + e,
                    e);
        }
        PostgresServer server = new PostgresServer(dir, bin, root, Ports.free(), password);
        try {
            server.run(
                    bin.resolve("initdb").toString(),
                    "-D",
                    dir.resolve("data").toString(),
                    "-U",
                    USER,
                    "--pwfile=" + dir.resolve("pwfile"),
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync");
            server.run(
                    bin.resolve("pg_ctl").toString(),
                    "-D",
                    dir.resolve("data").toString(),
                    "-l",
                    dir.resolve("server.log").toString(),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    "-c port=" + server.port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dir
                            + (durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
                            + " -c max_connections=200",
                    "start");
        } catch (RuntimeException e) {
            server.deleteDirectory();
            throw e;
        }
        return server;
    }

    private static byte[] random() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    /** The newest {@code /usr/lib/postgresql/<version>/bin} with an {@code initdb}. */
    static Path binaries() {
        Path root = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(root)) {
            try (Stream<Path> versions = Files.list(root)) {
                Path newest = versions.filter(v -> Files.isExecutable(v.resolve("bin/initdb")))
                        .filter(v -> v.getFileName().toString().matches("[0-9]+"))
                        .max(Comparator.comparingInt(
                                v -> Integer.parseInt(v.getFileName().toString())))
                        .orElse(null);
                if (newest != null) {
                    return newest.resolve("bin");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("these tests need a real PostgreSQL server and found none under"
                + " /usr/lib/postgresql/*/bin: install it with 'apt-get install -y postgresql' (CI does, in .ci/run)");
    }

    private static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a PostgreSQL program, as the {@code postgres} user when we are root; fails on a non-zero exit. */
    private void run(String... command) {
        List<String> line = new ArrayList<>();
        if (asPostgresUser) {
            line.addAll(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"));
        }
        line.addAll(List.of(command));
        Path output = dir.resolve("commands.log");
        try {
            // To a file, not a pipe: the server pg_ctl starts would inherit a pipe and hold it open.
            Process p = new ProcessBuilder(line)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(output.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", line));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", line) + " failed with exit " + p.exitValue() + ":\n"
                        + Files.readString(output) + "\nserver log: " + log());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + line.getFirst() + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + line.getFirst(), e);
        }
    }

    private String log() {
        try {
            Path log = dir.resolve("server.log");
            return Files.exists(log) ? Files.readString(log) : "(none)";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    public int port() {
        return port;
    }

    public String user() {
        return USER;
    }

    public String password() {
        return password;
    }

    /** The JDBC URL of {@code database} on this server. */
    public String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /**
     * Creates a new, empty database with a name not used before on this server; returns its URL.
     * Drop it after the test ({@link #dropDatabase}): each one holds several megabytes of files.
     */
    public String createDatabase() {
        return createDatabase("template1");
    }

    /**
     * Creates a new database as a copy of {@code template} (a database of this server nobody is
     * connected to; copying a migrated schema is faster than migrating again); returns its URL.
     */
    public String createDatabase(String template) {
        if (!template.matches("[a-z0-9_]+")) {
            throw new IllegalArgumentException("not a database name: " + template);
        }
        String name = "test_" + databases.incrementAndGet();
        // FILE_COPY: copies the template's few files instead of writing all of it to the WAL.
        admin("CREATE DATABASE " + name + " TEMPLATE " + template + " STRATEGY = FILE_COPY");
        return url(name);
    }

    /** The name of the database at {@code url}, a URL of this server. */
    public static String name(String url) {
        return url.substring(url.lastIndexOf('/') + 1);
    }

    /** Drops the database at {@code url} (made by {@link #createDatabase}), ending its open connections. */
    public void dropDatabase(String url) {
        String name = name(url);
        if (!name.matches("test_[0-9]+")) {
            throw new IllegalArgumentException("not a database of this server: " + url);
        }
        admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    private void admin(String sql) {
        try (Connection c = DriverManager.getConnection(url("postgres"), USER, password);
                Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + " failed: " + e.getMessage(), e);
        }
    }

    /** Stops the server (fast shutdown: open connections are ended) and deletes its directory. Idempotent. */
    @Override
    public synchronized void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        try {
            run(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "fast", "-w", "stop");
        } finally {
            deleteDirectory();
        }
    }

    private void deleteDirectory() {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
