package dev.cordon.server;

import dev.cordon.core.store.Store;
import dev.cordon.core.store.StoreException;
import dev.cordon.egress.vault.Vault;
import dev.cordon.store.Stores;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Which store the daemon and the host-side commands open: {@code cordon.yaml}'s {@code store:}
 * block (docs/store.md). SQLite in the home is the default; PostgreSQL takes a JDBC URL, a user and
 * the name of a host-only secret in the vault that holds the password, which never appears in the
 * file.
 */
sealed interface StoreChoice {
    /** The embedded default: {@code data/cordon.db} in the home. */
    record Sqlite() implements StoreChoice {}

    /**
     * A PostgreSQL database shared by the daemon (and later its replicas).
     *
     * @param url {@code jdbc:postgresql://host:port/database}, without a password
     * @param passwordSecret the vault secret ({@code cordon secret set NAME --host-only}) with the password
     */
    record Postgres(String url, String user, String passwordSecret) implements StoreChoice {}

    /** The fields of {@code store:}; {@code file} and the field names go into every error. */
    static StoreChoice of(Path file, String kind, String url, String user, String passwordSecret) {
        String k = kind == null ? "sqlite" : kind.strip().toLowerCase(Locale.ROOT);
        switch (k) {
            case "sqlite" -> {
                for (Map.Entry<String, String> field : Map.of(
                                "url", nonNull(url), "user", nonNull(user), "password_secret", nonNull(passwordSecret))
                        .entrySet()) {
                    if (!field.getValue().isEmpty()) {
                        throw new ConfigException(
                                file + ": store." + field.getKey() + " is only for kind: postgres (the SQLite store"
                                        + " is always data/cordon.db in the home)");
                    }
                }
                return new Sqlite();
            }
            case "postgres", "postgresql" -> {
                if (url == null || !url.strip().startsWith("jdbc:postgresql://")) {
                    throw new ConfigException(file + ": store.url must be jdbc:postgresql://host:port/database, got "
                            + (url == null ? "nothing" : "'" + url + "'"));
                }
                if (url.toLowerCase(Locale.ROOT).contains("password")) {
                    throw new ConfigException(file + ": store.url must not carry a password: store it in the vault"
                            + " (cordon secret set NAME --host-only) and name it in store.password_secret");
                }
                if (user == null || user.isBlank()) {
                    throw new ConfigException(file + ": store.user is required for kind: postgres");
                }
                if (passwordSecret == null
                        || !Vault.NAME.matcher(passwordSecret).matches()) {
                    throw new ConfigException(file + ": store.password_secret must name a vault secret (upper case,"
                            + " digits, _), got " + (passwordSecret == null ? "nothing" : "'" + passwordSecret + "'")
                            + "; store the password with: cordon secret set NAME --host-only");
                }
                return new Postgres(url.strip(), user.strip(), passwordSecret);
            }
            default ->
                throw new ConfigException(file + ": store.kind: expected 'sqlite' or 'postgres', got '" + kind + "'");
        }
    }

    private static String nonNull(String s) {
        return s == null ? "" : s.strip();
    }

    /**
     * The name a daemon replica has in a shared store: its host and its home, stable across
     * restarts (so a restarted replica releases its own claims at once) and unique while it runs
     * (the home's lock lets one daemon serve a home).
     */
    static String replicaName(Home home) {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            host = "localhost";
        }
        return host + ":" + home.root().toAbsolutePath().normalize();
    }

    /** Reads only the {@code store:} block of the home's {@code cordon.yaml} (for host-side commands). */
    static StoreChoice of(Home home) {
        return Config.load(home.root(), Map.of()).store();
    }

    /**
     * For host-side commands ({@code cordon audit}, {@code usage}, {@code policy explain}): opens
     * the store the home's {@code cordon.yaml} chooses, or prints why it cannot to {@code err} and
     * returns null (no SQLite file yet, a bad {@code store:} block, a missing password secret, an
     * unreachable server).
     */
    static Store openExisting(Home home, PrintStream err) {
        try {
            StoreChoice choice = of(home);
            if (choice instanceof Sqlite && !Files.exists(home.database())) {
                err.println("cordon: no Cordon database at " + home.database()
                        + " (has the daemon ever run with this home?)");
                return null;
            }
            return open(home, choice, Clock.systemUTC());
        } catch (ConfigException | StoreException e) {
            err.println("cordon: " + e.getMessage());
            return null;
        }
    }

    /**
     * Opens the chosen store (creating or migrating its schema), reading a PostgreSQL password from
     * the home's vault.
     *
     * @throws ConfigException if the password secret is not in the vault
     * @throws dev.cordon.core.store.StoreException if the store cannot be opened
     */
    static Store open(Home home, StoreChoice choice, Clock clock) {
        return open(home, choice, clock, null);
    }

    /**
     * As {@link #open(Home, StoreChoice, Clock)} for a daemon: on PostgreSQL its claims and leases
     * are recorded as replica {@code replica} (null: a host-side command, which claims nothing).
     */
    static Store open(Home home, StoreChoice choice, Clock clock, String replica) {
        return switch (choice) {
            case Sqlite s -> Stores.sqlite(home.database(), clock);
            case Postgres p -> {
                byte[] password = Vault.open(home.vault(), home.vaultKey())
                        .reveal(p.passwordSecret())
                        .orElseThrow(() -> new ConfigException(home.root().resolve("cordon.yaml")
                                + ": store.password_secret: the vault has no secret " + p.passwordSecret()
                                + "; store the database password with: cordon secret set " + p.passwordSecret()
                                + " --host-only"));
                try {
                    String pw = new String(password, StandardCharsets.UTF_8);
                    yield replica == null
                            ? Stores.postgres(p.url(), p.user(), pw, clock)
                            : Stores.postgres(p.url(), p.user(), pw, clock, replica);
                } finally {
                    Arrays.fill(password, (byte) 0);
                }
            }
        };
    }
}
