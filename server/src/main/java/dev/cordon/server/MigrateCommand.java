package dev.cordon.server;

import dev.cordon.core.audit.AuditKeys;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.audit.AuditVerification;
import dev.cordon.core.store.Store;
import dev.cordon.core.store.StoreException;
import dev.cordon.egress.vault.Vault;
import dev.cordon.store.Stores;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code cordon migrate --from sqlite --to postgres}: copies the home's SQLite store into the
 * PostgreSQL database that {@code cordon.yaml}'s {@code store:} block names (docs/store.md), then
 * verifies the audit chain there. Holds the daemon's lock meanwhile, so no daemon writes the
 * SQLite file while it is read or starts on a half-filled database; refuses a target with rows.
 * The SQLite file is kept as it was: going back is setting {@code store: {kind: sqlite}} again.
 */
final class MigrateCommand {
    static final String USAGE = """
            usage: cordon migrate --from sqlite --to postgres
              copies data/cordon.db into the PostgreSQL database named in cordon.yaml (store: kind: postgres,
              url, user, password_secret), all or nothing, then verifies the audit chain there.
              Stop the daemon first; the target must be empty.""";

    private MigrateCommand() {}

    static int run(Path homeDir, List<String> args, PrintStream out, PrintStream err) {
        if (!args.equals(List.of("--from", "sqlite", "--to", "postgres"))) {
            err.println(USAGE);
            return 2;
        }
        Home home = new Home(homeDir);
        if (!Files.isRegularFile(home.database())) {
            err.println("cordon migrate: no SQLite store at " + home.database() + ": nothing to migrate");
            return 2;
        }
        StoreChoice.Postgres target;
        byte[] password;
        try {
            if (!(StoreChoice.of(home) instanceof StoreChoice.Postgres postgres)) {
                err.println("cordon migrate: " + home.root().resolve("cordon.yaml") + " must name the target first:\n"
                        + "  store:\n    kind: postgres\n    url: jdbc:postgresql://HOST:5432/DATABASE\n"
                        + "    user: USER\n    password_secret: NAME   # cordon secret set NAME --host-only");
                return 2;
            }
            target = postgres;
            password = Vault.open(home.vault(), home.vaultKey())
                    .reveal(target.passwordSecret())
                    .orElseThrow(() -> new ConfigException("store.password_secret: the vault has no secret "
                            + target.passwordSecret() + "; store the password with: cordon secret set "
                            + target.passwordSecret() + " --host-only"));
        } catch (ConfigException e) {
            err.println("cordon migrate: " + e.getMessage());
            return 2;
        }
        try {
            Files.createDirectories(home.run());
        } catch (IOException e) {
            err.println("cordon migrate: cannot create " + home.run() + ": " + e.getMessage());
            return 1;
        }
        try (FileChannel lockFile = FileChannel.open(
                        home.run().resolve("daemon.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = lockFile.tryLock()) {
            if (lock == null) {
                err.println("cordon migrate: a Cordon daemon is serving " + home.root()
                        + ": stop it first (cordon stop), so that nothing changes while the data is copied");
                return 1;
            }
            return migrate(home, target, new String(password, StandardCharsets.UTF_8), out, err);
        } catch (IOException e) {
            err.println("cordon migrate: cannot take the daemon's lock: " + e.getMessage());
            return 1;
        } finally {
            Arrays.fill(password, (byte) 0);
        }
    }

    private static int migrate(
            Home home, StoreChoice.Postgres target, String password, PrintStream out, PrintStream err) {
        out.println("Copying " + home.database() + " into " + target.url() + " …");
        Map<String, Long> copied;
        try {
            copied = Stores.copySqliteToPostgres(home.database(), target.url(), target.user(), password);
        } catch (StoreException e) {
            err.println("cordon migrate: " + e.getMessage());
            err.println("Nothing was changed: the SQLite store is as it was and the target holds no copied row.");
            return 1;
        }
        copied.forEach((table, rows) -> out.printf("  %-18s %,d%n", table, rows));
        Path publicKey = AuditKeys.publicKeyFile(home.auditKey());
        if (!Files.isRegularFile(publicKey)) {
            out.println("Copied. No audit key at " + publicKey + ", so the audit chain was not verified.");
            return 0;
        }
        try (Store store = StoreChoice.open(home, target, Clock.systemUTC())) {
            AuditVerification result = AuditLogs.verify(store.audit(), AuditKeys.readPublicKey(publicKey));
            out.println("audit chain in " + target.url() + ": " + result.summary());
            if (!result.ok()) {
                err.println("cordon migrate: the copied audit chain does not verify; run 'cordon audit verify'"
                        + " with store: kind: sqlite to see whether the original does");
                return 1;
            }
        }
        out.println("Done. The daemon uses PostgreSQL from its next start; " + home.database()
                + " is kept as it was (a backup, and the way back).");
        return 0;
    }
}
