package dev.cordon.server;

import dev.cordon.server.demo.EscapeDemo;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

/**
 * The daemon's entry point: {@code daemon --home DIR} serves until stopped; {@code doctor} prints
 * what this host supports; {@code audit verify|tail|export} reads the audit log; {@code policy
 * check|schema|explain} validates and explains agents' policies; {@code usage} shows model spending;
 * {@code migrate --from sqlite --to postgres} moves the store (docs/store.md).
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        List<String> rest = Arrays.asList(args);
        // --home DIR may come before the command too: cordon --home DIR audit verify
        List<String> words = withoutHome(rest);
        String command = words.isEmpty() ? "help" : words.getFirst();
        switch (command) {
            case "daemon" -> System.exit(daemon(home(rest)));
            case "doctor" -> System.exit(Doctor.print(System.out, home(rest)));
            case "policy" -> System.exit(policy(home(rest), words.subList(1, words.size())));
            case "audit" ->
                System.exit(AuditCommand.run(home(rest), words.subList(1, words.size()), System.out, System.err));
            case "usage" ->
                System.exit(UsageCommand.run(
                        home(rest),
                        System.getenv(),
                        words.subList(1, words.size()),
                        java.time.Clock.systemUTC(),
                        System.out,
                        System.err));
            case "migrate" ->
                System.exit(MigrateCommand.run(home(rest), words.subList(1, words.size()), System.out, System.err));
            case "secret" ->
                System.exit(SecretCommand.run(
                        new Home(home(rest)), words.subList(1, words.size()), System.in, System.out, System.err));
            case "demo" -> System.exit(EscapeDemo.command(words.subList(1, words.size()), System.out, runnerLib()));
            default -> {
                System.err.println(
                        "usage: dev.cordon.server.Main daemon [--home DIR] | doctor | demo escape | audit ... | policy check FILE|schema|explain AGENT | secret ... | usage [--days N] [--by agent|chat|model] | migrate --from sqlite --to postgres");
                System.exit(2);
            }
        }
    }

    /** {@code policy check FILE | schema | explain AGENT}: see {@link PolicyCommand}. */
    static int policy(Path homeDir, List<String> args) {
        return PolicyCommand.run(homeDir, System.getenv(), args, System.out, System.err);
    }

    private static List<String> withoutHome(List<String> args) {
        List<String> rest = new java.util.ArrayList<>(args);
        int i = rest.indexOf("--home");
        if (i >= 0) {
            rest.subList(i, Math.min(i + 2, rest.size())).clear();
        }
        return rest;
    }

    private static Path home(List<String> args) {
        int i = args.indexOf("--home");
        if (i >= 0 && i + 1 < args.size()) {
            return Path.of(args.get(i + 1));
        }
        String env = System.getenv("CORDON_HOME");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cordon");
    }

    private static int daemon(Path homeDir) throws IOException, InterruptedException {
        Files.createDirectories(homeDir.resolve("logs"));
        // Must be set before the first logger is created: logback.xml writes to this folder.
        System.setProperty(
                "cordon.logdir", homeDir.resolve("logs").toAbsolutePath().toString());
        Files.createDirectories(homeDir.resolve("run"));
        try (FileChannel lockFile = FileChannel.open(
                        homeDir.resolve("run/daemon.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = lockFile.tryLock()) {
            if (lock == null) {
                System.err.println("another Cordon daemon is already serving " + homeDir);
                return 1;
            }
            Daemon daemon;
            try {
                LogFormat format;
                try {
                    format = LogFormat.load(homeDir.resolve("cordon.yaml"));
                } catch (ConfigException e) {
                    format = LogFormat.TEXT; // Daemon.start refuses the file, with its other mistakes
                }
                format.apply((ch.qos.logback.classic.LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory());
                daemon = Daemon.start(homeDir, System.getenv(), runnerLib());
            } catch (ConfigException e) {
                System.err.println("cordon: " + e.getMessage());
                return 2;
            }
            Runtime.getRuntime().addShutdownHook(new Thread(daemon::stop, "shutdown"));
            daemon.awaitStop();
            return 0;
        }
    }

    /**
     * Where the runner's jars are: {@code CORDON_RUNNER_LIB}, else {@code runner/target/lib} of the
     * source tree this daemon was built in.
     */
    static Path runnerLib() {
        String env = System.getenv("CORDON_RUNNER_LIB");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        try {
            Path here = Path.of(Main.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            for (Path dir = here; dir != null; dir = dir.getParent()) {
                Path candidate = dir.resolve("runner/target/lib");
                if (Files.isDirectory(candidate)) {
                    return candidate;
                }
            }
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException(
                "cannot find the runner's jars (runner/target/lib); build with ./mvnw package or set CORDON_RUNNER_LIB");
    }
}
