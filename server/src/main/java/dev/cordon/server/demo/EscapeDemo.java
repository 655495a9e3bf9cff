package dev.cordon.server.demo;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditKeys;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.audit.AuditStorage;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Wire;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.server.Daemon;
import dev.cordon.store.Stores;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code cordon demo escape}: a scripted adversarial agent attacks its own sandbox, and the demo
 * prints, per attack, what it tried and what stopped it.
 *
 * <p>Everything but the model is real: a daemon on a temporary home, the bubblewrap sandbox with
 * its seccomp filter and cgroup limits, the runner, the host's model gateway. The model is the
 * testkit's {@link FakeModelServer} playing {@link Attacks#all} as tool calls, and the output says
 * so. The results are read back from the requests the fake received, i.e. from exactly what a
 * model would have seen.
 *
 * <p>Blocks for 10 to 30 seconds; starts sandboxes, so it needs what {@code cordon doctor}
 * checks. Leaves nothing behind: the temporary home is deleted whatever happens.
 */
public final class EscapeDemo {
    static final String ATTACKER = "main";
    static final String VICTIM = "victim";
    static final int ROUNDS = 3;
    private static final Duration ROUND_TIMEOUT = Duration.ofSeconds(120);
    private static final int WIDTH = 100;

    private EscapeDemo() {}

    /**
     * The {@code cordon demo} command: {@code args} are the words after {@code demo}.
     *
     * @return the exit code: see {@link #run}; 2 for a usage error
     */
    public static int command(List<String> args, PrintStream out, Path runnerLib) {
        if (args.equals(List.of("escape"))) {
            return run(out, runnerLib);
        }
        out.println("usage: cordon demo escape");
        out.println("  escape   a scripted adversarial agent attacks a real sandbox; see what stops each attack");
        return 2;
    }

    /**
     * Runs the demo and prints it to {@code out}. Blocks until done (10 to 30 seconds, each turn
     * bounded by two minutes). When the system property {@code cordon.logdir} is unset it is set to
     * the temporary home's {@code logs/}, so the daemon's log does not land in the working directory.
     *
     * @param runnerLib the runner's jars, as the daemon takes them
     * @return 0 if every attack was stopped (or skipped for a missing program), 1 if one escaped or
     *     could not be shown to be stopped, 2 if the demo could not run at all
     */
    public static int run(PrintStream out, Path runnerLib) {
        try {
            Report report = execute(runnerLib, out);
            if (report == null) {
                return 2;
            }
            return report.allStopped() ? 0 : 1;
        } catch (IOException | UncheckedIOException | SandboxException | IllegalStateException e) {
            out.println();
            out.println("cordon demo: could not run the demo: " + e.getMessage());
            out.println("Run ./cordon doctor to see what this host is missing.");
            return 2;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            out.println("cordon demo: interrupted");
            return 2;
        }
    }

    /** One attack's result. */
    record Outcome(Attack attack, String output, Attack.Finding finding) {
        Verdict verdict() {
            return finding.verdict();
        }
    }

    /** What the host recorded, read from its store and logs after the daemon stopped. */
    record HostRecord(
            int turns,
            int failedTurns,
            int modelCalls,
            int modelCallsWithKey,
            int toolCalls,
            int toolResults,
            int attackerSandboxes,
            int victimSandboxes) {}

    /** Everything the demo found. */
    /**
     * What the audit log holds after the run.
     *
     * @param counts entries per "action decision", in first-seen order
     * @param verification the chain's verification, one line
     */
    record AuditRecord(Map<String, Long> counts, String verification, long entries) {}

    record Report(List<Outcome> outcomes, HostRecord host, AuditRecord audit) {
        long count(Class<? extends Verdict> kind) {
            return outcomes.stream().filter(o -> kind.isInstance(o.verdict())).count();
        }

        boolean allStopped() {
            return outcomes.stream()
                    .allMatch(o -> o.verdict() instanceof Verdict.Stopped || o.verdict() instanceof Verdict.Skipped);
        }
    }

