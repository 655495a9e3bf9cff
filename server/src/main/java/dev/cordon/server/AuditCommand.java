package dev.cordon.server;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditJson;
import dev.cordon.core.audit.AuditKeys;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.audit.AuditStorage;
import dev.cordon.core.audit.AuditVerification;
import dev.cordon.core.store.Store;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code cordon audit verify|tail|export}: reads the audit log straight from the home's store
 * (cordon.yaml {@code store:}), whether or not a daemon is running (SQLite lets readers in beside
 * the daemon's writer; PostgreSQL any number of clients). Never
 * appends: verifying does not sign anything.
 */
final class AuditCommand {
    private static final int PAGE = 1_000;

    private AuditCommand() {}

    static final String USAGE = """
            usage: cordon audit verify [--key PUBLIC_KEY_FILE]
                   cordon audit tail [-n COUNT] [--follow]
                   cordon audit export [--format jsonl]
              verify   check the hash chain and every signed checkpoint; exit 1 at the first broken entry
              tail     the last COUNT entries (default 20), one per line; --follow waits for more
              export   every entry as JSON lines with OCSF-style field names (docs/audit.md)""";

    /** Runs the command in {@code args} (the words after {@code audit}) against {@code home}; returns the exit code. */
    static int run(Path homeDir, List<String> args, PrintStream out, PrintStream err) throws InterruptedException {
        Home home = new Home(homeDir);
        if (args.isEmpty()) {
            err.println(USAGE);
            return 2;
        }
        Store opened = StoreChoice.openExisting(home, err);
        if (opened == null) {
            return 2;
        }
        try (Store store = opened) {
            AuditStorage log = store.audit();
            return switch (args.getFirst()) {
                case "verify" -> verify(log, keyFile(home, args), out, err);
                case "tail" -> tail(log, args, out);
                case "export" -> export(log, args, out, err);
                default -> {
                    err.println(USAGE);
                    yield 2;
                }
            };
        }
    }

    private static Path keyFile(Home home, List<String> args) {
        int i = args.indexOf("--key");
        return i >= 0 && i + 1 < args.size() ? Path.of(args.get(i + 1)) : AuditKeys.publicKeyFile(home.auditKey());
    }

    private static int verify(AuditStorage log, Path publicKey, PrintStream out, PrintStream err) {
        if (!Files.isRegularFile(publicKey)) {
            err.println("cordon: no public key at " + publicKey + " (pass --key FILE)");
            return 2;
        }
        long started = System.nanoTime();
        AuditVerification result = AuditLogs.verify(log, AuditKeys.readPublicKey(publicKey));
        out.println(result.summary());
        out.printf("(checked against %s in %d ms)%n", publicKey, (System.nanoTime() - started) / 1_000_000);
        return result.ok() ? 0 : 1;
    }

    private static int tail(AuditStorage log, List<String> args, PrintStream out) throws InterruptedException {
        int n = 20;
        int i = args.indexOf("-n");
        if (i >= 0 && i + 1 < args.size()) {
            n = Integer.parseInt(args.get(i + 1));
        }
        long after = Math.max(0, log.head().seq() - n);
        boolean follow = args.contains("--follow") || args.contains("-f");
        while (true) {
            List<AuditEntry> page = log.read(after, PAGE);
            page.forEach(e -> out.println(line(e)));
            out.flush();
            if (!page.isEmpty()) {
                after = page.getLast().seq();
            } else if (follow) {
                Thread.sleep(500);
            } else {
                return 0;
            }
        }
    }

    private static int export(AuditStorage log, List<String> args, PrintStream out, PrintStream err) {
        int i = args.indexOf("--format");
        if (i >= 0 && (i + 1 >= args.size() || !args.get(i + 1).equals("jsonl"))) {
            err.println("cordon: the only export format is jsonl");
            return 2;
        }
        long after = 0;
        while (true) {
            List<AuditEntry> page = log.read(after, PAGE);
            if (page.isEmpty()) {
                return 0;
            }
            page.forEach(e -> out.println(AuditJson.jsonl(e)));
            after = page.getLast().seq();
        }
    }

    /** {@code 42 2026-11-22T03:04:05.678Z deny sandbox.kill main#3 system:sessions [rule] reason {details}}. */
    static String line(AuditEntry entry) {
        AuditEvent e = entry.event();
        StringBuilder b = new StringBuilder()
                .append(entry.seq())
                .append(' ')
                .append(e.time())
                .append(' ')
                .append(e.decision().label())
                .append(' ')
                .append(e.action());
        if (e.agent() != null) {
            b.append(' ').append(e.agent().value());
            if (e.session() != null) {
                b.append('#').append(e.session().value());
            }
        }
        b.append(' ')
                .append(e.actor().kind().label())
                .append(':')
                .append(e.actor().id());
        if (e.rule() != null) {
            b.append(" [").append(e.rule()).append(']');
        }
        if (e.reason() != null) {
            b.append(' ').append(e.reason().replace('\n', ' '));
        }
        if (!e.details().isEmpty()) {
            b.append(' ')
                    .append(e.details().entrySet().stream()
                            .map(d -> d.getKey() + "=" + d.getValue())
                            .collect(Collectors.joining(" ", "{", "}")));
        }
        return b.toString();
    }
}
