package dev.cordon.bench;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.server.Runners;
import dev.cordon.testkit.FakeModelServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Memory per live idle session: a real daemon in its own process ({@link DaemonProcess}) with
 * {@code --sessions} sessions, each of which has answered one message (fake model) and sits idle
 * with its sandbox up. Per sandbox it sums RSS and PSS (shared pages split among the processes that
 * map them) of every process in it, reads its cgroup's memory charge, breaks its JVM's PSS down by
 * mapping, and adds the daemon's own growth per session; then extrapolates from {@code
 * MemAvailable}. The baseline, measured in the same run: an idle JVM with the runner's flags outside
 * any sandbox.
 *
 * <pre>
 * java -cp 'bench/target/lib/*' dev.cordon.bench.SessionDensity [--sessions 25] [--settle 15]
 *      [--flags [--per-variant 4]] [--runner-lib DIR] [--keep]
 * </pre>
 *
 * {@code --flags} then compares runner JVM flag variants: idle runners started the daemon's way
 * ({@link Runners}) right after Ready, each variant with an AOT cache trained for its flags.
 */
public final class SessionDensity {
    private static final String AOT = "AOT cache (file)";
    private static final String ANON = "anonymous (heap, metaspace, code cache, malloc)";

    private SessionDensity() {}