    /**
     * Runs the attacks, printing as it goes.
     *
     * @return the report, or null if no attack could run (the reason is printed)
     */
    static Report execute(Path runnerLib, PrintStream out) throws IOException, InterruptedException {
        Path home = Files.createTempDirectory(
                "cordon-demo-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        // The daemon's log goes to the home's logs/, as it does for `cordon daemon` (logback reads
        // this once, on first use; a caller that set it already keeps its own).
        if (System.getProperty("cordon.logdir") == null) {
            System.setProperty("cordon.logdir", home.resolve("logs").toString());
        }
        try {
            return execute(home, runnerLib, out);
        } finally {
            deleteTree(home);
        }
    }

    private static Report execute(Path home, Path runnerLib, PrintStream out) throws IOException, InterruptedException {
        SecureRandom random = new SecureRandom();
        String key = "sk-ant-api03-" + hex(random, 24) + "-DEMO";
        String secret = "victim-secret-" + hex(random, 12);
        String canary = "canary-" + hex(random, 12);
        Path attackerWorkspace =
                Files.createDirectories(home.resolve("agents").resolve(ATTACKER).resolve("workspace"));
        Path victimWorkspace =
                Files.createDirectories(home.resolve("agents").resolve(VICTIM).resolve("workspace"));
        Files.writeString(victimWorkspace.resolve("secret.txt"), secret + "\n");
        Files.writeString(attackerWorkspace.resolve(".canary"), canary + "\n");
        Files.writeString(
                home.resolve("agents").resolve(ATTACKER).resolve("policy.yaml"),
                "sandbox:\n  disk_mb: " + Attacks.DEMO_DISK_MB + "\n");
        // A host that cannot mount quotas (not root) still runs the demo; the disk attack then says so.
        Files.writeString(home.resolve("cordon.yaml"), "sandbox:\n  unenforced_limits: [disk]\n");

        header(out, home);
        try (FakeModelServer fake = FakeModelServer.start();
                ServerSocket bait = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            fake.requireApiKey(key);
            AtomicInteger baitConnections = new AtomicInteger();
            Thread.ofVirtual().name("demo-bait").start(() -> {
                while (!bait.isClosed()) {
                    try (Socket s = bait.accept()) {
                        baitConnections.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            List<Attack> attacks =
                    Attacks.all(new Attacks.Target(home, bait.getLocalPort(), base64(key), base64(canary)));
            out.println("Listening on the host's 127.0.0.1:" + bait.getLocalPort()
                    + "; the fake model requires an API key that no sandbox is given.");
            out.println();

            List<Outcome> outcomes = new ArrayList<>();
            List<ControlEvent.Reply> replies = new ArrayList<>();
            AuditRecord audit;
            Daemon daemon = Daemon.start(
                    home,
                    Map.of(
                            "ANTHROPIC_API_KEY",
                            key,
                            "ANTHROPIC_BASE_URL",
                            fake.baseUrl().toString()),
                    runnerLib);
            try {
                for (int round = 1; round <= ROUNDS; round++) {
                    int r = round;
                    List<Attack> batch =
                            attacks.stream().filter(a -> a.round() == r).toList();
                    out.println("Round " + round + " of " + ROUNDS + ": " + describeRound(round, batch.size()));
                    for (Attack a : batch) {
                        ObjectNode input = Wire.mapper().createObjectNode();
                        input.put("command", a.command());
                        input.put("timeout_ms", a.timeout().toMillis());
                        fake.enqueue(Scripted.toolCalls(new Scripted.ToolCall(a.id(), "bash", input)));
                    }
                    fake.enqueue(Scripted.text("Round " + round + " done."));
                    long started = System.nanoTime();
                    ControlEvent.Reply reply;
                    try (ControlLink link = new ControlLink(daemon.controlSocket())) {
                        reply = link.ask(
                                ATTACKER,
                                "Scripted adversarial agent, round " + round + ": try to get out.",
                                ROUND_TIMEOUT);
                    }
                    replies.add(reply);
                    Map<String, String> results = toolResults(fake.requests());
                    if (round == 1 && batch.stream().noneMatch(a -> results.containsKey(a.id()))) {
                        out.println();
                        out.println("cordon demo: no attack ran, so there is nothing to show: " + reply.text());
                        out.println("Run ./cordon doctor to see what this host is missing.");
                        return null;
                    }
                    for (Attack a : batch) {
                        Outcome o = judge(a, results.get(a.id()), reply, key, secret, baitConnections.get());
                        outcomes.add(o);
                        print(out, outcomes.size(), o);
                    }
                    out.printf(
                            "   (round %d took %.1f s%s)%n%n",
                            round,
                            (System.nanoTime() - started) / 1e9,
                            reply.failed() ? "; the turn failed: " + reply.text() : "");
                }
            } finally {
                daemon.close();
            }
            // Read after the stop, as an auditor would: the daemon signs a last checkpoint as it stops.
            audit = auditRecord(home);
            List<RecordedRequest> requests = fake.requests();
            int keyed = (int) requests.stream()
                    .filter(r -> r.header("x-api-key").filter(key::equals).isPresent())
                    .count();
            HostRecord host = hostRecord(home, replies, requests.size(), keyed);
            Report report = new Report(List.copyOf(outcomes), host, audit);
            summary(out, report);
            return report;
        }
    }

    private static AuditRecord auditRecord(Path home) {
        try (Store store = Stores.sqlite(home.resolve("data").resolve("cordon.db"))) {
            AuditStorage log = store.audit();
            Map<String, Long> counts = new java.util.LinkedHashMap<>();
            long entries = 0;
            List<AuditEntry> page;
            long after = 0;
            while (!(page = log.read(after, 1_000)).isEmpty()) {
                for (AuditEntry e : page) {
                    counts.merge(
                            e.event().action() + " (" + e.event().decision().label() + ")", 1L, Long::sum);
                    entries++;
                }
                after = page.getLast().seq();
            }
            PublicKey key = AuditKeys.readPublicKey(
                    AuditKeys.publicKeyFile(home.resolve("keys").resolve("audit-ed25519")));
            return new AuditRecord(counts, AuditLogs.verify(log, key).summary(), entries);
        }
    }

    private static String describeRound(int round, int attacks) {
        return switch (round) {
            case 1 -> attacks + " probes in one turn, each a bash tool call";
            case 2 -> "exhausting processes and /tmp, in a turn of their own";
            default -> "the memory bomb, last and alone: the OOM killer may take the whole sandbox with it";
        };
    }

    static Outcome judge(
            Attack attack, String output, ControlEvent.Reply reply, String key, String secret, int baitConnections) {
        if (output == null) {
            boolean killed = reply.failed() && reply.text().contains("status 137");
            if (killed && attack.ifSandboxKilled() != null) {
                return new Outcome(
                        attack,
                        null,
                        new Attack.Finding(
                                new Verdict.Stopped(attack.ifSandboxKilled()), "no result: " + reply.text()));
            }
            return new Outcome(
                    attack,
                    null,
                    new Attack.Finding(new Verdict.Unclear("no result came back: " + reply.text()), "(no result)"));
        }
        // Whatever the judge says, these are escapes.
        if (output.contains(key)) {
            return new Outcome(
                    attack,
                    output,
                    new Attack.Finding(new Verdict.Escaped("the output holds the API key"), "(redacted)"));
        }
        if (output.contains(secret)) {
            return new Outcome(
                    attack,
                    output,
                    new Attack.Finding(
                            new Verdict.Escaped("the output holds the victim's secret"), Attack.firstLine(output)));
        }
        if (attack.id().equals("toolu_demo_loopback") && baitConnections > 0) {
            return new Outcome(
                    attack,
                    output,
                    new Attack.Finding(
                            new Verdict.Escaped("the host's listener accepted " + baitConnections + " connection(s)"),
                            Attack.firstLine(output)));
        }
        return new Outcome(attack, output, attack.judge().judge(output));
    }

    /** tool_use_id → the text of its tool_result, over every request the fake received. */
    static Map<String, String> toolResults(List<RecordedRequest> requests) {
        Map<String, String> results = new HashMap<>();
        for (RecordedRequest request : requests) {
            JsonNode messages = request.body().path("messages");
            for (JsonNode message : messages) {
                JsonNode content = message.path("content");
                if (!content.isArray()) {
                    continue;
                }
                for (JsonNode block : content) {
                    if (!"tool_result".equals(block.path("type").asString(""))) {
                        continue;
                    }
                    JsonNode c = block.path("content");
                    String text;
                    if (c.isString()) {
                        text = c.asString();
                    } else {
                        StringBuilder b = new StringBuilder();
                        c.forEach(part -> b.append(part.path("text").asString("")));
                        text = b.toString();
                    }
                    results.putIfAbsent(block.path("tool_use_id").asString(""), text);
                }
            }
        }
        return results;
    }

    private static HostRecord hostRecord(
            Path home, List<ControlEvent.Reply> replies, int modelCalls, int modelCallsWithKey) throws IOException {
        int toolCalls = 0;
        int toolResults = 0;
        Store store = Stores.sqlite(home.resolve("data").resolve("cordon.db"));
        try {
            for (var session : store.sessions()) {
                for (var message : store.transcript(session.id())) {
                    for (Part part : message.parts()) {
                        if (part instanceof Part.ToolUse) {
                            toolCalls++;
                        } else if (part instanceof Part.ToolResult) {
                            toolResults++;
                        }
                    }
                }
            }
        } finally {
            store.close();
        }
        int attacker = 0;
        int victim = 0;
        Path logs = home.resolve("logs").resolve("sandboxes");
        if (Files.isDirectory(logs)) {
            try (Stream<Path> files = Files.list(logs)) {
                for (Path f : files.toList()) {
                    String name = f.getFileName().toString();
                    if (name.startsWith(ATTACKER + "-")) {
                        attacker++;
                    } else if (name.startsWith(VICTIM + "-")) {
                        victim++;
                    }
                }
            }
        }
        int failed = (int) replies.stream().filter(ControlEvent.Reply::failed).count();
        return new HostRecord(
                replies.size(), failed, modelCalls, modelCallsWithKey, toolCalls, toolResults, attacker, victim);
    }

    private static void header(PrintStream out, Path home) {
        out.println("Cordon escape demo");
        out.println();
        out.println(wrap(
                "Scripted adversarial agent (fake model, no real AI): the \"model\" is Cordon's test fake, playing a "
                        + "fixed script of attacks as bash tool calls. Everything else is real: the daemon, the "
                        + "bubblewrap sandbox, its seccomp filter and cgroup limits, the runner inside, the host's "
                        + "model gateway.",
                ""));
        out.println();
        out.println(wrap(
                "Set-up: a temporary Cordon home, <home> = " + home + " (deleted at the end), with two agents: \""
                        + ATTACKER + "\", the attacker, and \"" + VICTIM + "\", whose workspace holds a secret. "
                        + "It takes 10 to 30 seconds.",
                ""));
    }

    private static void print(PrintStream out, int number, Outcome o) {
        Attack a = o.attack();
        out.printf("%3d  %s%n", number, a.title());
        out.println("       tried:  " + clip(a.tried(), WIDTH - 15));
        out.println("       result: " + clip(o.finding().result(), WIDTH - 15));
        out.println(wrap(o.verdict().label() + "  " + o.verdict().reason(), "       "));
    }

    private static void summary(PrintStream out, Report r) {
        HostRecord h = r.host();
        long stopped = r.count(Verdict.Stopped.class);
        long escaped = r.count(Verdict.Escaped.class);
        long unclear = r.count(Verdict.Unclear.class);
        long skipped = r.count(Verdict.Skipped.class);
        StringBuilder line = new StringBuilder("Summary: ")
                .append(r.outcomes().size())
                .append(" attacks, ")
                .append(stopped)
                .append(" stopped, ")
                .append(escaped)
                .append(" escaped");
        if (unclear > 0) {
            line.append(", ").append(unclear).append(" unclear (not shown to be stopped)");
        }
        if (skipped > 0) {
            line.append(", ").append(skipped).append(" skipped (a program missing in the sandbox)");
        }
        out.println(line.append('.'));
        out.println(wrap(
                "What the host recorded: " + h.turns() + " turns"
                        + (h.failedTurns() > 0 ? " (" + h.failedTurns() + " ended by the sandbox being killed)" : "")
                        + "; " + h.modelCalls() + " model calls through the host's model gateway, "
                        + h.modelCallsWithKey() + " of them carrying the API key, added on the host's side; "
                        + h.toolCalls() + " tool calls and " + h.toolResults()
                        + " results in the session's stored transcript; "
                        + plural(h.attackerSandboxes(), "sandbox", "sandboxes") + " started for \"" + ATTACKER
                        + "\", " + h.victimSandboxes() + " for \"" + VICTIM + "\".",
                ""));
        AuditRecord a = r.audit();
        out.println(wrap(
                "The audit log (hash-chained, checkpoints signed with the host's Ed25519 key): " + a.entries()
                        + " entries: "
                        + a.counts().entrySet().stream()
                                .map(e -> e.getValue() + " " + e.getKey())
                                .collect(java.util.stream.Collectors.joining(", "))
                        + ". Verify: " + a.verification(),
                ""));
        out.println(wrap(
                "The egress proxy's other walls (the address guard against SSRF and DNS rebinding, secrets filled"
                        + " in only at their endpoint, the data-loss guard) are attacked from real sandboxes by the"
                        + " tests: see docs/egress.md and docs/security.md.",
                ""));
        out.println(
                r.allStopped()
                        ? "Nothing escaped."
                        : "SOMETHING WAS NOT STOPPED: that is a security finding; please report it with this output.");
    }

    private static String plural(long n, String one, String many) {
        return n + " " + (n == 1 ? one : many);
    }

    private static String clip(String s, int max) {
        String one = s.replace('\n', ' ');
        return one.length() <= max ? one : one.substring(0, max - 1) + "…";
    }

    /** Wraps at {@link #WIDTH}, every line after the first indented like the first. */
    private static String wrap(String text, String indent) {
        StringBuilder b = new StringBuilder(indent);
        int col = indent.length();
        for (String word : text.split(" ")) {
            if (col > indent.length() && col + 1 + word.length() > WIDTH) {
                b.append('\n').append(indent);
                col = indent.length();
            } else if (col > indent.length()) {
                b.append(' ');
                col++;
            }
            b.append(word);
            col += word.length();
        }
        return b.toString();
    }

    private static String hex(SecureRandom random, int bytes) {
        byte[] b = new byte[bytes];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Deletes {@code root} and everything under it without following links: the attacker planted
     * links to host paths in its workspace. Directories it made unreadable are opened up first.
     * Best effort.
     */
    static void deleteTree(Path root) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    try {
                        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
                    } catch (IOException | UnsupportedOperationException e) {
                        // deleting it will say whether this mattered
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // Best effort: a leftover temporary directory holds nothing of the host's.
        }
    }
}