    /** What one sandbox holds, in kB. */
    private record Sandbox(
            int processes, long rss, long pss, long jvmRss, long jvmPss, Map<String, Long> jvmByMapping) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Options.parse(args, List.of("--keep", "--flags"));
        int sessions = Options.integer(options, "--sessions", 25);
        int settle = Options.integer(options, "--settle", 15);
        Path runnerLib = Options.runnerLib(options);
        Path root = Files.createTempDirectory(Path.of("/tmp"), "cd");
        long availableAtStart = ProcStats.meminfoKb("MemAvailable");
        System.out.printf(
                "SessionDensity: %d live idle sessions; MemTotal %,d MB, MemAvailable %,d MB; %s%n",
                sessions, ProcStats.meminfoKb("MemTotal") >> 10, availableAtStart >> 10, Stats.machine());
        List<Sandbox> sandboxes = new ArrayList<>();
        List<Long> charges = new ArrayList<>();
        long daemonIdle;
        long daemonLoaded;
        long availableBefore;
        long availableAfter;
        long[] baseline;
        try (FakeModelServer model = FakeModelServer.start()) {
            Path home = root.resolve("home");
            List<String> agents = BenchHomes.create(home, BenchHomes.roomFor(sessions), "d", sessions);
            try (DaemonProcess daemon = DaemonProcess.start(home, model, runnerLib);
                    ControlClient control = new ControlClient(daemon.controlSocket())) {
                // The first session trains the AOT cache; the others then start from it.
                say(daemon, agents.getFirst());
                BenchHomes.awaitCache(home);
                control.send(new ControlRequest.SessionsKill(
                        control.status().sandboxes().getFirst().session()));
                control.await(ControlEvent.Done.class);
                control.awaitLive(0, Duration.ofSeconds(30));
                TimeUnit.SECONDS.sleep(settle);
                daemonIdle = ProcStats.statusKb(daemon.pid(), "VmRSS");
                availableBefore = ProcStats.meminfoKb("MemAvailable");
                for (String agent : agents) {
                    say(daemon, agent);
                }
                control.awaitLive(sessions, Duration.ofSeconds(60));
                // Idle: compilations and the turns' garbage settle, heartbeats stop with the turn.
                TimeUnit.SECONDS.sleep(settle);
                availableAfter = ProcStats.meminfoKb("MemAvailable");
                daemonLoaded = ProcStats.statusKb(daemon.pid(), "VmRSS");
                for (ProcessHandle child :
                        ProcessHandle.of(daemon.pid()).orElseThrow().children().toList()) {
                    Sandbox s = sandbox(child.pid());
                    if (s != null) {
                        sandboxes.add(s);
                    }
                }
                control.send(new ControlRequest.SessionsList(0));
                for (ControlEvent.SessionRow row :
                        control.await(ControlEvent.SessionListing.class).sessions()) {
                    if (row.memoryBytes() >= 0) {
                        charges.add(row.memoryBytes() >> 10);
                    }
                }
                baseline = idleJvm();
            }
        } finally {
            BenchHomes.cleanUp(root, options);
        }
        System.out.printf("load at end %s; %d sandboxes found%n%n", Stats.load(), sandboxes.size());
        System.out.printf("%-44s %8s %8s %8s %8s%n", "per live idle session (MB)", "median", "min", "max", "sum");
        row(
                "PSS, every process in the sandbox",
                sandboxes.stream().map(Sandbox::pss).toList());
        row(
                "RSS, every process in the sandbox",
                sandboxes.stream().map(Sandbox::rss).toList());
        row("PSS, the runner JVM", sandboxes.stream().map(Sandbox::jvmPss).toList());
        row("RSS, the runner JVM", sandboxes.stream().map(Sandbox::jvmRss).toList());
        row("cgroup memory charge", charges);
        row(
                "processes per sandbox (count, not MB)",
                sandboxes.stream().map(s -> (long) s.processes() << 10).toList());
        long daemonPer = (daemonLoaded - daemonIdle) / Math.max(1, sandboxes.size());
        long availablePer = (availableBefore - availableAfter) / Math.max(1, sandboxes.size());
        long pss = median(sandboxes.stream().map(Sandbox::pss).toList());
        System.out.printf(
                Locale.ROOT,
                "%-44s %8.1f   (daemon RSS %,d -> %,d MB)%n",
                "daemon RSS growth per session",
                daemonPer / 1024.0,
                daemonIdle >> 10,
                daemonLoaded >> 10);
        // Other processes on a shared machine move MemAvailable too: a rise says nothing about ours.
        System.out.printf(
                Locale.ROOT,
                "%-44s %8.1f%s%n",
                "MemAvailable drop per session",
                availablePer / 1024.0,
                availablePer <= 0 ? "   (unusable: other processes freed more than the sessions took)" : "");
        System.out.printf(
                Locale.ROOT,
                "%-44s %8.1f   (RSS %.1f; %s)%n",
                "baseline: idle JVM, runner flags, PSS",
                baseline[1] / 1024.0,
                baseline[0] / 1024.0,
                String.join(" ", Runners.defaultJvmFlags(Runners.DEFAULT_HEAP_MB)));
        long perSession = pss + daemonPer;
        System.out.printf(
                Locale.ROOT,
                "%nper session: sandbox PSS + daemon growth = %.1f MB (%.2f x the idle JVM); MemAvailable %,d MB at"
                        + " start / that = about %,d live sessions (by the MemAvailable drop: %s)%n",
                perSession / 1024.0,
                (double) pss / baseline[1],
                availableAtStart >> 10,
                availableAtStart / Math.max(1, perSession),
                availablePer <= 0 ? "unusable" : Long.toString(availableAtStart / availablePer));
        Map<String, List<Long>> mappings = new TreeMap<>();
        sandboxes.forEach(s -> s.jvmByMapping()
                .forEach((k, v) ->
                        mappings.computeIfAbsent(k, x -> new ArrayList<>()).add(v)));
        System.out.printf("%n%-50s %8s%n", "the runner JVM's PSS by mapping (MB)", "median");
        mappings.forEach(
                (kind, values) -> System.out.printf(Locale.ROOT, "%-50s %8.1f%n", kind, median(values) / 1024.0));
        if (options.containsKey("--flags")) {
            Path scratch = Files.createTempDirectory(Path.of("/tmp"), "cf");
            try {
                flagVariants(scratch, runnerLib, Options.integer(options, "--per-variant", 4));
            } finally {
                ColdStart.deleteTree(scratch);
            }
        }
    }

    /** Runner JVM flag variants to compare, each added to the daemon's defaults. */
    private static final List<List<String>> VARIANTS = List.of(
            List.of(),
            // The earlier default: the AOT cache relocated to a random address.
            List.of("-XX:ArchiveRelocationMode=1"),
            List.of("-Xms8m"),
            List.of("-Xss256k"),
            List.of("-XX:ReservedCodeCacheSize=16m"),
            List.of("-XX:MaxMetaspaceSize=64m"));

    /**
     * Runners started the daemon's way ({@link Runners}: same sandbox, limits and AOT cache
     * handling) with each flag variant, {@code perVariant} at once, measured idle after Ready.
     */
    private static void flagVariants(Path root, Path runnerLib, int perVariant) throws Exception {
        System.out.printf("%nrunner JVM flags, %d idle runners each, after Ready (MB; medians)%n", perVariant);
        System.out.printf(
                "%-70s %7s %7s %7s %7s %7s%n",
                "flags added to the defaults", "PSS", "RSS", "JVM PSS", "AOT PSS", "anon");
        long self = ProcessHandle.current().pid();
        for (List<String> extra : VARIANTS) {
            List<String> flags = new ArrayList<>(Runners.defaultJvmFlags(Runners.DEFAULT_HEAP_MB));
            flags.addAll(extra);
            Path home = Files.createTempDirectory(root, "f");
            Runners runners = Runners.bubblewrap(home, runnerLib, flags, true);
            if (!runners.awaitAotCache(Duration.ofMinutes(3))) {
                System.out.println(String.join(" ", extra) + ": no AOT cache was trained; skipped");
                continue;
            }
            List<Runners.Runner> started = new ArrayList<>();
            try {
                for (int i = 0; i < perVariant; i++) {
                    started.add(runners.launch());
                }
                TimeUnit.SECONDS.sleep(3);
                List<Sandbox> found = new ArrayList<>();
                for (ProcessHandle child :
                        ProcessHandle.of(self).orElseThrow().children().toList()) {
                    Sandbox s = sandbox(child.pid());
                    if (s != null) {
                        found.add(s);
                    }
                }
                System.out.printf(
                        Locale.ROOT,
                        "%-70s %7.1f %7.1f %7.1f %7.1f %7.1f%n",
                        extra.isEmpty() ? "(none: the defaults)" : String.join(" ", extra),
                        median(found.stream().map(Sandbox::pss).toList()) / 1024.0,
                        median(found.stream().map(Sandbox::rss).toList()) / 1024.0,
                        median(found.stream().map(Sandbox::jvmPss).toList()) / 1024.0,
                        median(found.stream()
                                        .map(f -> f.jvmByMapping().getOrDefault(AOT, 0L))
                                        .toList())
                                / 1024.0,
                        median(found.stream()
                                        .map(f -> f.jvmByMapping().getOrDefault(ANON, 0L))
                                        .toList())
                                / 1024.0);
            } finally {
                started.forEach(Runners.Runner::close);
            }
        }
    }

    /** Sends one message to {@code agent} on a connection of its own and waits for the reply. */
    private static void say(DaemonProcess daemon, String agent) throws IOException, InterruptedException {
        try (ControlClient client = new ControlClient(daemon.controlSocket())) {
            client.attach(agent);
            ControlEvent.Reply reply = client.exchange(agent, "hello").reply();
            if (reply.failed()) {
                throw new IllegalStateException("the first turn of " + agent + " failed: " + reply.text());
            }
        }
    }

    /** The sandbox under one child of the daemon, or null if that child holds no JVM (the spare shell). */
    private static Sandbox sandbox(long top) {
        List<Long> pids = ProcStats.tree(top);
        long rss = 0;
        long pss = 0;
        long jvm = -1;
        for (long pid : pids) {
            rss += ProcStats.rollupKb(pid, "Rss");
            pss += ProcStats.rollupKb(pid, "Pss");
            if (ProcStats.comm(pid).equals("java")) {
                jvm = pid;
            }
        }
        if (jvm < 0) {
            return null;
        }
        return new Sandbox(
                pids.size(),
                rss,
                pss,
                ProcStats.rollupKb(jvm, "Rss"),
                ProcStats.rollupKb(jvm, "Pss"),
                ProcStats.pssByMapping(jvm));
    }

    /**
     * RSS and PSS (kB) of an idle JVM with the runner's flags, outside any sandbox, after 3 s. It
     * runs in the bench's working directory: the class path may be relative.
     */
    private static long[] idleJvm() throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Runners.defaultJvmFlags(Runners.DEFAULT_HEAP_MB));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Idle.class.getName()));
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            TimeUnit.SECONDS.sleep(3);
            if (!p.isAlive()) {
                throw new IllegalStateException("the idle JVM exited with " + p.exitValue() + ": " + command);
            }
            return new long[] {ProcStats.rollupKb(p.pid(), "Rss"), ProcStats.rollupKb(p.pid(), "Pss")};
        } finally {
            p.destroy();
            p.waitFor();
        }
    }

    private static void row(String name, List<Long> kb) {
        if (kb.isEmpty()) {
            System.out.printf("%-44s (none)%n", name);
            return;
        }
        List<Long> sorted = kb.stream().sorted().toList();
        System.out.printf(
                Locale.ROOT,
                "%-44s %8.1f %8.1f %8.1f %8.1f%n",
                name,
                median(kb) / 1024.0,
                sorted.getFirst() / 1024.0,
                sorted.getLast() / 1024.0,
                kb.stream().mapToLong(Long::longValue).sum() / 1024.0);
    }

    private static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.isEmpty() ? 0 : sorted.get((sorted.size() - 1) / 2);
    }

    /** The baseline's program: a JVM that does nothing. */
    public static final class Idle {
        private Idle() {}

        public static void main(String[] args) throws InterruptedException {
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
